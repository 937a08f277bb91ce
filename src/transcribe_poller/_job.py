"""One awaited job's state, and what follows each answer about it.

A :class:`Job` belongs to the scheduler of its kind and is written by it alone.
:class:`Policy` holds the per-job rules: backoff between reads, the NOT_FOUND grace
period, the fault budget, and backing off from a job's wrong hints. It does no I/O
and reads no clock, so each rule is tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._backoff import Backoff
from ._classify import Verdict, describe, service_message, shown
from ._events import CompletionEvent, Outcome, ReadOnlyDict, event_from_job
from ._jobs import JobRef
from ._kinds import KNOWN_STATUSES, TERMINAL_STATUSES, KindSpec
from ._request import Reply
from ._s3events import MAX_OUTPUT_REREADS, OUTPUT_REREAD_STEP
from ._stats import Counters

# After a wrong hint a job ignores hints for a while, but never so long that a job
# ending meanwhile waits for its next reconciliation read.
MAX_HINT_PAUSE = 6.0
# Answers in a row with an unknown or missing status before the job ends with ERROR:
# a few, in case the service briefly shows a state this version does not know.
MAX_ODD_ANSWERS = 3


@dataclass(eq=False, slots=True)
class Job:
    """A job being polled. ``due`` and ``entry`` place it in its scheduler's heap."""

    ref: JobRef
    started: float
    deadline: float = math.inf
    due: float = math.inf
    entry: int = -1  # the heap entry in force; older entries for this job are stale
    polls: int = 0
    attempt: int = 0  # steps taken along the backoff
    previous_delay: float | None = None
    faults: int = 0  # transient faults in a row
    odd_answers: int = 0  # answers in a row without a status we know
    hinted: bool = False  # a hint came since the last Get was sent
    seen_unfinished: float = -math.inf  # when a hint source last showed it unfinished
    hints_ignored_until: float = -math.inf
    wrong_hints: int = 0
    in_flight: bool = False
    output_seen: bool = False  # an output object of the job was announced
    output_rereads: int = 0  # reads repeated because the status lagged the object
    gone: bool = False  # finished, or nobody awaits it any more
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules for reading one job again, shared by every job of a poller."""

    spec: KindSpec
    backoff: Backoff
    not_found_grace: float
    max_faults: int
    counters: Counters

    def after(
        self, job: Job, reply: Reply, *, hinted: bool, now: float, reconcile: float | None
    ) -> CompletionEvent | float:
        """The event that ends ``job``, or when to read it next.

        ``hinted`` says whether a hint asked for this read; ``reconcile`` is the
        interval between reads while a hint source covers the kind (None if none does).
        """
        if reply.answer is not None:
            return self._answered(job, reply.answer, hinted=hinted, now=now, reconcile=reconcile)
        error = reply.error
        if reply.verdict is Verdict.THROTTLED:
            # The limiter sets the pace; rejoin soon and keep the hint for that read.
            job.hinted = job.hinted or hinted
            return now + self.backoff.delay(0)
        if reply.verdict is Verdict.NOT_FOUND:
            grace_ends = job.started + self.not_found_grace
            if now >= grace_ends:
                assert error is not None
                reason = service_message(error)
                return self.ended(job, Outcome.NOT_FOUND, now, error=error, reason=reason)
            # A job just started may not be visible yet: look again by the grace's end.
            return min(self.next_backoff(job, now), grace_ends)
        if reply.verdict is Verdict.TRANSIENT:
            if not reply.fault:
                return self.next_backoff(job, now)
            job.faults += 1
            if job.faults > self.max_faults:
                return self.ended(job, Outcome.ERROR, now, error=error)
            self.counters.retried_faults += 1
            return self.next_backoff(job, now)
        return self.ended(job, Outcome.ERROR, now, error=error)

    def _answered(
        self,
        job: Job,
        answer: Mapping[str, Any],
        *,
        hinted: bool,
        now: float,
        reconcile: float | None,
    ) -> CompletionEvent | float:
        job.faults = 0
        details = answer.get(self.spec.job_field) or {}
        if not isinstance(details, Mapping):
            # Never the value itself: it may hold presigned URIs.
            kind = type(details).__name__
            raise TypeError(f"{self.spec.job_field} in the answer is a {kind}, not a dict")
        job.details = details
        status = details.get(self.spec.status_field)
        if status in TERMINAL_STATUSES:
            return event_from_job(
                job.ref, self.spec, details, polls=job.polls, waited=now - job.started
            )
        if status not in KNOWN_STATUSES:
            job.odd_answers += 1
            if job.odd_answers >= MAX_ODD_ANSWERS:
                return self.ended(job, Outcome.ERROR, now, reason=self._odd(answer, status))
            return self.next_backoff(job, now)
        job.odd_answers = 0
        if hinted and job.output_seen and job.output_rereads < MAX_OUTPUT_REREADS:
            # The output is written before the status flips: look again shortly, as a
            # hinted read, rather than wait for reconciliation.
            job.output_rereads += 1
            self.counters.output_rereads += 1
            job.hinted = True
            return now + OUTPUT_REREAD_STEP
        if hinted:
            # The hint was wrong or stale: back off from this job's hints for a while.
            self.counters.wrong_hints += 1
            job.wrong_hints += 1
            job.hints_ignored_until = now + min(self.backoff.bound(job.wrong_hints), MAX_HINT_PAUSE)
        if job.hinted:
            return now  # a hint came while this read was under way: it may be stale
        if reconcile is not None:
            return now + reconcile
        return self.next_backoff(job, now)

    def _odd(self, answer: Mapping[str, Any], status: object) -> str:
        spec = self.spec
        if spec.job_field not in answer:
            what = f"no {spec.job_field}"
        elif spec.status_field not in answer[spec.job_field]:
            what = f"no {spec.status_field}"
        else:
            what = f"{spec.status_field} {shown(status)}"
        return (
            f"{spec.get_operation} answered {what} {MAX_ODD_ANSWERS} times in a row; "
            f"expected one of {', '.join(sorted(KNOWN_STATUSES))}"
        )

    def next_backoff(self, job: Job, now: float) -> float:
        """When to read ``job`` next by its own backoff; takes one step along it."""
        delay = self.backoff.delay(job.attempt, job.previous_delay)
        job.attempt += 1
        job.previous_delay = delay
        return now + delay

    def ended(
        self,
        job: Job,
        outcome: Outcome,
        now: float,
        *,
        error: BaseException | None = None,
        reason: str | None = None,
    ) -> CompletionEvent:
        """The event for a job that ends without a terminal status."""
        if reason is None and error is not None:
            reason = describe(error)
        return CompletionEvent(
            job=job.ref,
            outcome=outcome,
            failure_reason=reason,
            details=ReadOnlyDict(job.details),
            polls=job.polls,
            waited=now - job.started,
            error=error,
        )
