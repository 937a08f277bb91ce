"""One scheduler per kind of job: its awaited jobs, its Get rate limit, its hint sources.

Jobs wait in a heap keyed by when each is next read. One dispatcher task sleeps
until the earliest of them is due (or an earlier one is scheduled) and moves the
due jobs to a ready queue; a few worker tasks take them from there, wait for the
rate limiter's turn and send the Get. Workers are added only while every worker has
a request in flight and none is waiting for its turn, so their number follows the
requests in flight, not the jobs awaited: a job costs a small object and a heap
entry, not a task. Everything here runs in one thread of one event loop: the
scheduler places and moves its jobs, the per-job rules (``_job.Policy``) keep each
job's read record and return what to do next, and nothing needs a lock.

The scheduler also starts and stops its hint sources (see ``_hints``), deciding
only when something changes: a job added, finished or released, a source ending,
or the time a source asked to wait before a restart passing.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ._answer import Mismatch, Odd, read_answer
from ._classify import Verdict, describe, shown
from ._client import TranscribeClient
from ._events import CompletionEvent, Outcome, event_from_job, strip_query
from ._exceptions import ServiceUnreachableError
from ._hints import HintSource
from ._job import OUTPUT_SETTLE, Job, Policy
from ._jobs import JobRef
from ._kinds import KindSpec
from ._ratelimit import RateLimiter
from ._request import Sender
from ._stats import KindCounts

# Workers of one kind at most: beyond botocore's connection pool (10 by default)
# more requests in flight only queue inside the client.
MAX_WORKERS = 32
# A request in flight this long no longer counts against MAX_WORKERS: a few hung
# connections must not leave the other jobs of the kind without a worker. Hung
# requests end at the request deadline, so the workers they hold are bounded too.
STALL_AFTER = 5.0
# The fewest requests of a sweep: a listing of each unfinished status. A few jobs
# newly awaited under push are cheaper to read once each than to wait for it.
SWEEP_REQUESTS = 2


class Delivery(Protocol):
    """Where a scheduler hands each job's one event: the poller's waiters."""

    def deliver(self, event: CompletionEvent) -> None: ...


class _Slot:
    """A hint source and the scope of its current run, if it runs."""

    __slots__ = ("not_before", "scope", "source")

    def __init__(self, source: HintSource) -> None:
        self.source = source
        self.scope: anyio.CancelScope | None = None
        self.not_before = -math.inf


class Scheduler:
    """Polls every awaited job of one kind until it ends; see the module docstring."""

    def __init__(
        self,
        *,
        spec: KindSpec,
        client: TranscribeClient,
        policy: Policy,
        limiter: RateLimiter,
        sender: Sender,
        sources: Sequence[HintSource],
        delivery: Delivery,
        job_timeout: float | None,
        log: Any,
        budget: float = 1.0,
    ) -> None:
        self.spec = spec
        self._budget = budget
        # None when the client predates this kind's operations: its jobs end with ERROR.
        self._call = getattr(client, spec.get_method, None)
        self._policy = policy
        self.limiter = limiter
        self._sender = sender
        self._slots = [_Slot(source) for source in sources]
        self._delivery = delivery
        self._job_timeout = math.inf if job_timeout is None else job_timeout
        self._log = log
        self._jobs: dict[str, Job] = {}
        self.counts = KindCounts()  # written here alone
        self._heap: list[tuple[float, int, Job]] = []
        self._entries = 0
        self._ready: collections.deque[Job] = collections.deque()
        self._target = math.inf  # when the dispatcher wakes next
        self._wake = anyio.Event()
        self._work = anyio.Event()
        self._workers = self._idle = self._pacing = 0
        self._reconcile: float | None = None  # set while a source covers this kind
        self._task_group: TaskGroup | None = None
        self._used = False
        self._pushed: float | None = None
        self._reviewing = self._review_again = False
        self._flights: dict[Job, float] = {}  # requests in flight: when each was sent
        self._stalled: set[Job] = set()  # of those, the ones past STALL_AFTER
        self._flight_scopes: dict[Job, anyio.CancelScope] = {}  # to abandon on release
        self._flight_started = anyio.Event()
        # Jobs by deadline (deadlines grow with the time jobs are added), dropped at
        # release: a released job leaves no trace here.
        self._deadlines: collections.OrderedDict[Job, None] = collections.OrderedDict()
        self._deadline_added = anyio.Event()
        self._dead: BaseException | None = None  # the bug that ended this scheduler
        self._health = None if self._call is None else sender.health_of(self._call)
        if self._health is not None:
            self._health.on_recovery.append(self._recovered)

    # -- what the poller asks --------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Dispatch until cancelled; the workers and sources live in this task group.

        A bug that ends the scheduler ends its jobs with ERROR, logged, rather than
        leaving them unread: the poller and the other kinds go on.
        """
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                task_status.started()
                task_group.start_soon(self._watch_stalls)
                if math.isfinite(self._job_timeout):
                    task_group.start_soon(self._enforce_deadlines)
                await self._dispatch()
        except Exception as error:
            # The task group wraps what ended it; one bug is named as itself.
            while len(getattr(error, "exceptions", ())) == 1:
                error = error.exceptions[0]  # type: ignore[attr-defined]
            self._died(error)

    def _died(self, error: Exception) -> None:
        self._dead = error
        self._log.error(
            "scheduler failed; ending its jobs with ERROR",
            kind=self.spec.kind.value,
            error=describe(error),
            exc_info=error,
        )
        now = anyio.current_time()
        for job in list(self._jobs.values()):
            self._finish(job, self._policy.ended(job, Outcome.ERROR, now, error=error))

    def add(self, refs: Collection[JobRef]) -> None:
        """Start polling jobs (none already awaited here)."""
        self._used = True
        now = anyio.current_time()
        jobs = [Job(ref, started=now, deadline=now + self._job_timeout) for ref in refs]
        for job in jobs:
            self._jobs[job.ref.name] = job
        if self._dead is not None:
            for job in jobs:
                self._finish(job, self._policy.ended(job, Outcome.ERROR, now, error=self._dead))
            return
        if math.isfinite(self._job_timeout):
            self._deadlines.update(dict.fromkeys(jobs))
            self._deadline_added.set()
        # Sources are reviewed once all are in, so a batch that warrants a sweep has
        # even its first reads wait for the sweep's hints.
        self._review_sources()
        # A job may have ended before it was awaited, and push would never announce
        # it again: its first look is a Get at once, unless a sweep covers the kind
        # and is the cheaper look (it lists every job at once: a batch, or no push
        # slowing it down).
        swept = self._swept()
        cheaper = len(jobs) > SWEEP_REQUESTS or self.pushed() is None
        first = now + self._reconcile if swept and cheaper and self._reconcile else now
        for job in jobs:
            self._schedule(job, first)

    def cadence(self) -> float:
        """Seconds between two ordinary Gets of a job while no source covers the kind:
        the kind's request budget shared by its jobs, but never longer than the
        backoff's maximum (a fallback from sweeps reads a big batch at max_rate)."""
        return min(max(1, len(self._jobs)) / self._budget, self._policy.backoff.maximum)

    def _swept(self) -> bool:
        """Whether a listing source (not push) covers the kind now."""
        return any(slot.scope is not None and not slot.source.push for slot in self._slots)

    def _recovered(self) -> None:
        """The service answers again after an outage: every job whose last read met a
        fault is read at once (paced by the rate limit), not at its backoff."""
        now = anyio.current_time()
        for job in self._jobs.values():
            if job.faulted and not job.in_flight and job.due > now:
                self._schedule(job, now)

    def release(self, ref: JobRef) -> None:
        """Nobody awaits the job any more: stop polling it."""
        job = self._jobs.pop(ref.name, None)
        if job is not None:
            job.gone = True
            self._deadlines.pop(job, None)
            scope = self._flight_scopes.get(job)
            if scope is not None:
                scope.cancel()  # nobody wants the answer: free the worker now
            self._review_sources()

    def end_all(self, error: ServiceUnreachableError) -> None:
        """End every awaited job with ERROR: the service cannot be used at all."""
        now = anyio.current_time()
        for job in list(self._jobs.values()):
            self._finish(job, self._policy.ended(job, Outcome.ERROR, now, error=error))

    async def read(self, job: JobRef) -> Mapping[str, Any]:
        """One Get of ``job`` in the caller's task: its answer's job details.

        Throttling and transient faults are retried for as long as they last (the
        caller bounds the wait, with ``anyio.fail_after``, say); an error answer is
        raised; an odd answer, or one about another job, raises
        :class:`RuntimeError` naming the job.
        """
        if self._call is None:
            raise TypeError(f"the client has no {self.spec.get_method}()")
        params = {self.spec.name_field: job.name}
        faults = 0
        while True:
            reply = await self._sender.send(self.limiter, self._call, params, own_task=False)
            if reply.verdict is None:
                break
            assert reply.error is not None
            if reply.verdict is Verdict.TRANSIENT:
                faults += 1
            elif reply.verdict is not Verdict.THROTTLED:
                raise reply.error
            await anyio.sleep(self._policy.backoff.delay(faults))
        details = read_answer(self.spec, job.name, reply.answer)
        if isinstance(details, (Odd, Mismatch)):
            if not isinstance(reply.answer, Mapping):
                raise TypeError(details.reason)
            raise RuntimeError(f"cannot read job {job}: {details.reason}")
        return details

    async def refresh(self, event: CompletionEvent) -> CompletionEvent:
        """``event`` with the URIs of one new Get (presigned URIs expire): :meth:`read`,
        and a :class:`RuntimeError` if the name now belongs to another job (its
        ``CreationTime`` differs: the job was deleted and the name reused).
        """
        details = await self.read(event.job)
        was, now_created = event.details.get("CreationTime"), details.get("CreationTime")
        if was is not None and now_created is not None and was != now_created:
            raise RuntimeError(
                f"cannot refresh job {event.job}: the name now belongs to another job "
                f"(created {now_created}, not {was}); the job of this event was deleted"
            )
        fresh = event_from_job(event.job, self.spec, details, polls=1, waited=0.0)
        if fresh.outcome is not event.outcome:
            status = shown(details.get(self.spec.status_field))
            raise RuntimeError(f"job {event.job} now reads {status}")
        return dataclasses.replace(
            event,
            transcript_uri=fresh.transcript_uri,
            redacted_transcript_uri=fresh.redacted_transcript_uri,
            subtitle_uris=fresh.subtitle_uris,
            clinical_document_uri=fresh.clinical_document_uri,
            details=fresh.details,
        )

    def pending(self) -> Collection[str]:
        return list(self._jobs)

    def count(self) -> int:
        return len(self._jobs)

    def rate_limits(self) -> dict[str, float]:
        if not self._used:
            return {}  # a kind never awaited has nothing to report
        limits = {self.spec.get_operation: self.limiter.rate}
        for slot in self._slots:
            limits.update(slot.source.rate_limits())
        return limits

    # -- what hint sources say ---------------------------------------------------------

    def pushed(self) -> float | None:
        intervals = [
            slot.source.reconcile_interval
            for slot in self._slots
            if slot.scope is not None and slot.source.push
        ]
        return min(intervals) if intervals else None

    def unfinished(self, names: Iterable[str]) -> None:
        # Postponed lazily: the dispatcher moves a due job that was seen meanwhile.
        now = anyio.current_time()
        jobs = self._jobs
        for name in names:
            job = jobs.get(name)
            if job is not None:
                job.seen_unfinished = now

    def awaits(self, name: str) -> bool:
        return name in self._jobs

    def may_have_ended(self, name: str, *, output: bool = False) -> None:
        job = self._jobs.get(name)
        if job is None:
            return
        now = anyio.current_time()
        if output:
            if job.output_seen and job.hinted:
                return  # another object of the job, or a duplicate: reads are planned
            # The job's own output: no reason to doubt it, whatever earlier hints said
            # (a wrong object before, say: its re-reads ended, this one starts anew).
            job.output_seen = job.hinted = True
            job.output_rereads = 0
            at = now + OUTPUT_SETTLE
            if not job.in_flight and job.due > at:
                self._schedule(job, at)
            return
        if job.hinted:
            return
        if now < job.hints_ignored_until:
            return  # this job's last hints were wrong: back off from them
        job.hinted = True
        if not job.in_flight and job.due > now:
            self._schedule(job, now)

    # -- the heap and the dispatcher ---------------------------------------------------

    def _schedule(self, job: Job, at: float) -> None:
        at = min(at, job.deadline)
        job.due = at
        self._entries += 1
        job.entry = self._entries  # earlier entries of this job are now stale
        heap = self._heap
        heapq.heappush(heap, (at, self._entries, job))
        if len(heap) > 2 * len(self._jobs) + 64:
            # Stale entries (moved reads, released jobs) outnumber the live ones:
            # drop them, so the heap stays the size of the jobs awaited.
            heap[:] = [e for e in heap if e[2].entry == e[1] and not e[2].gone]
            heapq.heapify(heap)
        if at < self._target:
            self._target = at
            self._wake.set()

    async def _dispatch(self) -> None:
        heap, ready = self._heap, self._ready
        while True:
            now = anyio.current_time()
            while heap and heap[0][0] <= now:
                _, entry, job = heapq.heappop(heap)
                if job.entry != entry or job.gone:
                    continue
                if self._reconcile is not None and not job.hinted:
                    # A listing showed it unfinished since this read was planned:
                    # as good as a Get, so the read moves on by as much.
                    later = min(job.seen_unfinished + self._reconcile, job.deadline)
                    if later > now:
                        self._schedule(job, later)
                        continue
                job.entry = -1
                job.in_flight = True
                ready.append(job)
            if ready:
                self._hand_out()
            self._target = heap[0][0] if heap else math.inf
            self._wake = anyio.Event()
            with anyio.move_on_after(self._target - now):
                await self._wake.wait()

    def _hand_out(self) -> None:
        """Get the ready jobs taken: wake idle workers, or add one if all are busy."""
        if self._idle:
            self._work.set()
            self._work = anyio.Event()
        elif self._pacing == 0 and self._workers - len(self._stalled) < MAX_WORKERS:
            assert self._task_group is not None
            self._workers += 1
            self._task_group.start_soon(self._worker)

    async def _worker(self) -> None:
        ready = self._ready
        while True:
            if not ready:
                self._idle += 1
                try:
                    await self._work.wait()
                finally:
                    self._idle -= 1
                continue
            job = ready.popleft()
            try:
                await self._read(job)
            except Exception as error:
                # A bug of ours, or an answer we cannot read: it ends this job only.
                if not job.gone:
                    now = anyio.current_time()
                    self._finish(job, self._policy.ended(job, Outcome.ERROR, now, error=error))

    # -- one read of one job -----------------------------------------------------------

    async def _read(self, job: Job) -> None:
        if job.gone:
            return
        timed = job.deadline != math.inf  # without job_timeout, no clock reads for it
        if timed and anyio.current_time() >= job.deadline:
            self._time_out(job)
            return
        if self._call is None:
            raise TypeError(
                f"the client has no {self.spec.get_method}() for {self.spec.kind.value} jobs: "
                "use an aiobotocore version that knows the operation"
            )
        self._pacing += 1
        try:
            if not timed:
                sent_at = await self._take_turn()
            else:
                sent_at = math.inf
                with anyio.move_on_after(job.deadline - anyio.current_time()):
                    sent_at = await self._take_turn()
        finally:
            self._pacing -= 1
        if job.gone:
            return
        if timed and anyio.current_time() >= job.deadline:
            self._time_out(job)
            return
        if self._ready:
            self._hand_out()  # this worker is taken: let another take the next job
        hinted, job.hinted = job.hinted, False
        job.polls += 1
        self._log.debug("poll", job=job.ref.name, kind=self.spec.kind.value, attempt=job.polls)
        params = {self.spec.name_field: job.ref.name}
        if not timed:
            reply = await self._exchange(job, sent_at, params)
        else:
            with anyio.move_on_after(job.deadline - anyio.current_time()) as scope:
                reply = await self._exchange(job, sent_at, params)
            if scope.cancelled_caught:
                if not job.gone:
                    self._time_out(job)
                return
        if job.gone:
            return  # released or ended while the request was under way
        now = anyio.current_time()
        step = self._policy.after(
            job,
            reply,
            hinted=hinted,
            now=now,
            sent=sent_at,
            reconcile=self._reconcile,
            cadence=self.cadence(),
        )
        job.in_flight = False
        if isinstance(step, CompletionEvent):
            self._finish(job, step)
            return
        if step.hint:
            job.hinted = True
        if step.tally is not None:
            counts = self.counts
            setattr(counts, step.tally, getattr(counts, step.tally) + 1)
        self._schedule(job, step.at)

    async def _take_turn(self) -> float:
        """Wait until the service is up (or this is its probe), then for the limiter."""
        assert self._health is not None  # no Get to send without the operation
        await self._health.admit()
        return await self.limiter.acquire()

    async def _exchange(self, job: Job, sent_at: float, params: dict[str, str]) -> Any:
        """Send the Get, minding how long it is in flight (see ``_watch_stalls``); None
        when the job was released meanwhile and the request abandoned."""
        assert self._call is not None
        flights = self._flights
        flights[job] = sent_at  # the limiter's turn: now
        self._flight_started.set()  # wakes the watch only if it waits for a flight
        sender = self._sender
        reply = None
        try:
            # One scope for the request deadline and for abandoning it on release.
            with anyio.CancelScope(deadline=sent_at + sender.request_timeout) as scope:
                self._flight_scopes[job] = scope
                reply = await sender.call(sent_at, self.limiter, self._call, params, deadline=False)
        finally:
            del flights[job]
            del self._flight_scopes[job]
            self._stalled.discard(job)
        if scope.cancelled_caught and not job.gone:
            return sender.abandoned(sent_at, self.limiter, self._call, params)
        return reply

    async def _watch_stalls(self) -> None:
        """Count requests in flight past STALL_AFTER out of the workers' limit, and
        get a worker for the ready jobs they would otherwise keep waiting."""
        while True:
            now = anyio.current_time()
            wake_at = math.inf
            stalled = False
            for job, sent in self._flights.items():  # in the order they were sent
                if job in self._stalled:
                    continue
                if now < sent + STALL_AFTER:
                    wake_at = sent + STALL_AFTER
                    break
                self._stalled.add(job)
                stalled = True
            if stalled and self._ready:
                self._hand_out()
            self._flight_started = anyio.Event()
            if self._flights and len(self._stalled) < len(self._flights):
                await anyio.sleep_until(wake_at)
            else:
                await self._flight_started.wait()

    async def _enforce_deadlines(self) -> None:
        """End each job at its ``job_timeout`` whatever it is doing: waiting in the ready
        queue behind busy workers, at the rate limiter, or with a request in flight."""
        deadlines = self._deadlines
        while True:
            if not deadlines:
                self._deadline_added = anyio.Event()
                await self._deadline_added.wait()
                continue
            job = next(iter(deadlines))
            if anyio.current_time() < job.deadline:
                await anyio.sleep_until(job.deadline)
                continue
            del deadlines[job]
            # A worker holding the job stops at the same moment and finds it gone.
            self._time_out(job)

    def _time_out(self, job: Job) -> None:
        now = anyio.current_time()
        reason = f"not finished within job_timeout ({self._job_timeout:g} s)"
        self._finish(job, self._policy.ended(job, Outcome.TIMED_OUT, now, reason=reason))

    def _finish(self, job: Job, event: CompletionEvent) -> None:
        job.gone = True
        self._deadlines.pop(job, None)
        if self._jobs.get(job.ref.name) is job:
            del self._jobs[job.ref.name]
        self.counts.outcomes[event.outcome] += 1
        quiet = event.outcome in (Outcome.COMPLETED, Outcome.FAILED) or isinstance(
            event.error,
            ServiceUnreachableError,  # said once, by the reachability check
        )
        (self._log.info if quiet else self._log.warning)(
            "job finished",
            job=job.ref.name,
            kind=self.spec.kind.value,
            outcome=event.outcome.value,
            polls=event.polls,
            waited=round(event.waited, 3),
            uri=strip_query(event.preferred_uri),
            failure_reason=event.failure_reason,
        )
        self._delivery.deliver(event)
        self._review_sources()

    # -- hint sources ------------------------------------------------------------------

    def _review_sources(self) -> None:
        """Start the sources now wanted and stop those no longer wanted."""
        if self._dead is not None:
            return  # the task group that ran them is gone
        if self._reviewing:
            self._review_again = True  # a start or stop below changed the picture
            return
        self._reviewing = True
        try:
            self._review_again = True
            while self._review_again:
                self._review_again = False
                self._review_once()
        finally:
            self._reviewing = False

    def _review_once(self) -> None:
        pending = len(self._jobs)
        for slot in self._slots:
            running = slot.scope is not None
            wanted = slot.source.wanted(pending, running, self.pushed())
            if wanted and not running and anyio.current_time() >= slot.not_before:
                self._start_source(slot)
            elif running and not wanted:
                self._stop_source(slot)

    def _start_source(self, slot: _Slot) -> None:
        assert self._task_group is not None
        scope = slot.scope = anyio.CancelScope()
        self._coverage_changed()
        self._task_group.start_soon(
            self._run_source, slot, scope, name=f"{slot.source.name} {self.spec.kind.value}"
        )

    def _stop_source(self, slot: _Slot) -> None:
        assert slot.scope is not None
        slot.scope.cancel()
        slot.scope = None
        self._coverage_changed()

    async def _run_source(self, slot: _Slot, scope: anyio.CancelScope) -> None:
        retry_in: float | None = None
        with scope:
            try:
                retry_in = await slot.source.run(self)
            except Exception as error:
                self._log.warning(
                    "hint source failed; polling each job",
                    source=slot.source.name,
                    kind=self.spec.kind.value,
                    error=describe(error),
                )
                retry_in = math.inf
        if retry_in is None:
            return  # stopped by _stop_source, which did the bookkeeping
        if slot.scope is scope:
            slot.scope = None
            self._coverage_changed()
        slot.not_before = anyio.current_time() + retry_in
        if math.isfinite(retry_in):
            assert self._task_group is not None
            self._task_group.start_soon(self._review_after, retry_in)

    async def _review_after(self, seconds: float) -> None:
        await anyio.sleep(seconds)
        self._review_sources()

    def _coverage_changed(self) -> None:
        pushed = self.pushed()
        if pushed != self._pushed:
            self._pushed = pushed
            # Push started or stopped: the other sources change pace, from now.
            for slot in self._slots:
                if slot.scope is not None and not slot.source.push:
                    self._stop_source(slot)
            self._review_sources()
        covering = [slot.source.reconcile_after for slot in self._slots if slot.scope is not None]
        was_covered = self._reconcile is not None
        self._reconcile = min(covering) if covering else None
        if was_covered and self._reconcile is None:
            # No hints will come: every job goes back to its ordinary reads from now,
            # spread over one cadence.
            now = anyio.current_time()
            cadence = self.cadence()
            jobs = [job for job in self._jobs.values() if not job.in_flight]
            for i, job in enumerate(jobs):
                due = now + cadence * (i + 1) / len(jobs)
                if due < job.due:
                    self._schedule(job, due)
