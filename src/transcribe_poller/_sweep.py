"""Sweeps: one List request tells which of many jobs may have finished.

Polling each job with its own Get is bound by the Get quota: with 400 jobs pending
and 30 Gets/s, each job is seen every 13 s at best. A sweep lists the jobs that are
still QUEUED or IN_PROGRESS instead. A watched job missing from a complete listing
has probably ended (or does not exist), so its poll loop is woken for one Get; that
Get stays the authority for every event, so a wrong or stale listing costs one Get,
never a wrong event.

Listing the unfinished jobs rather than the finished ones keeps a sweep's cost
bounded by the jobs running in the account (the service caps concurrent jobs), not
by the 90 days of finished jobs it keeps, and needs no particular order of
summaries. Once every awaited job has been listed IN_PROGRESS, the QUEUED listing
is skipped: jobs never go back to QUEUED. When the watched names share a part,
``JobNameContains`` narrows the listing to them. A sweep that would need more than
``max_pages`` pages gives no hints at all (absence from a partial listing means
nothing), and polling of that kind falls back to per-job Gets for a while; so do
List faults in a row, and List throttled for ten intervals without a complete
sweep.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from ._backoff import Backoff
from ._classify import Verdict, describe, is_connection_failure
from ._client import TranscribeClient
from ._exceptions import ServiceUnreachableError
from ._hints import HintFeed
from ._kinds import KindSpec
from ._ratelimit import RateLimiter
from ._request import Sender

SweepMode = Literal["auto", "always", "never"]

_UNFINISHED = ("QUEUED", "IN_PROGRESS")  # QUEUED first: jobs only ever move forward
MIN_SHARED_PART = 3  # a shorter JobNameContains filters too little to be worth it
# Without a complete sweep for this many intervals, sweeping gives way to per-job Gets.
PATIENCE_INTERVALS = 10
# Transient List faults in a row (an outage, say) before sweeping gives way to Gets.
MAX_LIST_FAULTS = 3
# How long sweeping gives way to Gets after throttling or faults.
FALLBACK_SECONDS = 60.0
# Between two tries of one List request.
LIST_RETRY_INITIAL, LIST_RETRY_MAXIMUM = 0.5, 5.0


@dataclass(frozen=True)
class Sweep:
    """When and how the poller lists jobs instead of polling each one.

    ``mode``: ``"auto"`` starts sweeping a kind of job once ``threshold`` of them
    are pending, and goes on until none is, ``"always"`` whenever any is pending,
    ``"never"`` polls each job with Get only. ``max_list_rate`` is the List request
    budget per List operation (AWS's default quota is 5/s). Sweeps start every
    ``interval`` seconds. While List answers are throttled (other processes list
    too) the interval stretches, up to six-fold, with each wait jittered by 20% so
    processes sharing an account drift out of step, and it shrinks back by 4% per
    sweep that met no throttling. A job is also read with Get
    when it has not been for ``stale_after`` seconds, whatever the listings say.
    """

    mode: SweepMode = "auto"
    # A sweep, once QUEUED is no longer listed, is one request per interval; a
    # job polled alone costs about eight Gets over a minute: from about five jobs
    # on, sweeping is the cheaper, and it finds ends sooner.
    threshold: int = 5
    max_list_rate: float = 4.0
    interval: float = 1.5
    stale_after: float = 120.0
    page_size: int = 100
    max_pages: int = 20

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "always", "never"):
            raise ValueError(f"Sweep.mode must be 'auto', 'always' or 'never', got {self.mode!r}")
        for name in ("max_list_rate", "interval", "stale_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Sweep.{name} must be a positive number, got {value!r}")
        for name, low, high in (
            ("threshold", 1, None),
            ("page_size", 1, 100),
            ("max_pages", 1, None),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"Sweep.{name} must be a whole number >= {low}, got {value!r}")
            if high is not None and value > high:
                raise ValueError(f"Sweep.{name} must be at most {high}, got {value!r}")

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
        self.reconcile_interval = settings.interval
        self.limiter = RateLimiter(settings.max_list_rate)
        self._sender = sender
        self._counters = sender.counters
        self._log = log.bind(kind=spec.kind.value, operation=spec.list_operation)
        self._retry = retry
        self._pace = SweepPace(settings.interval, retry.rng)
        self._throttled = False  # in the sweep under way
        self._seen_running: set[str] = set()  # awaited jobs a listing showed IN_PROGRESS
        self._last_complete = -math.inf

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
        try:
            if feed.pushed() is None:
                # Processes started together would otherwise all list at once, and
                # at once again: start somewhere in the first interval.
                await anyio.sleep(self._retry.rng.uniform(0, self.settings.interval))
            while True:
                started = anyio.current_time()
                before = list(feed.pending())  # only jobs awaited before the listing began
                self._throttled = False
                listed = await self._list_unfinished(shared_part(before), before)
                if isinstance(listed, _Skipped):
                    await anyio.sleep(self._pace.next(throttled=True))
                    continue
                if isinstance(listed, _Stop):
                    return self._stop(listed)
                self._counters.sweeps += 1
                self._last_complete = anyio.current_time()
                for name in before:
                    if name not in listed:
                        feed.may_have_ended(name)
                # Under a push source, sweeps only catch the events that never came.
                wait = feed.pushed() or self._pace.next(throttled=self._throttled)
                await anyio.sleep(max(0.0, started + wait - anyio.current_time()))
        except Exception as error:
            # A malformed listing, say: per-job Gets still do the job.
            return self._stop(_Stop(describe(error), math.inf))

    async def _list_unfinished(
        self, contains: str | None, awaited: list[str]
    ) -> set[str] | _Stop | _Skipped:
        """Names of every unfinished job (matching ``contains``) that may be one of
        ``awaited``, or why there are none."""
        names: set[str] = set()
        pages = 0
        # Jobs only move forward: one seen IN_PROGRESS is never QUEUED again. Once
        # every awaited job has been, the QUEUED listing can only be empty of them.
        running = self._seen_running
        statuses = _UNFINISHED if any(n not in running for n in awaited) else ("IN_PROGRESS",)
        for status in statuses:
            token: str | None = None
            while True:
                if pages >= self.settings.max_pages:
                    return _Stop(f"more than {self.settings.max_pages} pages per sweep")
                params: dict[str, Any] = {"Status": status, "MaxResults": self.settings.page_size}
                if contains:
                    params["JobNameContains"] = contains
                if token:
                    params["NextToken"] = token
                page = await self._request(params)
                if isinstance(page, (_Stop, _Skipped)):
                    return page
                pages += 1
                self._counters.list_pages += 1
                listed = [
                    s[self._spec.name_field] for s in page.get(self._spec.summaries_field, ())
                ]
                names.update(listed)
                if status == "IN_PROGRESS":
                    running.update(listed)
                token = page.get("NextToken")
                if not token:
                    break
        # Forget jobs no longer awaited, so the set stays the size of the batch.
        self._seen_running = running & set(awaited)
        return names

    async def _request(self, params: dict[str, Any]) -> Mapping[str, Any] | _Stop | _Skipped:
        call = self._list
        assert call is not None  # checked when the sweep began
        faults = throttles = 0
        while True:
            self._counters.list_requests += 1
            reply = await self._sender.send(self.limiter, call, params)
            if reply.answer is not None:
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
                stalled = anyio.current_time() - self._last_complete
                if stalled > PATIENCE_INTERVALS * self.settings.interval:
                    # Throttled (or 503) for so long that jobs waiting for hints
                    # would wait for their reconciliation read: let Gets carry on.
                    return _Stop(f"no complete sweep for {stalled:.0f} s: List throttled")
                # Give this sweep up rather than retry it: other processes share the
                # quota, and the next sweep comes after a stretched interval.
                return _SKIPPED
            elif reply.verdict is Verdict.TRANSIENT:
                faults += 1
                if faults > MAX_LIST_FAULTS:
                    # An outage, say: Gets carry on, and sweeps resume later.
                    return _Stop(describe(reply.error))
                self._counters.retried_faults += 1
            else:
                # Access denied to List, say: Gets alone still do the job.
                return _Stop(describe(reply.error), math.inf)
            # Growing waits: with other processes listing too, quick retries only add
            # to the load that throttled this one.
            await anyio.sleep(self._retry.delay(faults + throttles))

    def _stop(self, stop: _Stop) -> float:
        (self._log.info if stop.quiet else self._log.warning)(
            "sweeping stopped; polling each job", reason=stop.reason, for_seconds=stop.retry_in
        )
        return stop.retry_in


class SweepPace:
    """The wait from one sweep's start to the next.

    The List quota is per account: with several processes sweeping, each one's own
    rate limit can be under the quota while their sum is over it. Cutting each
    request's rate would not help (a sweep is only two requests or so); spacing the
    sweeps does. So a sweep that met throttling stretches the interval by three
    quarters, up to ``MAX_STRETCH`` times the base, and each sweep that met none
    shrinks it by 4%: recovery is gradual, because every process probes for room at
    once. While stretched, each wait is jittered, so processes that met in one
    instant drift apart instead of colliding sweep after sweep; a process alone,
    never throttled, keeps the exact interval.
    (Chosen on a simulation of 1, 4 and 8 processes sharing a 5/s List quota: a
    larger stretch or slower recovery throttles less but detects later.)
    """

    STRETCH, SHRINK, MAX_STRETCH, JITTER = 1.75, 0.96, 6.0, 0.2

    def __init__(self, base: float, rng: random.Random) -> None:
        self.base = base
        self.current = base
        self._rng = rng

    def next(self, *, throttled: bool) -> float:
        if throttled:
            self.current = min(self.current * self.STRETCH, self.base * self.MAX_STRETCH)
        else:
            self.current = max(self.base, self.current * self.SHRINK)
        if self.current == self.base:
            return self.base  # nobody else seems to list: keep the exact pace
        return self.current * self._rng.uniform(1 - self.JITTER, 1 + self.JITTER)


class _Skipped:
    """A sweep given up after a throttled answer: no hints this time."""


_SKIPPED = _Skipped()


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a sweep gives no hints, and when sweeping may be tried again."""

    reason: str
    retry_in: float = FALLBACK_SECONDS
    quiet: bool = False  # said already by someone else
