"""One awaited job's state, and what follows each answer about it.

A :class:`Job` belongs to the scheduler of its kind; :class:`Policy` holds the
per-job rules the scheduler applies to it after each answer: backoff between reads,
the NOT_FOUND grace period, the rule for faults, and backing off from a job's wrong
hints. It does no I/O and reads no clock, so each rule is tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._answer import Mismatch, Odd, read_answer
from ._backoff import Backoff
from ._classify import Verdict, describe, service_message
from ._events import CompletionEvent, Outcome, ReadOnlyDict, event_from_job
from ._jobs import JobRef
from ._kinds import TERMINAL_STATUSES, KindSpec
from ._request import Reply

# The service writes a job's output, then marks it COMPLETED: the Get an output
# object prompts waits this long, and while the status lags it is repeated every
# OUTPUT_REREAD_STEP seconds, at most MAX_OUTPUT_REREADS times (2.5 s in all), after
# which the reconciling sweep has the job. Chosen for an object up to about 1 s
# ahead: one Get in most cases, two in the rest, and under 1 s late.
OUTPUT_SETTLE = 0.75
OUTPUT_REREAD_STEP = 0.35
MAX_OUTPUT_REREADS = 5
# After a wrong hint a job ignores hints for a while, but never so long that a job
# ending meanwhile waits for its next reconciliation read.
MAX_HINT_PAUSE = 6.0
# Odd answers in a row (an unknown or missing status, a field of the wrong type,
# COMPLETED without its URI) before the job ends with ERROR: a few, in case the
# service briefly shows a state this version does not know.
MAX_ODD_ANSWERS = 3


class Next(NamedTuple):
    """When to read a job again, and what its scheduler records of the read just made."""

    at: float
    hint: bool = False  # make the next read a hinted one
    tally: str | None = None  # the field of the scheduler's KindCounts to add one to


@dataclass(eq=False, slots=True)
class Job:
    """A job being polled, in two parts with one writer each.

    The scheduler's fields place and move it: ``due`` and ``entry`` in its heap,
    ``in_flight``, ``gone``, ``hinted``, ``polls``, ``seen_unfinished``,
    ``output_seen``. The read record (``attempt`` to ``output_rereads``, ``status``)
    is written by :class:`Policy` alone, which the scheduler calls after each read
    and which returns what the scheduler then applies (:class:`Next`).
    """

    ref: JobRef
    started: float
    deadline: float = math.inf
    due: float = math.inf
    entry: int = -1  # the heap entry in force; older entries for this job are stale
    polls: int = 0
    attempt: int = 0  # steps taken along the backoff
    previous_delay: float | None = None
    faults: int = 0  # transient faults in a row
    faulted: bool = False  # its last read met a fault: read it again once the service answers
    odd_answers: int = 0  # answers in a row without a status we know
    hinted: bool = False  # a hint came since the last Get was sent
    seen_unfinished: float = -math.inf  # when a hint source last showed it unfinished
    hints_ignored_until: float = -math.inf
    wrong_hints: int = 0
    in_flight: bool = False
    output_seen: bool = False  # an output object of the job was announced
    output_rereads: int = 0  # reads repeated because the status lagged the object
    gone: bool = False  # finished, or nobody awaits it any more
    # The last status read, not the whole answer: a pending job holds no answer (a
    # Get's details are a kilobyte or two, times every job pending).
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules for reading one job again, shared by every job of a poller.

    The rule for faults: a transient fault (throttling, 5xx, a dropped, refused or
    timed-out connection, expired credentials, an answer about another job) only
    moves the job's next read along its backoff, counted from when the failed
    request was sent (time spent waiting for an answer is time waited); it never
    ends the job, unless the caller set ``max_faults``. A job ends on a terminal
    status, NOT_FOUND after its grace, an answer waiting cannot change (denied,
    invalid, or an odd answer ``MAX_ODD_ANSWERS`` times in a row), ``job_timeout``
    or its waiter's cancellation.
    """

    spec: KindSpec
    backoff: Backoff
    not_found_grace: float
    max_faults: int | None  # None: faults never end a job
    log: Any

    def after(
        self,
        job: Job,
        reply: Reply,
        *,
        hinted: bool,
        now: float,
        sent: float,
        reconcile: float | None,
        cadence: float,
    ) -> CompletionEvent | Next:
        """The event that ends ``job``, or when to read it next.

        ``hinted`` says whether a hint asked for this read, ``sent`` when its request
        went; ``reconcile`` is the interval between reads while a hint source covers
        the kind (None if none does), ``cadence`` the interval between ordinary reads
        while none does (the kind's share of the request budget).
        """
        if reply.verdict is None:
            return self._answered(
                job,
                reply.answer,
                hinted=hinted,
                now=now,
                sent=sent,
                reconcile=reconcile,
                cadence=cadence,
            )
        error = reply.error
        if reply.verdict is Verdict.THROTTLED:
            # The limiter sets the pace; rejoin soon and keep the hint for that read.
            return Next(now + self.backoff.delay(0), hint=hinted)
        if reply.verdict is Verdict.NOT_FOUND:
            grace_ends = job.started + self.not_found_grace
            if now >= grace_ends:
                assert error is not None
                reason = service_message(error)
                return self.ended(job, Outcome.NOT_FOUND, now, error=error, reason=reason)
            # A job just started may not be visible yet: look again by the grace's end.
            return Next(min(now + cadence, grace_ends))
        if reply.verdict is Verdict.TRANSIENT:
            return self._fault(job, now, sent, counted=reply.fault, error=error)
        return self.ended(job, Outcome.ERROR, now, error=error)

    def _fault(
        self,
        job: Job,
        now: float,
        sent: float,
        *,
        counted: bool,
        error: BaseException | None = None,
        reason: str | None = None,
    ) -> CompletionEvent | Next:
        job.faulted = True
        at = max(now, self.next_backoff(job, sent))
        if not counted:
            return Next(at)
        job.faults += 1
        if self.max_faults is not None and job.faults > self.max_faults:
            return self.ended(job, Outcome.ERROR, now, error=error, reason=reason)
        return Next(at, tally="retried_faults")

    def _answered(
        self,
        job: Job,
        answer: object,
        *,
        hinted: bool,
        now: float,
        sent: float,
        reconcile: float | None,
        cadence: float,
    ) -> CompletionEvent | Next:
        details = read_answer(self.spec, job.ref.name, answer)
        if isinstance(details, Mismatch):
            self.log.warning("answer about another job; reading again", reason=details.reason)
            return self._fault(job, now, sent, counted=True, reason=details.reason)
        if isinstance(details, Odd):
            job.faults = 0
            job.faulted = False
            job.odd_answers += 1
            if job.odd_answers >= MAX_ODD_ANSWERS:
                reason = f"{details.reason} ({MAX_ODD_ANSWERS} answers in a row)"
                return self.ended(job, Outcome.ERROR, now, reason=reason)
            return Next(self.next_backoff(job, now))
        job.faults = 0
        job.faulted = False
        job.odd_answers = 0
        job.attempt = 0  # the backoff is for faults: it starts afresh after an answer
        job.previous_delay = None
        status = details.get(self.spec.status_field)
        job.status = status
        if status in TERMINAL_STATUSES:
            return event_from_job(
                job.ref, self.spec, details, polls=job.polls, waited=now - job.started
            )
        if hinted and job.output_seen and job.output_rereads < MAX_OUTPUT_REREADS:
            # The output is written before the status flips: look again shortly, as a
            # hinted read, rather than wait for reconciliation.
            job.output_rereads += 1
            return Next(now + OUTPUT_REREAD_STEP, hint=True, tally="output_rereads")
        tally = None
        if hinted:
            # The hint was wrong or stale: back off from this job's hints for a while.
            tally = "wrong_hints"
            job.wrong_hints += 1
            job.hints_ignored_until = now + min(self.backoff.bound(job.wrong_hints), MAX_HINT_PAUSE)
        if job.hinted:
            # A hint came while this read was under way: it may be stale.
            return Next(now, tally=tally)
        if reconcile is not None:
            return Next(now + reconcile, tally=tally)
        return Next(now + cadence, tally=tally)

    def _last_seen(self, job: Job) -> ReadOnlyDict:
        """What an event without a terminal status says of the job: its name and the
        last status read (nothing if no read was answered)."""
        if job.status is None:
            return ReadOnlyDict()
        return ReadOnlyDict(
            {self.spec.name_field: job.ref.name, self.spec.status_field: job.status}
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
            details=self._last_seen(job),
            polls=job.polls,
            waited=now - job.started,
            error=error,
        )
