"""Sweeps: a few List requests tell which of many jobs may have finished.

Polling each job with its own Get is bound by the Get quota: with 400 jobs pending
and 30 Gets/s, each job is seen every 13 s at best. A sweep lists the jobs that are
IN_PROGRESS instead, and the QUEUED ones only when it must (see ``_sightings``). A
job a listing shows unfinished needs no Get; an awaited job missing from a
complete listing has probably ended (or does not exist), so it is hinted for one
Get. That Get stays the authority for every event, so a wrong or stale listing
costs one Get, never a wrong event.

Listing the unfinished jobs rather than the finished ones keeps a sweep's cost
bounded by the jobs running in the account (the service caps concurrent jobs), not
by the 90 days of finished jobs it keeps, and needs no particular order of
summaries. When the watched names share a part, ``JobNameContains`` narrows the
listing to them. Sweeps spend at most ``list_budget`` List requests per second on
average (see :class:`ListBudget`), so a long batch's Lists per hour are bounded.

A listing of IN_PROGRESS jobs that would need more than ``max_pages`` pages gives
no hints at all (absence from a partial listing means nothing), and polling of
that kind falls back to per-job Gets for a while; so do List faults in a row, List
throttled for ten intervals without a complete sweep, and an answer that cannot be
read.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import anyio

from . import _check
from ._backoff import Backoff
from ._classify import Verdict, describe, is_connection_failure
from ._client import TranscribeClient
from ._exceptions import ServiceUnreachableError
from ._hints import HintFeed
from ._kinds import KindSpec
from ._ratelimit import RateLimiter
from ._request import Sender
from ._sightings import Sightings
from ._stats import SweepCounts

SweepMode = Literal["auto", "always", "never"]

MIN_SHARED_PART = 3  # a shorter JobNameContains filters too little to be worth it
# Without a complete sweep for this many intervals, sweeping gives way to per-job Gets.
PATIENCE_INTERVALS = 10
# Transient List faults in a row (an outage, say) before sweeping gives way to Gets.
MAX_LIST_FAULTS = 3
# How long sweeping gives way to Gets after throttling, faults or an unusable page;
# after an error answer, doubled for each such stop with no complete sweep between,
# up to the maximum.
FALLBACK_SECONDS, MAX_FALLBACK_SECONDS = 60.0, 900.0
# Between two tries of one List request.
LIST_RETRY_INITIAL, LIST_RETRY_MAXIMUM = 0.5, 5.0


@dataclass(frozen=True)
class Sweep:
    """When and how the poller lists jobs instead of polling each one.

    ``mode``: ``"auto"`` starts sweeping a kind of job once ``threshold`` of them
    are pending, and goes on until none is, ``"always"`` whenever any is pending,
    ``"never"`` polls each job with Get only.

    Pace: sweeps start every ``interval`` seconds, and spend on average at most
    ``list_budget`` List requests per second per List operation, averaged over a
    minute (a fifth of AWS's default quota of 5/s, which every process of the
    account shares): with n pages a sweep (one per 100 running jobs), sweeps come
    every n / ``list_budget`` seconds once a batch outlasts the minute. Requests are
    sent no faster than ``max_list_rate`` per second. While
    List answers are throttled (other processes list too) the sweep rate is halved
    per throttled sweep (the interval stretches, up to six-fold), with each wait
    jittered by 20% so processes sharing an account drift out of step, and it grows
    back by a tenth of the base rate per sweep that met no throttling; a page
    throttled at full pace is asked for once more, after a wait of up to an interval.

    A job shown QUEUED or IN_PROGRESS by a listing needs no Get; one that neither
    a listing nor a Get has shown unfinished for ``stale_after`` seconds is read.
    ``max_pages`` bounds one listing of one status (100 pages hold 10,000 jobs,
    the most the service queues).
    """

    mode: SweepMode = "auto"
    # By cost: a sweep is a listing of each unfinished status (two requests at
    # first, one page per 100 jobs), where Gets at the same pace cost one request
    # per job: from two jobs on, a sweep is no dearer, and sees them all.
    threshold: int = 2
    max_list_rate: float = 4.0
    # Sweeps a little further apart than a lone job's Gets (1 / budget): a sweep is
    # often two pages, and at 1.25 s a batch spent the List budget's head start in
    # half the time, leaving its tail to sweeps spaced by the budget (measured: p95
    # 2.3 s against 1.8 s for 400 jobs, and replicas out of step).
    interval: float = 1.5
    stale_after: float = 120.0
    page_size: int = 100
    max_pages: int = 100
    list_budget: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "always", "never"):
            raise ValueError(f"Sweep.mode must be 'auto', 'always' or 'never', got {self.mode!r}")
        for name in ("max_list_rate", "interval", "stale_after", "list_budget"):
            _check.number(f"Sweep.{name}", getattr(self, name))
        for name, low, high in (
            ("threshold", 1, None),
            ("page_size", 1, 100),
            ("max_pages", 1, None),
        ):
            _check.whole(f"Sweep.{name}", getattr(self, name), low=low, high=high)

    def wanted(self, pending: int, running: bool) -> bool:
        """Whether a kind with ``pending`` jobs should be swept (with hysteresis)."""
        if self.mode == "never" or pending == 0:
            return False
        if self.mode == "always":
            return True
        # Once started, until none is left: with QUEUED no longer listed, a sweep is one
        # request, no dearer than a few jobs' Gets, and it finds the last ones sooner.
        return pending >= (1 if running else self.threshold)


def shared_part(names: Iterable[str]) -> str | None:
    """The longest common prefix or suffix of the names, if long enough to filter by."""
    names = list(names)
    if not names:
        return None
    prefix = _common_prefix(names)
    suffix = _common_prefix([name[::-1] for name in names])[::-1]
    best = max(prefix, suffix, key=len)
    return best if len(best) >= MIN_SHARED_PART else None


def _common_prefix(names: list[str]) -> str:
    shortest = min(names, key=len)
    for i, char in enumerate(shortest):
        if any(name[i] != char for name in names):
            return shortest[:i]
    return shortest


class Sweeper:
    """The List sweep as a hint source for one kind of job."""

    name = "sweep"
    push = False

    def __init__(
        self,
        *,
        client: TranscribeClient,
        spec: KindSpec,
        settings: Sweep,
        sender: Sender,
        retry: Backoff,
        log: Any,
    ) -> None:
        self._list = getattr(client, spec.list_method, None)
        self._spec = spec
        self.settings = settings
        self.reconcile_after = settings.stale_after
        self.interval = settings.interval
        self.reconcile_interval = self.interval
        self.limiter = RateLimiter(settings.max_list_rate)
        self._sender = sender
        self.counts = SweepCounts()  # written here alone
        self._log = log.bind(kind=spec.kind.value, operation=spec.list_operation)
        self._retry = retry
        self._pace = SweepPace(self.interval, retry.rng)
        self._budget = ListBudget(settings.list_budget)
        self._throttled = False  # in the sweep under way
        self._pages = 0  # in the sweep under way
        self._sightings = Sightings()
        self._stops = 0  # stops in a row, with no complete sweep between
        self._last_complete = -math.inf
        self._partial_said = False
        # The service lists newest first, jobs created in one instant always in one
        # order: a listing past a job that did not show it will not (see _sightings).
        # Each False once a listing shows otherwise (moto, say).
        self._newest_first = True
        self._places_kept = True
        self._tail_due = False  # the short queue's page: every other sweep

    def wanted(self, pending: int, running: bool, pushed: float | None) -> bool:
        if pushed is not None and self.settings.mode != "never":
            # Reconciling a push source: one slow sweep is cheaper than a Get per job.
            return pending > 0
        return self.settings.wanted(pending, running)

    def rate_limits(self) -> dict[str, float]:
        if self._last_complete == -math.inf:
            return {}  # never ran: no List request was ever paced
        return {self._spec.list_operation: self.limiter.rate}

    async def run(self, feed: HintFeed) -> float:
        if self._list is None:
            return self._stop(_Stop(f"the client has no {self._spec.list_method}()", math.inf))
        self._last_complete = anyio.current_time()
        self._pages = 0
        try:
            # Processes started together would otherwise all list at once, and at
            # once again: start somewhere in the first interval (under push, the
            # first reconcile interval), and not before the pages of sweeps that
            # stopped are paid for.
            first = self._retry.rng.uniform(0, feed.pushed() or self.interval)
            await anyio.sleep(max(first, self._budget.spend(0, anyio.current_time())))
            while True:
                started = anyio.current_time()
                self._throttled = False
                self._pages = 0
                swept = await self._sweep(feed)
                if swept is not None and not swept.skipped:
                    return self._stop(swept)
                self._stops = 0
                wait = feed.pushed() or self._pace.next(throttled=self._throttled)
                now = anyio.current_time()
                owed = self._budget.spend(self._pages, now)
                self._pages = 0
                if owed > started + wait - now and self._pace.current > self._pace.base:
                    # Throttled lately: replicas held to their budgets would otherwise
                    # sweep in step. Alone, an exact pace finds ends soonest.
                    owed *= self._retry.rng.uniform(1 - SweepPace.JITTER, 1 + SweepPace.JITTER)
                await anyio.sleep(max(0.0, started + wait - now, owed))
        except Exception as error:
            # A malformed listing, say: Gets carry on, and sweeps resume later.
            return self._stop(_Stop(f"unusable answer: {describe(error)}"))

    async def _sweep(self, feed: HintFeed) -> _Stop | None:
        """One sweep: list, then tell the scheduler what the listings showed."""
        awaited = list(feed.pending())  # only jobs awaited before the listing began
        contains = shared_part(awaited)
        sightings = self._sightings
        queued: dict[str, datetime | None] = {}
        not_queued: set[str] = set()
        looked: set[str] = set()
        running = _Listing()
        # A short queue costs a page (see _sightings). Sweeping to poll, it is looked
        # for at every other sweep: a job that starts and ends between sweeps is still
        # found within two intervals (3 s), and a batch whose jobs are all queued costs
        # a page a sweep, not two (the page that took processes sharing an account over
        # the List quota). Reconciling under push, at every sweep: the next one is a
        # reconcile interval away.
        self._tail_due = not self._tail_due
        tail = self.settings.page_size if self._tail_due or feed.pushed() else 0
        wanted = sightings.to_look_for(awaited, tail=tail)
        for second in (False, True):
            if wanted & sightings.queued.keys():
                # A job known QUEUED is looked for before the IN_PROGRESS listing, so
                # that one starting between the two is in one of them (Sightings.judge).
                found = await self._look_for(wanted, contains, queued, not_queued)
                if found is not None:
                    return found
                looked |= wanted
            listed = await self._list_status("IN_PROGRESS", contains, set(), feed)
            if isinstance(listed, _Stop):
                return listed
            running = listed
            sightings.saw_running(awaited, running.names)
            # Jobs the frontier passed only now are looked for at once, not a sweep
            # later (a reconcile interval later, under push): once more, in order.
            wanted = sightings.to_look_for(awaited, tail=tail) - looked - queued.keys()
            if wanted and not wanted & sightings.queued.keys():
                # Only jobs never listed, which IN_PROGRESS did not show (most jobs
                # are running by their first sweep): QUEUED for them alone, after.
                found = await self._look_for(wanted, contains, queued, not_queued)
                if found is not None:
                    return found
                break
            if not wanted or second:
                break
        verdicts = sightings.judge(awaited, running.names, queued, not_queued=not_queued)
        self.counts.sweeps += 1
        self._last_complete = anyio.current_time()
        feed.unfinished(verdicts.unfinished)
        for name in verdicts.ended:
            feed.may_have_ended(name)
        sightings.forget_all_but(feed.pending())
        return None

    async def _look_for(
        self,
        wanted: set[str],
        contains: str | None,
        queued: dict[str, datetime | None],
        not_queued: set[str],
    ) -> _Stop | None:
        """List QUEUED until ``wanted`` are found: add what it shows to ``queued``,
        and to ``not_queued`` what a whole listing did not show."""
        listed = await self._list_status("QUEUED", contains, wanted)
        if isinstance(listed, _Stop):
            if listed.partial is None:
                return listed
            listed = listed.partial
            self._say_partial()
        queued.update(listed.names)
        if listed.complete:
            not_queued.update(wanted - listed.names.keys())
        return None

    async def _list_status(
        self, status: str, contains: str | None, wanted: set[str], feed: HintFeed | None = None
    ) -> _Listing | _Stop:
        """The jobs listed with ``status`` (matching ``contains``): every page, or for
        QUEUED, only until every ``wanted`` name has been found. With ``feed``, jobs
        known running that the listing went past are hinted page by page."""
        listing = _Listing()
        token: str | None = None
        missing = set(wanted)
        previous: datetime | None = None
        furthest: int | None = -1
        for _ in range(self.settings.max_pages):
            params: dict[str, Any] = {"Status": status, "MaxResults": self.settings.page_size}
            if contains:
                params["JobNameContains"] = contains
            if token:
                params["NextToken"] = token
            page = await self._request(params)
            if isinstance(page, _Stop):
                return page
            self._pages += 1
            self.counts.list_pages += 1
            shown: list[str] = []
            for summary in page.get(self._spec.summaries_field) or ():
                name = summary[self._spec.name_field]
                if not isinstance(name, str):
                    raise TypeError(f"a summary's {self._spec.name_field} is {name!r}")
                created = listing.names[name] = _creation_time(summary.get("CreationTime"))
                shown.append(name)
                missing.discard(name)
                if created is None or (previous is not None and created > previous):
                    self._newest_first = False  # not the service's order: no early hints
                previous = created
            if feed is not None and self._places_kept and furthest is not None:
                furthest = self._sightings.furthest(shown, furthest)
                # Not the last listing's order: no early hints by place, ever.
                self._places_kept = furthest is not None
            token = page.get("NextToken")
            if token is not None and not isinstance(token, str):
                self._log.info("unusable page token; listing from the first page next time")
                return self._give_up(f"NextToken is a {type(token).__name__}, not a str")
            if not token:
                listing.complete = True
                return listing
            if feed is not None:
                for name in self._sightings.passed_by(
                    listing.names,
                    oldest=previous if self._newest_first else None,
                    furthest=furthest if self._places_kept else None,
                ):
                    feed.may_have_ended(name)
            if wanted and not missing:
                return listing  # every job looked for is found: the rest tells nothing
        reason = f"more than {self.settings.max_pages} pages of {status} jobs"
        # Found QUEUED is still found; absence from a partial listing means nothing.
        return _Stop(reason, partial=listing if status == "QUEUED" else None)

    def _say_partial(self) -> None:
        if not self._partial_said:
            self._partial_said = True
            self._log.warning(
                "QUEUED listing longer than max_pages; jobs not found in it are read by Get",
                max_pages=self.settings.max_pages,
            )

    async def _request(self, params: dict[str, Any]) -> Mapping[str, Any] | _Stop:
        call = self._list
        assert call is not None  # checked when the sweep began
        faults = throttles = 0
        while True:
            self.counts.list_requests += 1
            reply = await self._sender.send(self.limiter, call, params)
            if reply.verdict is None:
                if not isinstance(reply.answer, Mapping):
                    raise TypeError(f"the answer is a {type(reply.answer).__name__}, not a dict")
                return reply.answer
            assert reply.error is not None
            if isinstance(reply.error, ServiceUnreachableError) or (
                not self._sender.reach.reached and is_connection_failure(reply.error)
            ):
                # The service was never reached: the poller says so once, for everyone.
                return _Stop(describe(reply.error), quiet=True)
            if reply.verdict is Verdict.THROTTLED:
                self._throttled = True
                throttles += 1
                if throttles > 1 or self._pace.current > self._pace.base or not self.counts.sweeps:
                    # Throttled again, or while slowed already, or before any sweep
                    # completed (processes starting together): the quota is short, not
                    # met by chance. Give this sweep up; the next comes at the cut pace.
                    return self._give_up("List throttled")
                # At full pace: once, the page is asked for again after a fully jittered
                # wait (the quota refills continuously; processes that met here part),
                # so the jobs this sweep would hint do not wait a whole cut interval.
                await anyio.sleep(self._retry.rng.uniform(0, self.interval))
                continue
            elif "NextToken" in params and reply.verdict is Verdict.FATAL:
                # A page token refused (it expired, the listing changed): give this
                # sweep up; the next one starts again from the first page.
                self._log.info("page token refused; listing from the first page next time")
                return self._give_up(f"page token refused: {describe(reply.error)}")
            elif reply.verdict is Verdict.TRANSIENT:
                faults += 1
                if faults > MAX_LIST_FAULTS:
                    # An outage, say: Gets carry on, and sweeps resume later.
                    return _Stop(describe(reply.error))
                self.counts.retried_faults += 1
            else:
                # Access denied to List, a page token refused, say: Gets alone still
                # do the job, and sweeping is tried again later, from the first page.
                return _Stop(describe(reply.error), refused=True)
            # Growing waits: with other processes listing too, quick retries only add
            # to the load that throttled this one.
            await anyio.sleep(self._retry.delay(faults + throttles))

    def _give_up(self, why: str) -> _Stop:
        """Give this sweep up (the next comes as usual), unless none has completed for
        so long that jobs waiting for hints would wait for their reconciliation read:
        then stop, and let Gets carry on."""
        stalled = anyio.current_time() - self._last_complete
        if stalled > PATIENCE_INTERVALS * self.interval:
            return _Stop(f"no complete sweep for {stalled:.0f} s: {why}")
        return _SKIPPED

    def _stop(self, stop: _Stop) -> float:
        # The pages of a sweep that stopped count against the budget too: the next
        # run waits for them (a listing that never ends costs max_pages, once).
        self._budget.spend(self._pages, anyio.current_time())
        self._pages = 0
        retry_in = stop.retry_in
        if stop.refused and math.isfinite(retry_in):
            # Refused again with no complete sweep between (denied, say): each time
            # waiting longer, never for good.
            retry_in = min(retry_in * 2**self._stops, MAX_FALLBACK_SECONDS)
            self._stops += 1
        # While the service is failing, the outage was said once for everything.
        quiet = stop.quiet or self._sender.outages.any_down
        (self._log.info if quiet else self._log.warning)(
            "sweeping stopped; polling each job", reason=stop.reason, for_seconds=retry_in
        )
        return retry_in


def _creation_time(value: object) -> datetime | None:
    """A summary's CreationTime, comparable with every other (None if unusable)."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class ListBudget:
    """Lists per hour bounded whatever the work: ``rate`` pages a second on average.

    A token bucket holding ``BURST`` seconds' worth: a short batch sweeps at the
    plain interval even when a sweep takes two pages, while a long one (a page per
    100 running jobs, every sweep, for hours) settles at ``rate``. So a kind's
    sweeps cost at most ``3600 * rate + BURST * rate`` List requests an hour, plus
    the pages of the sweep under way (paid after it), however many jobs run and
    however long; sweeps that stop pay too, before the next run starts.
    """

    BURST = 60.0

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = self.BURST * rate
        self._stamp: float | None = None

    def spend(self, pages: int, now: float) -> float:
        """Take ``pages``; the seconds to wait before the next sweep may start."""
        if self._stamp is not None:
            self._tokens += (now - self._stamp) * self.rate
        self._tokens = min(self._tokens, self.BURST * self.rate) - pages
        self._stamp = now
        return max(0.0, -self._tokens / self.rate)


class SweepPace:
    """The wait from one sweep's start to the next.

    The List quota is per account: with several processes sweeping, each one's own
    rate limit can be under the quota while their sum is over it. Cutting each
    request's rate would not help (a sweep is only two requests or so); spacing the
    sweeps does. So the pace is a sweep *rate* r = 1 / interval, at most 1 / base,
    and it follows additive increase, multiplicative decrease (AIMD, as TCP's
    congestion window): a sweep that met throttling multiplies r by ``DECREASE``
    (no lower than 1 / (``MAX_STRETCH`` * base)), and each sweep that met none adds
    a fixed step of (1 / base) / ``STEPS``. Of the simple rules, only AIMD drives
    processes sharing a quota towards equal shares (Chiu and Jain, 1989): a step of
    the same size for everyone, a cut in proportion to each one's rate. Multiplying
    the interval both ways (as before) keeps whatever ratio chance set between them,
    so the process that met throttling first stayed slower. While below the ceiling,
    each wait is jittered, so processes that met in one instant drift apart instead
    of colliding sweep after sweep; a process alone, never throttled, keeps the
    exact interval.
    """

    DECREASE, STEPS, MAX_STRETCH, JITTER = 0.5, 10, 6.0, 0.2

    def __init__(self, base: float, rng: random.Random) -> None:
        self.base = base
        self._rng = rng
        self._top = 1.0 / base
        self._rate = self._top

    @property
    def current(self) -> float:
        """The interval in force: 1 / the rate, exactly the base at full pace."""
        return self.base if self._rate >= self._top else 1.0 / self._rate

    def next(self, *, throttled: bool) -> float:
        if throttled:
            self._rate = max(self._rate * self.DECREASE, self._top / self.MAX_STRETCH)
        else:
            self._rate = min(self._top, self._rate + self._top / self.STEPS)
        if self._rate >= self._top:
            return self.base  # nobody else seems to list: keep the exact pace
        return self.current * self._rng.uniform(1 - self.JITTER, 1 + self.JITTER)


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a sweep gives no hints, and when sweeping may be tried again."""

    reason: str
    retry_in: float = FALLBACK_SECONDS
    quiet: bool = False  # said already by someone else
    partial: _Listing | None = None  # what a QUEUED listing too long did show
    skipped: bool = False  # not a stop: this sweep was given up (throttled)
    refused: bool = False  # an error answer (denied, a page token refused), not a fault


# A sweep given up after a throttled answer: no hints this time.
_SKIPPED = _Stop("throttled", quiet=True, skipped=True)


@dataclass(slots=True)
class _Listing:
    """The jobs one listing of a status showed, and whether it reached its end."""

    names: dict[str, datetime | None] = field(default_factory=dict)
    complete: bool = False
