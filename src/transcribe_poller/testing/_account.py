"""The account both test doubles model: jobs per kind, the concurrency cap, the listings.

An AWS account runs at most so many jobs of a kind at once (250 standard, medical
and Medical Scribe, 100 Call Analytics by default); jobs started beyond that wait
QUEUED, first in, first out, and each gets the slot of the first job to end.
:class:`Account` holds every scripted job of a double and places each in that queue
when it starts. A script's duration is fixed when it starts and the queue is FIFO,
so a job's slot is decided by the jobs started before it: each start takes the
slot that frees first (a heap of the cap's end times, O(log cap)), and the job's
``slot_at`` and ``terminal_at`` are known at once. Reads then cost nothing extra.

The listings are kept per kind and per status, in the service's order (newest
first): status changes are applied lazily, event by event, from a heap of the
times jobs change status, so a List page of a status costs about the page and a
read at time t costs O(log n) amortised, however many jobs the account holds.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import itertools
import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TypeAlias

from .._jobs import JobKind
from ._script import ScriptedJob

# AWS's default quotas of concurrent batch jobs per kind (adjustable per account).
DEFAULT_CONCURRENCY: Mapping[JobKind | str, int | None] = MappingProxyType(
    {
        JobKind.STANDARD: 250,
        JobKind.MEDICAL: 250,
        JobKind.CALL_ANALYTICS: 100,
        JobKind.MEDICAL_SCRIBE: 250,
    }
)
# The service holds at most this many jobs QUEUED per kind with job queueing.
MAX_QUEUED = 10_000

Concurrency: TypeAlias = int | Mapping[JobKind | str, int | None] | None
"""An int (the cap of every kind), None (no cap), or a cap per kind."""

# A listing's sort key: newest first, then by name (the order a List answers in).
Key = tuple[float, str]


def _cap(kind: object, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"concurrency for {kind} jobs must be an int or None, got {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(f"concurrency for {kind} jobs must be at least 1, got {value!r}")
    return value


def resolve_concurrency(concurrency: Concurrency) -> dict[JobKind, int | None]:
    """Each kind's cap from a double's ``concurrency`` argument.

    Raises TypeError or ValueError naming ``concurrency`` and the kind at fault.
    """
    if concurrency is None:
        return dict.fromkeys(JobKind)
    if isinstance(concurrency, Mapping):
        caps = {JobKind(kind): cap for kind, cap in DEFAULT_CONCURRENCY.items()}
        for kind, value in concurrency.items():
            try:
                job_kind = JobKind(kind)
            except ValueError:
                kinds = ", ".join(repr(k.value) for k in JobKind)
                raise ValueError(
                    f"concurrency: unknown kind {kind!r}, expected one of {kinds}"
                ) from None
            try:
                caps[job_kind] = _cap(job_kind.value, value)
            except (TypeError, ValueError) as error:
                raise type(error)(f"concurrency: {error}") from None
        return caps
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(
            "concurrency must be an int, None or a mapping of kind to int or None, "
            f"got {type(concurrency).__name__}"
        )
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
    return dict.fromkeys(JobKind, concurrency)


class _Kind:
    """One kind's jobs: the cap's slots, the FIFO backlog and the status indexes."""

    def __init__(self, cap: int | None) -> None:
        self.cap = cap
        self.scripts: dict[str, ScriptedJob] = {}
        self.ends: list[float] = []  # end times of the jobs holding (or promised) slots
        self.waiting: collections.deque[float] = collections.deque()  # slot times ahead
        self.keys: list[Key] = []  # every job, in listing order
        self.by_status: dict[str, list[Key]] = collections.defaultdict(list)
        self.status: dict[str, str] = {}
        self.changes: list[tuple[float, int, str]] = []  # (when, order, name)
        self.order = itertools.count()
        self.now = -math.inf

    def place(self, script: ScriptedJob, now: float) -> None:
        """Give ``script`` the slot that frees first (now, if one is free)."""
        if self.cap is None:
            script.slot_at = now
            return
        ends = self.ends
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        if len(ends) < self.cap:
            slot = now
        else:
            slot = max(now, heapq.heappop(ends))
            self.waiting.append(slot)
        script.slot_at = slot
        heapq.heappush(ends, script.terminal_at)

    def busy(self, now: float) -> tuple[int, int]:
        """(slots held, jobs waiting for one) at ``now``."""
        if self.cap is None:
            return 0, 0
        waiting, ends = self.waiting, self.ends
        while waiting and waiting[0] <= now:
            waiting.popleft()
        while ends and ends[0] <= now:
            heapq.heappop(ends)  # a slot whose last job has ended is free
        # While a job waits every slot is held (it took the first to free up).
        return (self.cap if waiting else len(ends)), len(waiting)

    def add(self, script: ScriptedJob) -> None:
        key = (-script.started_at, script.name)
        self.scripts[script.name] = script
        bisect.insort(self.keys, key)
        self._file(script, "QUEUED")

    def _file(self, script: ScriptedJob, status: str) -> None:
        self.status[script.name] = status
        bisect.insort(self.by_status[status], (-script.started_at, script.name))
        if status == "QUEUED":
            heapq.heappush(self.changes, (script.in_progress_at, next(self.order), script.name))
        elif status == "IN_PROGRESS":
            heapq.heappush(self.changes, (script.terminal_at, next(self.order), script.name))

    def advance(self, now: float) -> None:
        """Apply every status change due by ``now``, in time order."""
        if now <= self.now:
            return
        self.now = now
        changes = self.changes
        while changes and changes[0][0] <= now:
            _, _, name = heapq.heappop(changes)
            script = self.scripts[name]
            old = self.status[name]
            keys = self.by_status[old]
            key = (-script.started_at, name)
            del keys[bisect.bisect_left(keys, key)]
            self._file(script, "IN_PROGRESS" if old == "QUEUED" else script.outcome)


class Account:
    """Every scripted job of one double, per kind, under the account's caps.

    ``concurrency`` as the doubles take it (see :func:`resolve_concurrency`).
    ``jobs`` maps ``(kind, name)`` to each script, for whoever reads them all.
    """

    def __init__(self, concurrency: Concurrency = DEFAULT_CONCURRENCY) -> None:
        self.caps: Mapping[JobKind, int | None] = MappingProxyType(resolve_concurrency(concurrency))
        self.jobs: dict[tuple[JobKind, str], ScriptedJob] = {}
        self._kinds = {kind: _Kind(self.caps[kind]) for kind in JobKind}

    def __contains__(self, job: tuple[JobKind, str]) -> bool:
        return job in self.jobs

    def get(self, kind: JobKind, name: str) -> ScriptedJob | None:
        return self.jobs.get((kind, name))

    def add(self, script: ScriptedJob) -> None:
        """Place a new job in its kind's queue, at its ``started_at``.

        Raises KeyError if the kind holds a job of that name already.
        """
        if (script.kind, script.name) in self.jobs:
            raise KeyError(f"a {script.kind.value} job named {script.name!r} exists already")
        kind = self._kinds[script.kind]
        kind.place(script, script.started_at)
        kind.add(script)
        self.jobs[(script.kind, script.name)] = script

    def load(self, kind: JobKind, now: float) -> tuple[int, int]:
        """``(running, waiting)``: jobs of ``kind`` holding a slot, and waiting for one.

        Without a cap nothing waits, and ``running`` reads 0 (it is not tracked).
        Jobs started after ``now`` are counted too: ask with the latest time.
        """
        return self._kinds[kind].busy(now)

    def at_cap(self, kind: JobKind, now: float) -> bool:
        """Whether a job of ``kind`` started at ``now`` would have to wait for a slot."""
        cap = self.caps[kind]
        if cap is None:
            return False
        running, waiting = self.load(kind, now)
        return waiting > 0 or running >= cap

    def listing(
        self,
        kind: JobKind,
        now: float,
        *,
        status: str | None = None,
        after: Key | None = None,
    ) -> Iterator[tuple[Key, ScriptedJob, str]]:
        """Jobs of ``kind`` (of ``status``, if given) in the service's order, from
        just after ``after``: ``(key, script, status)``, lazily."""
        state = self._kinds[kind]
        state.advance(now)
        keys = state.keys if status is None else state.by_status.get(status, [])
        start = 0 if after is None else bisect.bisect_right(keys, after)
        scripts, statuses = state.scripts, state.status
        # Read synchronously by the caller: nothing changes the lists in between.
        for index in range(start, len(keys)):
            key = keys[index]
            yield key, scripts[key[1]], statuses[key[1]]

    def clear(self) -> None:
        self.jobs.clear()
        self._kinds = {kind: _Kind(self.caps[kind]) for kind in JobKind}


__all__ = ["DEFAULT_CONCURRENCY", "MAX_QUEUED", "Account", "Concurrency", "resolve_concurrency"]
