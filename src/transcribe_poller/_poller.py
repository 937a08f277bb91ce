"""The Poller: await many Transcribe jobs with one task group and one rate per operation."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from anyio.abc import TaskGroup

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._events import CompletionEvent, Outcome, event_from_job, strip_query
from ._exceptions import PollerClosedError
from ._jobs import JobKind, JobLike, JobRef, as_job_ref, as_job_refs
from ._ratelimit import RateLimiter
from ._stats import Counters, PollerStatistics

if TYPE_CHECKING:
    from types_aiobotocore_transcribe import TranscribeServiceClient

logger = structlog.get_logger("transcribe_poller")

DEFAULT_MAX_RATE = 25.0
"""Requests per second per Get operation: below AWS's default quota of 30."""

_OPERATIONS = {
    JobKind.STANDARD: ("GetTranscriptionJob", "TranscriptionJobName", "TranscriptionJob"),
    JobKind.MEDICAL: (
        "GetMedicalTranscriptionJob",
        "MedicalTranscriptionJobName",
        "MedicalTranscriptionJob",
    ),
}
_TERMINAL = frozenset({"COMPLETED", "FAILED"})

Listener = Callable[["CompletionEvent | None"], None]


@dataclass(eq=False)
class _Tracked:
    """One job being polled, shared by everyone awaiting it."""

    ref: JobRef
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    event: CompletionEvent | None = None
    interest: int = 0
    listeners: list[Listener] = field(default_factory=list)


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
    ) -> None:
        if job_timeout is not None and not (math.isfinite(job_timeout) and job_timeout > 0):
            raise ValueError(
                f"job_timeout must be a positive number of seconds, got {job_timeout!r}"
            )
        if not (math.isfinite(not_found_grace) and not_found_grace >= 0):
            raise ValueError(f"not_found_grace must be >= 0 seconds, got {not_found_grace!r}")
        if isinstance(max_faults, bool) or not isinstance(max_faults, int) or max_faults < 0:
            raise ValueError(f"max_faults must be a whole number >= 0, got {max_faults!r}")
        if not (isinstance(max_rate, (int, float)) and math.isfinite(max_rate) and max_rate > 0):
            raise ValueError(f"max_rate must be a positive number of requests/s, got {max_rate!r}")
        self._client = client
        self._backoff = backoff if backoff is not None else Backoff()
        self._max_rate = float(max_rate)
        self._job_timeout = job_timeout
        self._not_found_grace = not_found_grace
        self._max_faults = max_faults
        self._limiters: dict[str, RateLimiter] = {}
        self._jobs: dict[JobRef, _Tracked] = {}
        self._counters = Counters()
        self._task_group: TaskGroup | None = None
        self._state = "new"

    def __repr__(self) -> str:
        return f"<Poller {self._state} pending={len(self._jobs)} max_rate={self._max_rate:g}>"

    # -- life cycle ----------------------------------------------------------------

    async def __aenter__(self) -> Poller:
        if self._state != "new":
            raise RuntimeError("a Poller can be entered only once; create a new one")
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
        watched: list[tuple[_Tracked, Listener]] = []
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
        return self._counters.snapshot(
            pending=len(self._jobs),
            rate_limits={op: limiter.rate for op, limiter in self._limiters.items()},
        )

    # -- bookkeeping -----------------------------------------------------------------

    def _track(self, ref: JobRef) -> _Tracked:
        task_group = self._check_open()
        tracked = self._jobs.get(ref)
        if tracked is None:
            tracked = self._jobs[ref] = _Tracked(ref)
            task_group.start_soon(self._run, tracked, name=f"poll {ref}")
        return tracked

    def _release(self, tracked: _Tracked) -> None:
        tracked.interest -= 1
        if tracked.interest == 0 and tracked.event is None:
            # Nobody awaits this job any more: stop polling it.
            tracked.scope.cancel()
            if self._jobs.get(tracked.ref) is tracked:
                del self._jobs[tracked.ref]

    def _finish(self, tracked: _Tracked, event: CompletionEvent) -> None:
        tracked.event = event
        if self._jobs.get(tracked.ref) is tracked:
            del self._jobs[tracked.ref]
        self._counters.outcomes[event.outcome] += 1
        for listener in tracked.listeners:
            listener(event)
        tracked.listeners.clear()
        tracked.done.set()

    def _abandon(self, tracked: _Tracked) -> None:
        """Release everyone awaiting a job the closing poller will not finish."""
        if self._jobs.get(tracked.ref) is tracked:
            del self._jobs[tracked.ref]
        for listener in tracked.listeners:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                listener(None)
        tracked.listeners.clear()
        tracked.done.set()

    def _limiter(self, operation: str) -> RateLimiter:
        limiter = self._limiters.get(operation)
        if limiter is None:
            limiter = self._limiters[operation] = RateLimiter(self._max_rate)
        return limiter

    # -- the poll loop ---------------------------------------------------------------

    async def _run(self, tracked: _Tracked) -> None:
        with tracked.scope:
            event = await self._poll(tracked.ref)
            self._finish(tracked, event)
            quiet = event.outcome in (Outcome.COMPLETED, Outcome.FAILED)
            log = logger.info if quiet else logger.warning
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

    async def _poll(self, ref: JobRef) -> CompletionEvent:
        operation, name_field, answer_field = _OPERATIONS[ref.kind]
        call = getattr(self._client, _method_name(operation))
        limiter = self._limiter(operation)
        started = time.monotonic()
        polls = faults = attempt = 0
        previous_delay: float | None = None
        details: dict[str, Any] = {}
        log = logger.bind(job=ref.name, kind=ref.kind.value)

        def ended(outcome: Outcome, error: BaseException | None = None) -> CompletionEvent:
            return CompletionEvent(
                job=ref,
                outcome=outcome,
                details=details,
                polls=polls,
                waited=time.monotonic() - started,
                error=error,
            )

        with anyio.move_on_after(
            self._job_timeout if self._job_timeout is not None else math.inf
        ) as deadline:
            while True:
                sent_at = await limiter.acquire()
                polls += 1
                self._counters.sent()
                log.debug("poll", attempt=polls, delay_bound=self._backoff.bound(attempt))
                try:
                    answer = await call(**{name_field: ref.name})
                except Exception as error:
                    verdict, retry_after = classify(error)
                    if verdict is Verdict.THROTTLED:
                        self._counters.throttled += 1
                        cut = limiter.on_throttle(sent_at, retry_after)
                        log.info(
                            "throttled",
                            attempt=polls,
                            rate_limit=round(limiter.rate, 2),
                            cut=cut,
                            retry_after=retry_after,
                        )
                        # Rejoin the queue soon; the limiter, not this job, sets the pace.
                        await anyio.sleep(self._backoff.delay(0))
                        continue
                    if verdict is Verdict.NOT_FOUND:
                        if time.monotonic() - started >= self._not_found_grace:
                            return ended(Outcome.NOT_FOUND, error)
                    elif verdict is Verdict.TRANSIENT:
                        faults += 1
                        if faults > self._max_faults:
                            return ended(Outcome.ERROR, error)
                        self._counters.retried_faults += 1
                        log.info(
                            "retrying after fault",
                            attempt=polls,
                            faults=faults,
                            error=describe(error),
                        )
                    else:
                        return ended(Outcome.ERROR, error)
                else:
                    faults = 0
                    details = dict(answer.get(answer_field) or {})
                    if details.get("TranscriptionJobStatus") in _TERMINAL:
                        return event_from_job(
                            ref, details, polls=polls, waited=time.monotonic() - started
                        )
                delay = self._backoff.delay(attempt, previous_delay)
                attempt += 1
                previous_delay = delay
                if self._job_timeout is not None:
                    # No point sleeping past the deadline: the timeout will fire first.
                    delay = min(delay, max(0.0, deadline.deadline - anyio.current_time()))
                await anyio.sleep(delay)
        return ended(Outcome.TIMED_OUT)


def _method_name(operation: str) -> str:
    """GetMedicalTranscriptionJob -> get_medical_transcription_job."""
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
