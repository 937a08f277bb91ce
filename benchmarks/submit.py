"""``Poller.submit`` at the size it exists for, in virtual time: the account's limits,
the makespan, a crash and a re-run.

Every part runs on ``FakeTranscribe`` under trio's ``MockClock`` (virtual time:
hours of batch take seconds), with AWS's default caps of jobs running at once (250
standard, 100 Call Analytics) and AWS's default quotas on the fake: Start 25/s
(StartTranscriptionJob) and 10/s (StartCallAnalyticsJob), Get 30/s and 20/s, List
5/s, each a token bucket of one second's burst; a request over a quota is answered
LimitExceededException, as Transcribe answers it. Jobs run 1-10 minutes (uniform,
seeded by ``--seed``), each from the moment its Start is accepted. Every Poller has
the default options, whose jitter is not seeded: figures move a little from run to
run (a makespan by a few tens of seconds).

Parts:

* ``submit``: 3,000 standard requests through ``poller.submit(requests)`` (``--only
  submit`` runs the ``semaphore`` rows too).
* ``semaphore``: the same batch by hand, as user code would do it without
  ``submit``: an ``anyio.Semaphore(250)`` around each job, a Start retried on
  LimitExceededException or ThrottlingException after a sleep (exponential
  backoff with full jitter: uniform in 0 to min(20, 2**attempt) s), then
  ``poller.wait(job)`` (``semaphore+wait``), or instead a plain Get every 10 s
  until the job ends (``semaphore+get10``, each Get retried the same way when
  throttled).
* ``rerun``: the ``submit`` batch, its poller left (the ``async with`` exited)
  after half the events, as a crash would; then a new Poller submits the same
  manifest and reports every job.
* ``mixed``: 1,000 Call Analytics requests among the 3,000 standard ones in one
  manifest (every fourth request is a Call Analytics one).

Measured, from the fake's own records (each Start request's time and answer is
recorded at the fake's door; the jobs' scripts give when each ran):

* ``ERROR``: events with ERROR reaching the caller; ``LE→caller`` those whose
  error is a LimitExceededException. The hand-written loop handles every
  LimitExceededException itself (it retries), so its ERROR counts are 0 by
  construction; its ``LE`` columns say what its code had to absorb.
* ``LE cap``, ``LE rate``: Start requests the fake refused with
  LimitExceededException for the cap (the kind ran as many jobs as it may) and for
  the Start quota; ``LE all``: LimitExceededException answers of every operation
  (Gets and Lists over their quotas included).
* ``peak``: the most jobs of the kind running at once on the fake (exact, from
  the scripts: a job runs from its slot to its end).
* ``makespan``: from the batch's first request to its last event, virtual
  seconds; ``ideal``: the makespan of list scheduling in manifest order on the
  cap's slots, each slot reused the instant its job ends, Starts spaced 1/rate s
  (the Start quota), to the last job's end; ``ratio`` = makespan / ideal.
* ``det p50``/``det p95``: detection latency, from a job's end (its script's
  ``terminal_at``) to the moment its event reached the caller.
* ``req/job``: Transcribe requests of every operation (Start, Get, List, throttled
  ones included) per job; ``Start/job``: Start requests per job.
* ``Start/1s``: the most Start requests of the kind that reached the fake in any
  one-second window [t, t + 1) (in whole microseconds); ``ok/1s`` the most
  accepted ones; ``gap ms``: the shortest time between two Start requests.

    .venv/bin/python benchmarks/submit.py                 # every part, full size
    .venv/bin/python benchmarks/submit.py --only rerun    # one of them
    .venv/bin/python benchmarks/submit.py --smoke         # a tiny size of each
    .venv/bin/python benchmarks/submit.py --latency 0.05  # each answer 50 ms late

With ``--smoke`` the sizes are tiny (60 standard and 20 Call Analytics requests,
caps of 10 and 4, which the pollers are told with ``max_running``); the figures
then check that every part runs, not the targets. A benchmark prints figures; it
is not a test. It exits 1 only if a job was lost or wrong, ran over its cap, or
was started twice; a target missed is printed as such.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import functools
import heapq
import itertools
import logging
import math
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import botocore.exceptions
import structlog
import trio.testing

from transcribe_poller import CompletionEvent, JobKind, JobRef, Outcome, Poller, PollerOptions
from transcribe_poller.testing import FakeTranscribe

MINUTE = 60.0
QUOTAS: dict[str, float | tuple[float, float]] = {
    "StartTranscriptionJob": 25.0,
    "StartCallAnalyticsJob": 10.0,
    "GetTranscriptionJob": 30.0,
    "GetCallAnalyticsJob": 20.0,
    "ListTranscriptionJobs": 5.0,
    "ListCallAnalyticsJobs": 5.0,
}
START_OPERATIONS = {
    JobKind.STANDARD: "StartTranscriptionJob",
    JobKind.CALL_ANALYTICS: "StartCallAnalyticsJob",
}
START_RATE = {JobKind.STANDARD: 25.0, JobKind.CALL_ANALYTICS: 10.0}
THROTTLES = ("LimitExceededException", "ThrottlingException")
GET_EVERY = 10.0  # the hand-written Get loop's cadence, seconds
RETRY_LONGEST = 20.0  # the hand-written retry's longest sleep, seconds
CALL_EVERY = 4  # in the mixed manifest, every fourth request is Call Analytics

# Targets of the issue.
RATIO_TARGET = 1.03
REQUESTS_PER_JOB_TARGET = 3.5
RERUN_STARTS_PER_JOB_TARGET = 1.1
RERUN_FIRST_EVENT_TARGET = 5.0


@dataclass(frozen=True)
class Size:
    """How big each part is."""

    standard: int = 3000
    calls: int = 1000
    cap: int = 250
    call_cap: int = 100
    run_time: tuple[float, float] = (1 * MINUTE, 10 * MINUTE)

    @property
    def caps(self) -> dict[JobKind, int]:
        return {JobKind.STANDARD: self.cap, JobKind.CALL_ANALYTICS: self.call_cap}

    def poller_options(self) -> PollerOptions:
        """The Poller's options: the defaults, unless the caps are not AWS's."""
        if self == Size():
            return PollerOptions()
        return PollerOptions(
            max_running={JobKind.STANDARD: self.cap, JobKind.CALL_ANALYTICS: self.call_cap}
        )


FULL = Size()
SMOKE = Size(standard=60, calls=20, cap=10, call_cap=4)


# -- the workload ------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """The requests, in order, and how long each job runs."""

    requests: list[dict[str, Any]]
    jobs: list[JobRef]
    run_time: dict[JobRef, float]

    def of(self, kind: JobKind) -> list[JobRef]:
        return [job for job in self.jobs if job.kind is kind]


def manifest(size: Size, seed: int, *, calls: bool) -> Manifest:
    """``size.standard`` standard requests, with ``size.calls`` Call Analytics ones
    among them (every ``CALL_EVERY``-th) when ``calls``; seeded durations."""
    rng = random.Random(seed)
    requests: list[dict[str, Any]] = []
    jobs: list[JobRef] = []
    run_time: dict[JobRef, float] = {}
    standard = call = 0
    total = size.standard + (size.calls if calls else 0)
    for index in range(total):
        is_call = calls and call < size.calls and (index % CALL_EVERY == CALL_EVERY - 1)
        if not is_call and standard >= size.standard:
            is_call = True
        if is_call:
            job = JobRef(f"call-{call:05d}", JobKind.CALL_ANALYTICS)
            call += 1
            requests.append(
                {"CallAnalyticsJobName": job.name, "Media": {"MediaFileUri": media(job)}}
            )
        else:
            job = JobRef(f"std-{standard:05d}")
            standard += 1
            requests.append(
                {
                    "TranscriptionJobName": job.name,
                    "Media": {"MediaFileUri": media(job)},
                    "LanguageCode": "en-US",
                }
            )
        jobs.append(job)
        run_time[job] = rng.uniform(*size.run_time)
    return Manifest(requests, jobs, run_time)


def media(job: JobRef) -> str:
    return f"s3://batch-media/{job.kind.value}/{job.name}.wav"


def ideal_makespan(durations: Sequence[float], slots: int, rate: float) -> float:
    """List scheduling in order on ``slots`` slots, each reused the instant its job
    ends, Starts at least ``1 / rate`` s apart: when the last job ends."""
    free = [0.0] * slots
    start = -1.0 / rate
    end = 0.0
    for duration in durations:
        start = max(start + 1.0 / rate, heapq.heappop(free))
        heapq.heappush(free, start + duration)
        end = max(end, start + duration)
    return end


# -- the fake, recording each Start ----------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """One Start request at the fake's door: when, which job, and its answer's code
    ("" when accepted)."""

    at: float
    job: JobRef
    code: str


class RecordingFake(FakeTranscribe):
    """FakeTranscribe that records every Start request and its answer."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.starts: list[Start] = []

    async def start_transcription_job(self, **params: Any) -> dict[str, Any]:
        job = JobRef(str(params.get("TranscriptionJobName")))
        return await self._recorded(job, super().start_transcription_job(**params))

    async def start_call_analytics_job(self, **params: Any) -> dict[str, Any]:
        job = JobRef(str(params.get("CallAnalyticsJobName")), JobKind.CALL_ANALYTICS)
        return await self._recorded(job, super().start_call_analytics_job(**params))

    async def _recorded(self, job: JobRef, answer: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        at = self.now()
        try:
            result = await answer
        except botocore.exceptions.ClientError as error:
            self.starts.append(Start(at, job, code_of(error)))
            raise
        except Exception as error:
            self.starts.append(Start(at, job, type(error).__name__))
            raise
        self.starts.append(Start(at, job, ""))
        return result


def new_fake(size: Size, work: Manifest, seed: int, latency: float) -> RecordingFake:
    fake = RecordingFake(
        run_time=lambda job: work.run_time[job],
        concurrency={JobKind.STANDARD: size.cap, JobKind.CALL_ANALYTICS: size.call_cap},
    )
    fake.set_faults(quota=dict(QUOTAS), seed=seed, latency=latency)
    return fake


def code_of(error: BaseException) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


# -- what a run saw, and the figures made of it ------------------------------------------------


@dataclass
class Seen:
    """Events as the caller received them: (job, outcome, error code, time)."""

    began: float = 0.0
    events: list[tuple[JobRef, Outcome, str, float]] = field(default_factory=list)

    def add(self, event: CompletionEvent) -> None:
        error = event.error
        cause = error.__cause__ if error is not None else None
        code = code_of(cause) if cause is not None else code_of(error) if error else ""
        self.events.append((event.job, event.outcome, code, anyio.current_time()))


@dataclass
class Row:
    """One kind's figures of one run."""

    name: str
    jobs: int
    reported: int = 0
    wrong: int = 0  # reported with an outcome other than COMPLETED (ERROR included)
    errors: int = 0
    limit_errors: int = 0  # ERROR events caused by LimitExceededException
    limit_cap: int = 0
    limit_rate: int = 0
    limit_all: int = 0
    peak: int = 0
    cap: int = 0
    makespan: float = 0.0
    ideal: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    requests_per_job: float = 0.0
    starts_per_job: float = 0.0
    starts_per_second: int = 0  # the most Start requests in one second
    accepted_per_second: int = 0  # the most accepted Starts in one second
    closest: float = 0.0  # the shortest time between two Start requests
    wall: float = 0.0

    @property
    def ratio(self) -> float:
        return self.makespan / self.ideal if self.ideal else 0.0


def figures(
    name: str,
    fake: RecordingFake,
    work: Manifest,
    seen: Seen,
    kind: JobKind,
    size: Size,
    *,
    all_kinds: bool = True,
) -> Row:
    """One kind's row: from the caller's events and the fake's records."""
    jobs = work.of(kind)
    row = Row(name, len(jobs), cap=size.caps[kind])
    mine = [e for e in seen.events if e[0].kind is kind]
    reported = {job for job, *_ in mine}
    row.reported = len(reported & set(jobs))
    row.wrong = sum(1 for _, outcome, _, _ in mine if outcome is not Outcome.COMPLETED)
    row.errors = sum(1 for _, outcome, _, _ in mine if outcome is Outcome.ERROR)
    row.limit_errors = sum(
        1
        for _, outcome, code, _ in mine
        if outcome is Outcome.ERROR and code == "LimitExceededException"
    )
    traffic = fake.traffic().by_operation
    operation = START_OPERATIONS[kind]
    starts = [s for s in fake.starts if s.job.kind is kind]
    row.limit_rate = traffic[operation].throttled if operation in traffic else 0
    limited = sum(1 for s in starts if s.code == "LimitExceededException")
    row.limit_cap = limited - row.limit_rate
    throttled = sum(c.throttled for op, c in traffic.items() if all_kinds or kind_of(op) is kind)
    # Throttled answers are LimitExceededException (the fake's throttle_error), and the
    # cap's refusals are too.
    row.limit_all = throttled + row.limit_cap
    scripts = [s for (k, _), s in fake.scripts.items() if k is kind]
    row.peak = peak_running([(s.runs_from, s.terminal_at) for s in scripts])
    if mine:
        row.makespan = max(at for *_, at in mine) - seen.began
    row.ideal = ideal_makespan([work.run_time[j] for j in jobs], size.caps[kind], START_RATE[kind])
    latencies = [
        at - fake.script(job.name, job.kind).terminal_at
        for job, outcome, _, at in mine
        if outcome is Outcome.COMPLETED
    ]
    if len(latencies) >= 2:
        row.p50, row.p95 = percentiles(latencies, (50, 95))
    requests = sum(c.requests for op, c in traffic.items() if all_kinds or kind_of(op) is kind)
    row.requests_per_job = requests / len(jobs)
    row.starts_per_job = len(starts) / len(jobs)
    row.starts_per_second = most_in_a_second([s.at for s in starts])
    row.accepted_per_second = most_in_a_second([s.at for s in starts if not s.code])
    row.closest = closest([s.at for s in starts])
    return row


def kind_of(operation: str) -> JobKind:
    return JobKind.CALL_ANALYTICS if "CallAnalytics" in operation else JobKind.STANDARD


def peak_running(spans: Iterable[tuple[float, float]]) -> int:
    """The most spans [start, end) that hold at one instant (an end before a start at
    the same time: the slot is free again)."""
    changes = sorted(
        [(start, 1) for start, end in spans if end > start]
        + [(end, -1) for start, end in spans if end > start]
    )
    running = peak = 0
    for _, step in changes:
        running += step
        peak = max(peak, running)
    return peak


def most_in_a_second(times: list[float]) -> int:
    """The most of ``times`` in any window [t, t + 1), counted in whole microseconds:
    the clock's floats carry rounding (ten steps of 0.1 s add up to 0.9999999999999999
    s), which would put a Start exactly 1 s after another in its window."""
    ticks = sorted(round(at * 1_000_000) for at in times)
    most = 0
    for index, tick in enumerate(ticks):
        most = max(most, bisect.bisect_left(ticks, tick + 1_000_000) - index)
    return most


def closest(times: list[float]) -> float:
    """The shortest time between two of ``times`` (inf with fewer than two)."""
    times = sorted(times)
    return min((later - first for first, later in itertools.pairwise(times)), default=math.inf)


def percentiles(values: list[float], which: tuple[int, ...]) -> list[float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [cuts[p - 1] for p in which]


# -- the contenders -----------------------------------------------------------------------------


async def through_submit(
    poller: Poller, requests: Iterable[dict[str, Any]], seen: Seen, stop_after: int | None = None
) -> None:
    seen.began = anyio.current_time()
    async with poller.submit(requests) as events:
        async for event in events:
            seen.add(event)
            if stop_after is not None and len(seen.events) >= stop_after:
                break


async def by_hand(
    fake: FakeTranscribe,
    poller: Poller,
    work: Manifest,
    seen: Seen,
    *,
    slots: int,
    get_loop: bool,
    seed: int,
) -> None:
    """A semaphore of ``slots``, each Start retried after a sleep when throttled, then
    ``poller.wait(job)`` (or a Get every 10 s with ``get_loop``)."""
    rng = random.Random(seed)
    semaphore = anyio.Semaphore(slots)

    async def retried(call: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return await call()
            except botocore.exceptions.ClientError as error:
                if code_of(error) not in THROTTLES:
                    raise
                attempt += 1
                await anyio.sleep(rng.uniform(0, min(RETRY_LONGEST, 2.0**attempt)))

    async def get_every(job: JobRef) -> CompletionEvent:
        while True:
            answer = await retried(
                lambda: fake.get_transcription_job(TranscriptionJobName=job.name)
            )
            status = answer["TranscriptionJob"]["TranscriptionJobStatus"]
            if status in ("COMPLETED", "FAILED"):
                return CompletionEvent(job, Outcome(status))
            await anyio.sleep(GET_EVERY)

    async def one(request: dict[str, Any], job: JobRef) -> None:
        async with semaphore:
            await retried(lambda: fake.start_transcription_job(**request))
            event = await get_every(job) if get_loop else await poller.wait(job)
            seen.add(event)

    seen.began = anyio.current_time()
    async with anyio.create_task_group() as task_group:
        for request, job in zip(work.requests, work.jobs, strict=True):
            task_group.start_soon(one, request, job)


# -- the parts --------------------------------------------------------------------------------


def virtual(part: Callable[[], Awaitable[Any]]) -> Any:
    clock = trio.testing.MockClock(autojump_threshold=0)
    return anyio.run(part, backend="trio", backend_options={"clock": clock})


def part_submit(size: Size, seed: int, latency: float) -> list[Row]:
    """Part 1 and 2: the batch through submit, and by hand."""
    work = manifest(size, seed, calls=False)
    rows = []
    for contender in ("submit", "semaphore+wait", "semaphore+get10"):
        fake = new_fake(size, work, seed, latency)
        seen = Seen()
        wall = time.perf_counter()
        virtual(functools.partial(run_contender, contender, fake, work, seen, size, seed))
        row = figures(contender, fake, work, seen, JobKind.STANDARD, size)
        row.wall = time.perf_counter() - wall
        rows.append(row)
    return rows


async def run_contender(
    contender: str, fake: RecordingFake, work: Manifest, seen: Seen, size: Size, seed: int
) -> None:
    async with Poller(fake, **size.poller_options()) as poller:
        if contender == "submit":
            await through_submit(poller, work.requests, seen)
        else:
            get_loop = contender.endswith("get10")
            await by_hand(fake, poller, work, seen, slots=size.cap, get_loop=get_loop, seed=seed)


@dataclass
class Rerun:
    """Part 3's figures."""

    jobs: int
    first_events: int = 0
    reported: int = 0  # distinct jobs the re-run reported
    events: int = 0  # events of the re-run (one per job expected)
    wrong: int = 0
    starts_first: int = 0
    starts_rerun: int = 0
    conflicts: int = 0
    started_twice: int = 0
    scripts: int = 0
    first_event: float = 0.0
    gets_first: int = 0  # Gets of the re-run before its first new Start
    rerun_requests_per_job: float = 0.0
    rerun_makespan: float = 0.0
    total_makespan: float = 0.0
    ideal: float = 0.0
    wall: float = 0.0

    @property
    def starts_per_job(self) -> float:
        return (self.starts_first + self.starts_rerun) / self.jobs


def part_rerun(size: Size, seed: int, latency: float) -> Rerun:
    """Part 3: a crash after half the events, and a new Poller on the same manifest."""
    work = manifest(size, seed, calls=False)
    fake = new_fake(size, work, seed, latency)
    first, again = Seen(), Seen()
    result = Rerun(size.standard)
    marks: dict[str, float] = {}

    async def run() -> None:
        async with Poller(fake, **size.poller_options()) as poller:
            await through_submit(poller, work.requests, first, stop_after=size.standard // 2)
        result.starts_first = len(fake.starts)
        before = sum(c.requests for c in fake.traffic().by_operation.values())
        marks["crash"] = anyio.current_time()
        async with Poller(fake, **size.poller_options()) as poller:
            await through_submit(poller, work.requests, again)
        marks["end"] = anyio.current_time()
        after = sum(c.requests for c in fake.traffic().by_operation.values())
        result.rerun_requests_per_job = (after - before) / size.standard

    wall = time.perf_counter()
    virtual(run)
    result.wall = time.perf_counter() - wall
    result.first_events = len(first.events)
    result.events = len(again.events)
    result.reported = len({job for job, *_ in again.events} & set(work.jobs))
    result.wrong = sum(1 for _, outcome, _, _ in again.events if outcome is not Outcome.COMPLETED)
    result.starts_rerun = len(fake.starts) - result.starts_first
    rerun_starts = fake.starts[result.starts_first :]
    result.conflicts = sum(1 for s in rerun_starts if s.code == "ConflictException")
    accepted: dict[JobRef, int] = {}
    for start in fake.starts:
        if not start.code:
            accepted[start.job] = accepted.get(start.job, 0) + 1
    result.started_twice = sum(1 for count in accepted.values() if count > 1)
    result.scripts = len(fake.scripts)
    if again.events:
        result.first_event = min(at for *_, at in again.events) - marks["crash"]
    result.rerun_makespan = marks["end"] - marks["crash"]
    result.total_makespan = marks["end"] - first.began
    result.ideal = ideal_makespan(
        [work.run_time[j] for j in work.jobs], size.cap, START_RATE[JobKind.STANDARD]
    )
    return result


def part_mixed(size: Size, seed: int, latency: float) -> list[Row]:
    """Part 4: Call Analytics requests among the standard ones, in one manifest."""
    work = manifest(size, seed, calls=True)
    fake = new_fake(size, work, seed, latency)
    seen = Seen()

    async def run() -> None:
        async with Poller(fake, **size.poller_options()) as poller:
            await through_submit(poller, work.requests, seen)

    wall = time.perf_counter()
    virtual(run)
    took = time.perf_counter() - wall
    rows = []
    for kind in (JobKind.STANDARD, JobKind.CALL_ANALYTICS):
        row = figures(f"mixed {kind.value}", fake, work, seen, kind, size, all_kinds=False)
        row.wall = took
        rows.append(row)
    return rows


# -- the tables -----------------------------------------------------------------------------


def render_rows(rows: list[Row], title: str) -> str:
    head = (
        f"{'contender':<21} {'jobs':>5} {'lost':>4} {'ERROR':>5} {'LE→caller':>9} "
        f"{'LE cap':>6} {'LE rate':>7} {'LE all':>6} {'peak':>4} {'cap':>4} "
        f"{'makespan s':>10} {'ideal s':>8} {'ratio':>6} {'det p50':>7} {'det p95':>7} "
        f"{'req/job':>7} {'Start/job':>9} {'Start/1s':>8} {'ok/1s':>5} {'gap ms':>6} {'wall s':>6}"
    )
    lines = [title, head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<21} {r.jobs:>5} {r.jobs - r.reported:>4} {r.errors:>5} "
            f"{r.limit_errors:>9} {r.limit_cap:>6} {r.limit_rate:>7} {r.limit_all:>6} "
            f"{r.peak:>4} {r.cap:>4} {r.makespan:>10.1f} {r.ideal:>8.1f} {r.ratio:>6.3f} "
            f"{r.p50:>7.2f} {r.p95:>7.2f} {r.requests_per_job:>7.2f} {r.starts_per_job:>9.3f} "
            f"{r.starts_per_second:>8} {r.accepted_per_second:>5} {r.closest * 1000:>6.1f} "
            f"{r.wall:>6.1f}"
        )
    return "\n".join(lines)


def render_rerun(r: Rerun) -> str:
    head = (
        f"{'jobs':>5} {'1st-run events':>14} {'re-run events':>13} {'reported':>8} "
        f"{'wrong':>5} {'Starts 1st':>10} {'Starts re-run':>13} {'conflicts':>9} "
        f"{'Start/job':>9} {'started twice':>13} {'scripts':>7} {'1st event s':>11} "
        f"{'re-run req/job':>14} {'re-run s':>8} {'total s':>8} {'ideal s':>8} {'wall s':>6}"
    )
    row = (
        f"{r.jobs:>5} {r.first_events:>14} {r.events:>13} {r.reported:>8} {r.wrong:>5} "
        f"{r.starts_first:>10} {r.starts_rerun:>13} {r.conflicts:>9} {r.starts_per_job:>9.3f} "
        f"{r.started_twice:>13} {r.scripts:>7} {r.first_event:>11.2f} "
        f"{r.rerun_requests_per_job:>14.2f} {r.rerun_makespan:>8.1f} {r.total_makespan:>8.1f} "
        f"{r.ideal:>8.1f} {r.wall:>6.1f}"
    )
    return "\n".join(
        ["Part 3: crash after half the events, then a re-run", head, "-" * len(head), row]
    )


def targets(
    submit: list[Row] | None, rerun: Rerun | None, mixed: list[Row] | None
) -> list[tuple[str, bool]]:
    """Each target and whether it was met."""
    met: list[tuple[str, bool]] = []
    if submit:
        r = submit[0]
        met += [
            (
                f"submit: no LimitExceeded reaches the caller ({r.limit_errors})",
                r.limit_errors == 0,
            ),
            (f"submit: peak running <= {r.cap} ({r.peak})", r.peak <= r.cap),
            (f"submit: makespan within 3% of ideal ({r.ratio:.3f})", r.ratio <= RATIO_TARGET),
            (
                f"submit: requests per job <= {REQUESTS_PER_JOB_TARGET} ({r.requests_per_job:.2f})",
                r.requests_per_job <= REQUESTS_PER_JOB_TARGET,
            ),
        ]
    if rerun:
        met += [
            (
                f"rerun: every job reported ({rerun.reported}/{rerun.jobs})",
                rerun.reported == rerun.jobs,
            ),
            (
                f"rerun: Start requests per job <= {RERUN_STARTS_PER_JOB_TARGET} "
                f"({rerun.starts_per_job:.3f})",
                rerun.starts_per_job <= RERUN_STARTS_PER_JOB_TARGET,
            ),
            (f"rerun: no job started twice ({rerun.started_twice})", rerun.started_twice == 0),
            (
                f"rerun: first event within {RERUN_FIRST_EVENT_TARGET:g} s "
                f"({rerun.first_event:.2f} s)",
                rerun.first_event <= RERUN_FIRST_EVENT_TARGET,
            ),
        ]
    if mixed:
        calls = mixed[1]
        met += [
            (f"mixed: Call Analytics peak <= {calls.cap} ({calls.peak})", calls.peak <= calls.cap),
            (
                f"mixed: Call Analytics Starts never above 10 in a second "
                f"({calls.starts_per_second})",
                calls.starts_per_second <= 10,
            ),
        ]
    return met


def sound(rows: list[Row], rerun: Rerun | None) -> bool:
    """No job lost or wrong, none over its cap, none started twice (the musts)."""
    ok = all(r.reported == r.jobs and r.wrong == 0 and r.peak <= r.cap for r in rows)
    if rerun is not None:
        ok = ok and rerun.reported == rerun.jobs and rerun.wrong == 0
        ok = ok and rerun.started_twice == 0 and rerun.scripts == rerun.jobs
    return ok


PARTS = ("submit", "rerun", "mixed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="one part (submit includes semaphore)"
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny size of each part")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the fake takes to answer each request (default 0)",
    )
    args = parser.parse_args(argv)
    # Only warnings: a run makes hundreds of thousands of debug lines otherwise.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    size = SMOKE if args.smoke else FULL
    parts = args.only or list(PARTS)
    submit = rerun = mixed = None
    tables = []
    if "submit" in parts:
        submit = part_submit(size, args.seed, args.latency)
        tables.append(render_rows(submit, "Parts 1-2: one batch of standard requests"))
    if "rerun" in parts:
        rerun = part_rerun(size, args.seed, args.latency)
        tables.append(render_rerun(rerun))
    if "mixed" in parts:
        mixed = part_mixed(size, args.seed, args.latency)
        tables.append(render_rows(mixed, "Part 4: Call Analytics among standard, one manifest"))
    print(f"sizes: {dataclasses.asdict(size)}, seed {args.seed}, latency {args.latency:g} s")
    print("\n\n".join(tables))
    print("\nTargets" + (" (smoke size: figures mean nothing)" if args.smoke else ""))
    for text, met in targets(submit, rerun, mixed):
        print(f"  {'met   ' if met else 'MISSED'} {text}")
    rows = [r for r in (submit or [])[:1] + (mixed or [])]
    return 0 if sound(rows, rerun) else 1


if __name__ == "__main__":
    sys.exit(main())
