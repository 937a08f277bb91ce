"""The Poller: await many Transcribe jobs with one task group and one rate per operation."""

from __future__ import annotations

import collections
import contextlib
import math
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from anyio.abc import TaskGroup

from ._backoff import Backoff
from ._classify import describe
from ._events import CompletionEvent, Outcome, strip_query
from ._exceptions import PollerClosedError
from ._jobloop import JobPolling, Listener, Tracked
from ._jobs import JobKind, JobLike, JobRef, as_job_ref, as_job_refs
from ._ratelimit import RateLimiter
from ._stats import Counters, PollerStatistics
from ._sweep import Sweep, Sweeper

if TYPE_CHECKING:
    from types_aiobotocore_transcribe import TranscribeServiceClient

logger = structlog.get_logger("transcribe_poller")

DEFAULT_MAX_RATE = 25.0
"""Requests per second per Get operation: below AWS's default quota of 30."""


class Poller:
    """Polls Transcribe jobs until each is COMPLETED or FAILED.

    ``client`` is an aiobotocore Transcribe client the caller owns, in any retry
    mode. Use the poller as an async context manager; it owns an anyio task group
    in which one loop polls each distinct job, however many callers await it::

        async with Poller(client) as poller:
            event = await poller.wait("interview-1")

    Options:

    * ``backoff``: delays between two polls of one job (:class:`Backoff`).
    * ``max_rate``: requests per second for each Get operation, shared by all jobs
      (default 25, under AWS's default quota of 30). Cut at once when throttled,
      recovered over seconds.
    * ``job_timeout``: seconds after which a job gets a TIMED_OUT event (default:
      no limit).
    * ``not_found_grace``: seconds a job may stay unknown to the service before it
      is reported NOT_FOUND; a job just started may not be visible yet (default 5).
    * ``max_faults``: transient faults (HTTP 5xx, dropped connections, timeouts) in
      a row that one job may meet before it ends with ERROR (default 10).
    * ``sweep``: when to list unfinished jobs instead of polling each one
      (:class:`Sweep`; by default while 10 or more jobs of a kind are pending).
      ``Sweep(mode="never")`` polls each job with its own Get only.
    """

    def __init__(
        self,
        client: TranscribeServiceClient,
        *,
        backoff: Backoff | None = None,
        max_rate: float = DEFAULT_MAX_RATE,
        job_timeout: float | None = None,
        not_found_grace: float = 5.0,
        max_faults: int = 10,
        sweep: Sweep | None = None,
    ) -> None:
        if job_timeout is not None and not (math.isfinite(job_timeout) and job_timeout > 0):
            raise ValueError(
                f"job_timeout must be a positive number of seconds, got {job_timeout!r}"
            )
        if not (math.isfinite(not_found_grace) and not_found_grace >= 0):
            raise ValueError(f"not_found_grace must be >= 0 seconds, got {not_found_grace!r}")
        if isinstance(max_faults, bool) or not isinstance(max_faults, int) or max_faults < 0:
            raise ValueError(f"max_faults must be a whole number >= 0, got {max_faults!r}")
        if (
            isinstance(max_rate, bool)
            or not isinstance(max_rate, (int, float))
            or not (math.isfinite(max_rate) and max_rate > 0)
        ):
            raise ValueError(f"max_rate must be a positive number of requests/s, got {max_rate!r}")
        self._client = client
        self._max_rate = float(max_rate)
        self._sweep = sweep if sweep is not None else Sweep()
        self._limiters: dict[str, RateLimiter] = {}
        self._jobs: dict[JobRef, Tracked] = {}
        self._sweepers: dict[JobKind, Sweeper] = {}
        self._counts: collections.Counter[JobKind] = collections.Counter()
        self._counters = Counters()
        self._polling = JobPolling(
            client=client,
            backoff=backoff if backoff is not None else Backoff(),
            limiter=self._limiter,
            counters=self._counters,
            sweeping=self._sweeping,
            stale_after=self._sweep.stale_after,
            job_timeout=job_timeout,
            not_found_grace=not_found_grace,
            max_faults=max_faults,
        )
        self._task_group: TaskGroup | None = None
        self._log: Any = logger
        self._state = "new"

    def __repr__(self) -> str:
        return f"<Poller {self._state} pending={len(self._jobs)} max_rate={self._max_rate:g}>"

    # -- life cycle ----------------------------------------------------------------

    async def __aenter__(self) -> Poller:
        if self._state != "new":
            raise RuntimeError("a Poller can be entered only once; create a new one")
        # Bound now, after the application has configured structlog.
        self._log = logger.bind()
        self._polling.log = self._log
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        self._state = "closed"
        # Leaving stops all polling: nobody left inside the block is waiting for it.
        self._task_group.cancel_scope.cancel()
        try:
            if isinstance(exc, Exception):
                # The block's own error: the poll tasks never raise, so the task group
                # has nothing to add. Left to it, it would wrap the error in an
                # ExceptionGroup and `except InvalidJobNameError` around us would miss.
                await self._task_group.__aexit__(None, None, None)
                return None
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            for tracked in list(self._jobs.values()):
                self._abandon(tracked)

    def _check_open(self) -> TaskGroup:
        if self._state != "open" or self._task_group is None:
            raise PollerClosedError(
                "the Poller is closed"
                if self._state == "closed"
                else "the Poller is not open: use 'async with Poller(client) as poller'"
            )
        return self._task_group

    # -- public API ------------------------------------------------------------------

    async def wait(self, job: JobLike) -> CompletionEvent:
        """Poll ``job`` (a JobRef, or a name for a standard job) until it ends."""
        ref = as_job_ref(job)
        tracked = self._track(ref)
        tracked.interest += 1
        if tracked.done is None:
            tracked.done = anyio.Event()
        try:
            await tracked.done.wait()
        finally:
            self._release(tracked)
        if tracked.event is None:
            raise PollerClosedError(f"the Poller closed before job {ref} finished")
        return tracked.event

    @contextlib.asynccontextmanager
    async def watch(self, jobs: Iterable[JobLike]) -> AsyncIterator[AsyncIterator[CompletionEvent]]:
        """Events for ``jobs`` in the order they finish, exactly one per distinct job.

        Every name is checked before anything is sent. Leaving the block early stops
        polling the jobs nobody else awaits::

            async with poller.watch(names) as events:
                async for event in events:
                    ...
        """
        refs = as_job_refs(jobs)
        if not refs:
            raise ValueError("watch() needs at least one job")
        self._check_open()
        send, receive = anyio.create_memory_object_stream["CompletionEvent | None"](len(refs))
        watched: list[tuple[Tracked, Listener]] = []
        try:
            for ref in refs:
                tracked = self._track(ref)
                tracked.interest += 1
                listener: Listener = send.send_nowait
                watched.append((tracked, listener))
                if tracked.event is not None:
                    listener(tracked.event)
                else:
                    tracked.listeners.append(listener)
            yield self._events(receive, len(refs))
        finally:
            for tracked, listener in watched:
                with contextlib.suppress(ValueError):
                    tracked.listeners.remove(listener)
                self._release(tracked)
            send.close()
            receive.close()

    @staticmethod
    async def _events(
        receive: anyio.abc.ObjectReceiveStream[CompletionEvent | None], count: int
    ) -> AsyncIterator[CompletionEvent]:
        for _ in range(count):
            event = await receive.receive()
            if event is None:
                raise PollerClosedError("the Poller closed before every watched job finished")
            yield event

    def statistics(self) -> PollerStatistics:
        """An immutable snapshot of requests, throttling, faults and jobs."""
        limits = {op: limiter.rate for op, limiter in self._limiters.items()}
        for sweeper in self._sweepers.values():
            limits[sweeper.operation] = sweeper.limiter.rate
        return self._counters.snapshot(pending=dict(self._counts), rate_limits=limits)

    # -- bookkeeping -----------------------------------------------------------------

    def _track(self, ref: JobRef) -> Tracked:
        task_group = self._check_open()
        tracked = self._jobs.get(ref)
        if tracked is None:
            tracked = self._jobs[ref] = Tracked(ref)
            self._counts[ref.kind] += 1
            self._start_sweeper_if_wanted(ref.kind)
            task_group.start_soon(self._run, tracked, name=f"poll {ref}")
        return tracked

    def _release(self, tracked: Tracked) -> None:
        tracked.interest -= 1
        if tracked.interest == 0 and tracked.event is None:
            # Nobody awaits this job any more: stop polling it.
            tracked.scope.cancel()
            self._forget(tracked)

    def _finish(self, tracked: Tracked, event: CompletionEvent) -> None:
        tracked.event = event
        self._forget(tracked)
        self._counters.finished(tracked.ref.kind, event.outcome)
        for listener in tracked.listeners:
            listener(event)
        tracked.listeners.clear()
        if tracked.done is not None:
            tracked.done.set()

    def _abandon(self, tracked: Tracked) -> None:
        """Release everyone awaiting a job the closing poller will not finish."""
        self._forget(tracked)
        for listener in tracked.listeners:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                listener(None)
        tracked.listeners.clear()
        if tracked.done is not None:
            tracked.done.set()

    # -- sweeps ---------------------------------------------------------------------

    def _pending(self, kind: JobKind) -> dict[str, Tracked]:
        return {ref.name: t for ref, t in self._jobs.items() if ref.kind is kind}

    def _sweeping(self, kind: JobKind) -> bool:
        # Asked by every job loop between polls: also restarts sweeping after a
        # fallback once it is wanted again.
        if self._sweep.mode == "never":
            return False
        if self._state == "open":
            self._start_sweeper_if_wanted(kind)
        sweeper = self._sweepers.get(kind)
        return sweeper is not None and sweeper.running

    def _start_sweeper_if_wanted(self, kind: JobKind) -> None:
        sweeper = self._sweepers.get(kind)
        if sweeper is not None and sweeper.running:
            return
        if sweeper is not None and anyio.current_time() < sweeper.disabled_until:
            return
        if not self._sweep.wanted(self._count(kind), running=False):
            return
        if sweeper is None:
            sweeper = self._sweepers[kind] = Sweeper(
                client=self._client,
                kind=kind,
                settings=self._sweep,
                counters=self._counters,
                pending=lambda: self._pending(kind),
                hint=lambda tracked: tracked.nudge(hint=True),
                still_wanted=lambda: self._sweep.wanted(self._count(kind), running=True),
            )
        # Marked running before its task starts, so jobs added now wait for its hints.
        sweeper.running = True
        self._check_open().start_soon(self._run_sweeper, sweeper, name=f"sweep {kind.value}")

    def _count(self, kind: JobKind) -> int:
        return self._counts[kind]

    def _forget(self, tracked: Tracked) -> None:
        if self._jobs.get(tracked.ref) is tracked:
            del self._jobs[tracked.ref]
            self._counts[tracked.ref.kind] -= 1

    async def _run_sweeper(self, sweeper: Sweeper) -> None:
        try:
            await sweeper.run()
        finally:
            # Back to per-job polling: wake every job of this kind to pick its backoff.
            for tracked in self._pending(sweeper.kind).values():
                tracked.nudge(hint=False)

    def _limiter(self, operation: str) -> RateLimiter:
        limiter = self._limiters.get(operation)
        if limiter is None:
            limiter = self._limiters[operation] = RateLimiter(self._max_rate)
        return limiter

    # -- the poll loop ---------------------------------------------------------------

    async def _run(self, tracked: Tracked) -> None:
        with tracked.scope:
            try:
                event = await self._polling.poll(tracked)
            except Exception as error:
                # A bug of ours, or a malformed answer: it ends this job, not the others.
                event = CompletionEvent(tracked.ref, Outcome.ERROR, error=error)
            self._finish(tracked, event)
            quiet = event.outcome in (Outcome.COMPLETED, Outcome.FAILED)
            log = self._log.info if quiet else self._log.warning
            log(
                "job finished",
                job=tracked.ref.name,
                kind=tracked.ref.kind.value,
                outcome=event.outcome.value,
                polls=event.polls,
                waited=round(event.waited, 3),
                uri=strip_query(event.preferred_uri),
                failure_reason=event.failure_reason,
                error=describe(event.error) if event.error is not None else None,
            )
