"""The loop that polls one job with Get until it ends."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._events import CompletionEvent, Outcome, ReadOnlyDict, event_from_job
from ._jobs import JobKind, JobRef
from ._ratelimit import RateLimiter
from ._stats import Counters

logger = structlog.get_logger("transcribe_poller")

# The Get operation of each kind: its name, client method, name field, answer field.
OPERATIONS = {
    JobKind.STANDARD: (
        "GetTranscriptionJob",
        "get_transcription_job",
        "TranscriptionJobName",
        "TranscriptionJob",
    ),
    JobKind.MEDICAL: (
        "GetMedicalTranscriptionJob",
        "get_medical_transcription_job",
        "MedicalTranscriptionJobName",
        "MedicalTranscriptionJob",
    ),
}
_TERMINAL = frozenset({"COMPLETED", "FAILED"})
# After a wrong hint a job ignores hints for a while, but never so long that a job
# ending meanwhile waits for its next stale read.
MAX_HINT_PAUSE = 6.0

Listener = Callable[["CompletionEvent | None"], None]


@dataclass(eq=False, slots=True)
class Tracked:
    """One job being polled, shared by everyone awaiting it."""

    ref: JobRef
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event | None = None  # made by the first wait(); watchers use listeners
    event: CompletionEvent | None = None
    interest: int = 0
    listeners: list[Listener] = field(default_factory=list)
    # Set while the job waits for a sweep's hint; set off by a hint or the sweep's end.
    wake: anyio.Event | None = None
    hinted: bool = False
    hints_ignored_until: float = -math.inf
    wrong_hints: int = 0

    def nudge(self, *, hint: bool) -> None:
        if hint:
            if time.monotonic() < self.hints_ignored_until:
                return  # this job's last hints were wrong: back off from them
            self.hinted = True
        if self.wake is not None:
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
    # Bound once when the poller opens: structlog's lazy logger would otherwise
    # bind anew on every call, which costs more than a poll.
    log: Any = logger

    async def poll(self, tracked: Tracked) -> CompletionEvent:
        ref = tracked.ref
        job, kind = ref.name, ref.kind.value
        operation, method, name_field, answer_field = OPERATIONS[ref.kind]
        call = getattr(self.client, method)
        limiter = self.limiter(operation)
        started = time.monotonic()
        polls = faults = attempt = 0
        previous_delay: float | None = None
        details: dict[str, Any] = {}
        log = self.log

        def ended(outcome: Outcome, error: BaseException | None = None) -> CompletionEvent:
            return CompletionEvent(
                job=ref,
                outcome=outcome,
                details=ReadOnlyDict(details),
                polls=polls,
                waited=time.monotonic() - started,
                error=error,
            )

        deadline = (
            anyio.move_on_after(self.job_timeout)
            if self.job_timeout is not None
            else contextlib.nullcontext()
        )
        with deadline:
            # While a sweep covers this kind, the first Get waits for its hint too.
            sweeping = self.sweeping(ref.kind)
            if sweeping:
                await self._wait_for_hint(tracked, self.stale_after)
            while True:
                hinted, tracked.hinted = tracked.hinted, False
                sent_at = await limiter.acquire()
                polls += 1
                self.counters.sent()
                log.debug(
                    "poll",
                    job=job,
                    kind=kind,
                    attempt=polls,
                    delay_bound=self.stale_after if sweeping else self.backoff.bound(attempt),
                )
                try:
                    answer = await call(**{name_field: job})
                except Exception as error:
                    verdict, retry_after = classify(error)
                    if verdict is Verdict.THROTTLED:
                        self.counters.throttled += 1
                        cut = limiter.on_throttle(sent_at, retry_after)
                        log.info(
                            "throttled",
                            job=job,
                            kind=kind,
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
                            job=job,
                            kind=kind,
                            attempt=polls,
                            faults=faults,
                            error=describe(error),
                        )
                    else:
                        return ended(Outcome.ERROR, error)
                else:
                    faults = 0
                    details = answer.get(answer_field) or {}
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
                sweeping = self.sweeping(ref.kind)
                if sweeping and faults == 0:
                    await self._wait_for_hint(tracked, self.stale_after)
                    continue
                delay = self.backoff.delay(attempt, previous_delay)
                attempt += 1
                previous_delay = delay
                # A plain sleep: cheaper than a cancellable wait, and a hint that
                # arrives meanwhile is still seen at the next Get.
                await anyio.sleep(delay)
        return ended(Outcome.TIMED_OUT)

    @staticmethod
    async def _wait_for_hint(tracked: Tracked, seconds: float) -> None:
        """Sleep up to ``seconds``, or until a sweep's hint (or its end) comes."""
        if tracked.hinted:
            return
        tracked.wake = anyio.Event()
        with anyio.move_on_after(seconds):
            await tracked.wake.wait()
        tracked.wake = None
