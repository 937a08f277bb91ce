"""What listings have shown of one kind's awaited jobs, and what follows from it.

A sweep lists the jobs IN_PROGRESS, and QUEUED only when it must. This module
decides, from what the listings showed, which awaited jobs are unfinished (no Get
needed: a listing that shows a job unfinished is as good as a Get that says so),
which may have ended (read soon) and which the QUEUED listing must look for. It
does no I/O and reads no clock.

Jobs only ever move QUEUED -> IN_PROGRESS -> COMPLETED or FAILED, and the service
starts queued jobs first in, first out. So the QUEUED backlog need not be listed
every sweep, which at the service's 10,000 queued jobs would be 100 pages:

* a job listed IN_PROGRESS is never QUEUED again;
* a job once listed QUEUED is still QUEUED while no job created after it has been
  seen IN_PROGRESS (the *frontier*: the newest creation time seen running);
* a job listed QUEUED and created before the frontier (strictly: jobs created in
  the same instant, or within the timestamps' resolution, start in an order the
  listings do not show) should have started: if it is not listed IN_PROGRESS, it
  went through quickly or the order was not kept, and the QUEUED listing must
  look for it. Found there, it is still QUEUED; absent from the whole listing, it
  may have ended.

The QUEUED listing runs newest first and stops once it has found every job it
looks for: jobs just started are on its first page.

Listings keep one order from one to the next (newest first, and jobs created in
the same instant always in the same order among themselves), so an IN_PROGRESS
listing that has gone past a running job without showing it will not show it:
the job may have ended, and is read before the listing's last page. "Past" is
known by creation time, and for jobs created in one instant by where the last
whole listing showed each job (its *place*): a listing that shows a job the last
one placed after X has gone past X. A listing that breaks either order turns
that inference off for good (see ``Sweeper``). Inference has one blind spot:
a queued job that started and ended between two sweeps (a short job, or a List
outage) while nothing created after it started. That is the tail of a batch, and
a short queue: while a page or less of awaited jobs is presumed queued
(``tail``), a sweep looks for them all, which costs one page (every other sweep
when sweeping to poll, every sweep when reconciling push: see ``Sweeper``).
Behind a longer queue, the oldest job presumed queued is left to its own safety
read. Everything here costs requests at worst, never a wrong event: a hint only
ever causes a Get, and the sweep's budget bounds what listings cost.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

Listed = Mapping[str, "datetime | None"]  # name -> CreationTime, as the summaries give


@dataclass(frozen=True, slots=True)
class Verdicts:
    """What one sweep concluded about the awaited jobs it started with."""

    unfinished: list[str] = field(default_factory=list)  # no Get needed now
    ended: list[str] = field(default_factory=list)  # may have ended: read soon
    # Any other awaited job has no verdict: it keeps its own safety read.


class Sightings:
    """The listings' memory of one kind's awaited jobs; owned by that kind's sweeper."""

    def __init__(self) -> None:
        self.running: dict[str, datetime | None] = {}  # name -> CreationTime
        self.place: dict[str, int] = {}  # running name -> index in the last whole listing
        self.queued: dict[str, datetime | None] = {}
        self.frontier: datetime | None = None
        self.recheck = False  # look for every job known QUEUED at the next sweep
        self.ended: set[str] = set()  # judged ended, their Gets not yet answered

    def to_look_for(self, awaited: Collection[str], *, tail: int = 0) -> set[str]:
        """The awaited jobs the QUEUED listing must find, from what is known so far:
        the jobs presumed queued too, when there are at most ``tail`` of them."""
        wanted: set[str] = set()
        presumed: list[str] = []
        recheck, self.recheck = self.recheck, False
        for name in awaited:
            if name in self.running or name in self.ended:
                continue  # never QUEUED again
            if recheck or name not in self.queued or self._passed(self.queued[name]):
                wanted.add(name)  # never listed, or should have started by now
            else:
                presumed.append(name)
        if len(presumed) <= tail:
            wanted.update(presumed)  # the blind spot: see the module docstring
        return wanted

    def saw_running(self, awaited: Collection[str], running: Listed) -> None:
        """Take a whole IN_PROGRESS listing: the frontier moves on, and the awaited
        jobs it shows are never QUEUED again."""
        for created in running.values():
            if created is not None and (self.frontier is None or created > self.frontier):
                self.frontier = created
        places = {name: index for index, name in enumerate(running)}
        self.place = {}  # places from one listing only: they are compared
        for name in awaited:
            if name in running:
                self.running[name] = running[name]
                self.place[name] = places[name]
                self.queued.pop(name, None)
                self.ended.discard(name)

    def furthest(self, listed: Iterable[str], furthest: int = -1) -> int | None:
        """The furthest place among the listed jobs that have one (in listing order,
        after ``furthest`` for the pages before), or None when their places are out
        of order: the listing does not keep the last one's."""
        for name in listed:
            place = self.place.get(name)
            if place is not None:
                if place < furthest:
                    return None
                furthest = place
        return furthest

    def passed_by(
        self, listed: Listed, *, oldest: datetime | None, furthest: int | None
    ) -> list[str]:
        """Jobs known running that an IN_PROGRESS listing, so far at jobs created at
        ``oldest`` and at ``furthest`` place, went past without showing: ended, most
        likely. Said before the listing's last page, this saves a sweep's paging
        time. None for either turns its rule off."""
        return [
            name
            for name, created in self.running.items()
            if name not in listed
            and (
                (oldest is not None and created is not None and created > oldest)
                or (furthest is not None and self.place.get(name, furthest) < furthest)
            )
        ]

    def judge(
        self,
        awaited: Collection[str],
        running: Listed,
        queued: Listed,
        *,
        not_queued: Collection[str],
    ) -> Verdicts:
        """Conclude one sweep: ``running`` is the whole IN_PROGRESS listing (taken
        with :meth:`saw_running`), ``queued`` what QUEUED listings found, and
        ``not_queued`` the jobs looked for in vain in a whole QUEUED listing.

        A job known QUEUED is looked for before the IN_PROGRESS listing: moving on
        between the two, it is in one of them, never in neither. A job never listed
        is looked for after it, and only if it did not show there (most are running
        by their first sweep): one that started between the two listings is in
        neither, judged "may have ended", and its Get says otherwise. That costs a
        request now and then, where listing QUEUED first would cost a page in
        every sweep of a steady stream of new jobs."""
        verdicts = Verdicts()
        presumed: list[str] = []
        for name in awaited:
            if name in running:
                verdicts.unfinished.append(name)
            elif name in queued:
                self.queued[name] = queued[name]
                self.ended.discard(name)
                verdicts.unfinished.append(name)
            elif name in self.running or name in self.ended:
                # Gone from the running listing: it may have ended (said again, in
                # case the Get it asked for came too soon; it costs nothing).
                self.running.pop(name, None)
                self.place.pop(name, None)
                self.ended.add(name)
                verdicts.ended.append(name)
            elif name in not_queued:
                # Absent from a whole listing of both statuses: it may have ended.
                self.queued.pop(name, None)
                self.ended.add(name)
                verdicts.ended.append(name)
            elif name not in self.queued or self._passed(self.queued[name]):
                pass  # looked for in vain, or next sweep: no verdict
            else:
                presumed.append(name)
        if presumed:
            # Behind a long queue, the oldest job presumed queued is left to its
            # safety read; see the module docstring.
            oldest = min(presumed, key=lambda name: (self._created(name), name))
            verdicts.unfinished.extend(name for name in presumed if name is not oldest)
        return verdicts

    def forget_all_but(self, awaited: Collection[str]) -> None:
        """Drop jobs no longer awaited, so memory stays the size of the batch.

        A job last known QUEUED that is gone has most likely ended (its safety read,
        as the oldest presumed queued, found it so): it started, so every job
        created before it did too (the frontier moves on), and the inference that
        the others are still queued is in doubt: the next sweep looks for them all.
        """
        keep = set(awaited)
        for name in [name for name in self.running if name not in keep]:
            del self.running[name]
            self.place.pop(name, None)
        self.ended &= keep
        for name in [name for name in self.queued if name not in keep]:
            created = self.queued.pop(name)
            self.recheck = True
            if created is not None and (self.frontier is None or created > self.frontier):
                self.frontier = created

    def _passed(self, created: datetime | None) -> bool:
        """Whether the frontier passed a job created then (unknown: assume it did).
        A job created in the frontier's own instant may still be queued behind it."""
        if created is None:
            return True
        return self.frontier is not None and created < self.frontier

    def _created(self, name: str) -> float:
        created = self.queued.get(name)
        return created.timestamp() if created is not None else float("-inf")
