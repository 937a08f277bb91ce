"""The loop that polls one job with Get until it ends."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._events import CompletionEvent, Outcome, event_from_job
from ._jobs import JobKind, JobRef
from ._ratelimit import RateLimiter
from ._stats import Counters

logger = structlog.get_logger("transcribe_poller")

OPERATIONS = {
    JobKind.STANDARD: ("get_transcription_job", "TranscriptionJobName", "TranscriptionJob"),
    JobKind.MEDICAL: (
        "get_medical_transcription_job",
        "MedicalTranscriptionJobName",
        "MedicalTranscriptionJob",
    ),
}
OPERATION_NAMES = {
    JobKind.STANDARD: "GetTranscriptionJob",
    JobKind.MEDICAL: "GetMedicalTranscriptionJob",
}
_TERMINAL = frozenset({"COMPLETED", "FAILED"})
# After a wrong hint a job ignores hints for a while, but never so long that a job
# ending meanwhile waits for its next stale read.
MAX_HINT_PAUSE = 6.0

Listener = Callable[["CompletionEvent | None"], None]


@dataclass(eq=False)
class Tracked:
    """One job being polled, shared by everyone awaiting it."""

    ref: JobRef
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    event: CompletionEvent | None = None
    interest: int = 0
    listeners: list[Listener] = field(default_factory=list)
    # Set by a sweep that suggests the job has ended, or when sweeping stops.
    wake: anyio.Event = field(default_factory=anyio.Event)
    hinted: bool = False
    hints_ignored_until: float = -math.inf
    wrong_hints: int = 0

    def nudge(self, *, hint: bool) -> None:
        if hint:
            if time.monotonic() < self.hints_ignored_until:
                return  # this job's last hints were wrong: back off from them
            self.hinted = True
        self.wake.set()


@dataclass
class JobPolling:
    """What a job's poll loop needs from its poller."""

    client: Any
    backoff: Backoff
    limiter: Callable[[str], RateLimiter]
    counters: Counters
    sweeping: Callable[[JobKind], bool]
    stale_after: float
    job_timeout: float | None
    not_found_grace: float
    max_faults: int

    async def poll(self, tracked: Tracked) -> CompletionEvent:
        ref = tracked.ref
        method, name_field, answer_field = OPERATIONS[ref.kind]
        call = getattr(self.client, method)
        limiter = self.limiter(OPERATION_NAMES[ref.kind])
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

        timeout = self.job_timeout if self.job_timeout is not None else math.inf
        with anyio.move_on_after(timeout):
            # While a sweep covers this kind, the first Get waits for its hint too.
            if self.sweeping(ref.kind):
                await self._wait(tracked, self.stale_after)
            while True:
                hinted, tracked.hinted = tracked.hinted, False
                sent_at = await limiter.acquire()
                polls += 1
                self.counters.sent()
                log.debug("poll", attempt=polls, delay_bound=self._next_wait_bound(ref, attempt))
                try:
                    answer = await call(**{name_field: ref.name})
                except Exception as error:
                    verdict, retry_after = classify(error)
                    if verdict is Verdict.THROTTLED:
                        self.counters.throttled += 1
                        cut = limiter.on_throttle(sent_at, retry_after)
                        log.info(
                            "throttled",
                            attempt=polls,
                            rate_limit=round(limiter.rate, 2),
                            cut=cut,
                            retry_after=retry_after,
                        )
                        # Rejoin the queue soon; the limiter, not this job, sets the pace.
                        tracked.hinted = hinted
                        await anyio.sleep(self.backoff.delay(0))
                        continue
                    if verdict is Verdict.NOT_FOUND:
                        if time.monotonic() - started >= self.not_found_grace:
                            return ended(Outcome.NOT_FOUND, error)
                    elif verdict is Verdict.TRANSIENT:
                        faults += 1
                        if faults > self.max_faults:
                            return ended(Outcome.ERROR, error)
                        self.counters.retried_faults += 1
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
                    if hinted:
                        # The listing was wrong or stale; back off from this job's hints.
                        self.counters.wrong_hints += 1
                        tracked.wrong_hints += 1
                        tracked.hints_ignored_until = time.monotonic() + min(
                            self.backoff.bound(tracked.wrong_hints), MAX_HINT_PAUSE
                        )
                if self.sweeping(ref.kind) and faults == 0:
                    await self._wait(tracked, self.stale_after)
                    continue
                delay = self.backoff.delay(attempt, previous_delay)
                attempt += 1
                previous_delay = delay
                await self._wait(tracked, delay)
        return ended(Outcome.TIMED_OUT)

    def _next_wait_bound(self, ref: JobRef, attempt: int) -> float:
        """The longest this job may wait before its next poll."""
        if self.sweeping(ref.kind):
            return self.stale_after
        return self.backoff.bound(attempt)

    @staticmethod
    async def _wait(tracked: Tracked, seconds: float) -> None:
        """Sleep up to ``seconds``; a sweep's hint (or its end) wakes the job early."""
        with anyio.move_on_after(seconds):
            await tracked.wake.wait()
        if tracked.wake.is_set():
            tracked.wake = anyio.Event()
