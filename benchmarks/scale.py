"""Batch work at the size it exists for, in virtual time: cost per job and latency.

Every workload runs on ``FakeTranscribe`` under trio's ``MockClock`` (virtual time:
hours of polling take seconds), with AWS's default quotas on the fake (Get 30/s,
List 5/s, per operation) and the account's concurrency cap (250 running jobs per
kind, the rest QUEUED first in, first out), with the Poller's default options.
Jobs are started at the Start quota's pace (25/s), as a real batch would be.

Workloads:

* ``batch-1k``: 1,000 standard jobs of 1-10 min, 250 at a time.
* ``batch-3k``: 3,000 jobs of 1-10 min (30% medical), 250 at a time per kind.
* ``long``: 200 jobs of 1-4 hours, all running at once.
* ``push-1k``: ``batch-1k`` with an ``EventBridgeQueue`` (10% of events lost, 5%
  duplicated, 0-2 s late).
* ``service``: a long-running service: a job arrives every 2 s for two hours
  (1-10 min each), each awaited by its own ``wait()``.
* ``alone``: one job awaited alone at a time (1-15 min), 200 in a row: a web
  request waiting for its job.
* ``note``: the same with short jobs (10-60 s, a voice note); ``note-push`` with
  an ``EventBridgeQueue`` whose events arrive as the job ends (nothing lost), and
  ``note-push-late`` with events 0-2 s late, as ``push-1k``'s: there the latency
  is the event's, and the p95 from its arrival is what the poller adds.
* ``quiet``: a quiet service: a job every 2 min for 6 hours (1-15 min each, 0-10
  pending at a time).
* ``tied-3k``: 3,000 standard jobs created in one instant (their creation times
  tie), 250 at a time.

With ``--waiter``, the workloads awaited one ``wait()`` per job also get a row for
aiobotocore's waiter's cadence (a Get at once, then every 10 s) on the same jobs;
a waiter that meets a throttled answer dies, as aiobotocore's does, and its job
counts as lost.

Per workload it prints: jobs lost (never reported) and wrong (an outcome other
than the script's), Gets per job, Lists per job and per minute, requests per
second while any job was pending (``req/s``), the share of
requests throttled, detection latency (from the moment a job's status became
final, or it was awaited if later, to the moment its event was handed to the
caller) at p50/p95/p99 (with push, also the p95 from the arrival of the job's
message, for jobs whose message came),
the virtual hours the workload spans, and the CPU time of the whole process (the
poller plus the fake service it talks to); with ``--cpu-split``, also the poller's
own share of it, from a profiled second run (see :func:`poller_share`).

    .venv/bin/python benchmarks/scale.py                 # every workload, full size
    .venv/bin/python benchmarks/scale.py --only long     # one of them
    .venv/bin/python benchmarks/scale.py --smoke         # a tiny size of each
    .venv/bin/python benchmarks/scale.py --only note --waiter  # beside the waiter

A benchmark prints figures; it is not a test (the smoke size runs in the tests).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import logging
import math
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
import botocore.exceptions
import structlog
import trio.testing

from transcribe_poller import CompletionEvent, EventBridgeQueue, JobKind, JobRef, Outcome, Poller
from transcribe_poller.testing import FakeTranscribe

START_RATE = 25.0  # StartTranscriptionJob's default quota, per second
QUOTAS = {
    "GetTranscriptionJob": 30.0,
    "GetMedicalTranscriptionJob": 30.0,
    "ListTranscriptionJobs": 5.0,
    "ListMedicalTranscriptionJobs": 5.0,
}
CAP = 250
MINUTE = 60.0
HOUR = 3600.0
WAITER_DELAY = 10.0  # aiobotocore's transcription_job_completed waiter


@dataclass(frozen=True)
class Workload:
    """One batch or service shape."""

    name: str
    jobs: int
    run_time: tuple[float, float]  # seconds, uniform
    medical_share: float = 0.0
    cap: int | None = CAP
    push: bool = False
    arrival_every: float | None = None  # a service: one job per that many seconds
    same_instant: bool = False  # a batch created at once: creation times tie
    loss: float = 0.1  # of the queue's events, with push
    delay: tuple[float, float] = (0.0, 2.0)  # seconds from a job's end to its event, uniform

    def scaled(self, factor: float) -> Workload:
        """The same shape, ``factor`` times as many jobs (and a cap to match)."""
        jobs = max(10, round(self.jobs * factor))
        cap = None if self.cap is None else max(5, round(self.cap * factor))
        low, high = self.run_time
        return dataclasses.replace(self, jobs=jobs, run_time=(low * factor, high * factor), cap=cap)


WORKLOADS = {
    w.name: w
    for w in (
        Workload("batch-1k", 1000, (1 * MINUTE, 10 * MINUTE)),
        Workload("batch-3k", 3000, (1 * MINUTE, 10 * MINUTE), medical_share=0.3),
        Workload("long", 200, (1 * HOUR, 4 * HOUR)),
        Workload("push-1k", 1000, (1 * MINUTE, 10 * MINUTE), push=True),
        Workload("service", 3600, (1 * MINUTE, 10 * MINUTE), arrival_every=2.0),
        Workload("alone", 200, (1 * MINUTE, 15 * MINUTE), arrival_every=16 * MINUTE),
        Workload("note", 200, (10.0, 60.0), arrival_every=61.0),
        Workload(
            "note-push", 200, (10.0, 60.0), arrival_every=61.0, push=True, loss=0.0, delay=(0, 0)
        ),
        Workload("note-push-late", 200, (10.0, 60.0), arrival_every=61.0, push=True, loss=0.0),
        Workload("quiet", 180, (1 * MINUTE, 15 * MINUTE), arrival_every=2 * MINUTE),
        Workload("tied-3k", 3000, (1 * MINUTE, 10 * MINUTE), same_instant=True),
    )
}


@dataclass
class Result:
    """What one workload measured."""

    workload: str
    jobs: int
    lost: int = 0
    wrong: int = 0
    gets_per_job: float = 0.0
    lists_per_job: float = 0.0
    lists_per_minute: float = 0.0
    requests_per_job: float = 0.0
    requests_per_second: float = 0.0  # while any job was pending
    throttled_share: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    pushed_p95: float | None = None  # jobs whose event arrived: from its arrival
    virtual_minutes: float = 0.0
    cpu_seconds: float = 0.0
    poller_cpu_seconds: float | None = None  # with --cpu-split
    latencies: list[float] = field(default_factory=list, repr=False)


def plan(workload: Workload, seed: int) -> list[tuple[float, JobRef, float]]:
    """(start time, job, run time) of every job, in start order."""
    rng = random.Random(seed)
    jobs = []
    for i in range(workload.jobs):
        medical = rng.random() < workload.medical_share
        ref = JobRef(f"scale-{i:05d}", JobKind.MEDICAL if medical else JobKind.STANDARD)
        if workload.arrival_every:
            at = i * workload.arrival_every
        else:
            at = 0.0 if workload.same_instant else i / START_RATE
        jobs.append((at, ref, rng.uniform(*workload.run_time)))
    return jobs


async def waiter(fake: FakeTranscribe, ref: JobRef) -> CompletionEvent:
    """aiobotocore's waiter's cadence: a Get at once, then one every 10 s."""
    polls = 0
    while True:
        polls += 1
        answer = await fake.get_transcription_job(TranscriptionJobName=ref.name)
        status = answer["TranscriptionJob"]["TranscriptionJobStatus"]
        if status in ("COMPLETED", "FAILED"):
            return CompletionEvent(ref, Outcome(status), polls=polls)
        await anyio.sleep(WAITER_DELAY)


async def run(workload: Workload, seed: int, contender: str = "poller") -> Result:
    fake = FakeTranscribe(concurrency=workload.cap)
    fake.set_faults(quota=dict(QUOTAS), seed=seed)
    jobs = plan(workload, seed)
    refs = [ref for _, ref, _ in jobs]
    name = workload.name if contender == "poller" else f"{workload.name} ({contender})"
    result = Result(name, workload.jobs)
    reported: dict[JobRef, float] = {}
    outcomes: dict[JobRef, Outcome] = {}
    queue = fake.event_queue(loss=workload.loss, duplicate=0.05, delay=workload.delay, seed=seed)
    notifications = EventBridgeQueue(queue, queue.url) if workload.push else None
    cpu = time.process_time()
    awaited_at: dict[JobRef, float] = {}
    async with Poller(fake, notifications=notifications) as poller:

        async def await_one(ref: JobRef) -> None:
            awaited_at[ref] = anyio.current_time()
            if contender == "waiter":
                try:
                    event = await waiter(fake, ref)
                except botocore.exceptions.ClientError:
                    return  # the waiter dies on a throttled answer: lost to its caller
            else:
                event = await poller.wait(ref)
            reported[ref] = anyio.current_time()
            outcomes[ref] = event.outcome

        async def start_all(spawn: Callable[[JobRef], Coroutine[Any, Any, None]] | None) -> None:
            for at, ref, run_time in jobs:
                await anyio.sleep(max(0.0, at - anyio.current_time()))
                fake.start_job(ref.name, kind=ref.kind, duration=run_time, queued_for=0)
                if spawn is not None:
                    task_group.start_soon(spawn, ref)

        async with anyio.create_task_group() as task_group:
            if workload.arrival_every:
                task_group.start_soon(start_all, await_one)  # each job its own wait()
            else:
                await start_all(None)  # the batch is started, then watched as one

                async def watch_all() -> None:
                    awaited_at.update(dict.fromkeys(refs, anyio.current_time()))
                    async with poller.watch(refs) as events:
                        async for event in events:
                            reported[event.job] = anyio.current_time()
                            outcomes[event.job] = event.outcome

                task_group.start_soon(watch_all)
    result.cpu_seconds = time.process_time() - cpu
    result.virtual_minutes = anyio.current_time() / MINUTE
    pushed: list[float] = []
    for _, ref, _ in jobs:
        if ref not in reported:
            result.lost += 1
            continue
        if outcomes[ref] is not Outcome.COMPLETED:
            result.wrong += 1
        # From when the job had ended and was awaited: a batch is watched once all
        # of it is started, and the first jobs may end before that.
        ended = max(fake.script(ref.name, ref.kind).terminal_at, awaited_at[ref])
        latency = reported[ref] - ended
        result.latencies.append(latency)
        event_at = queue.arrived.get((ref.kind, ref.name))
        if workload.push and event_at is not None:
            pushed.append(reported[ref] - event_at)
    traffic = fake.traffic().by_operation
    gets = sum(c.requests for op, c in traffic.items() if op.startswith("Get"))
    lists = sum(c.requests for op, c in traffic.items() if op.startswith("List"))
    throttled = sum(c.throttled for c in traffic.values())
    result.gets_per_job = gets / workload.jobs
    result.lists_per_job = lists / workload.jobs
    result.lists_per_minute = lists / result.virtual_minutes
    result.requests_per_job = (gets + lists) / workload.jobs
    busy = busy_seconds([(awaited_at[ref], reported[ref]) for ref in reported])
    result.requests_per_second = (gets + lists) / busy if busy else 0.0
    result.throttled_share = throttled / max(1, gets + lists)
    if result.latencies:
        result.p50, result.p95, result.p99 = percentiles(result.latencies, (50, 95, 99))
    if workload.push and len(pushed) >= 20:
        result.pushed_p95 = percentiles(pushed, (95,))[0]
    return result


def busy_seconds(spans: list[tuple[float, float]]) -> float:
    """The length of the union of the spans: the time any job was pending."""
    total = 0.0
    end = -math.inf
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def percentiles(values: list[float], which: tuple[int, ...]) -> list[float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [cuts[p - 1] for p in which]


def measure(workload: Workload, seed: int, contender: str = "poller") -> Result:
    clock = trio.testing.MockClock(autojump_threshold=0)
    result: Result = anyio.run(
        run, workload, seed, contender, backend="trio", backend_options={"clock": clock}
    )
    return result


def poller_share(workload: Workload, seed: int) -> float:
    """The share of the process's CPU spent outside the fake service, by profile.

    The run is profiled (cProfile's own cost inflates the total but not much the
    split): time in functions of ``transcribe_poller/testing`` and of botocore (the
    fake builds botocore's exceptions) is the fake's; the rest is the poller's,
    the event loop's and the benchmark's own bookkeeping.
    """
    profile = cProfile.Profile()
    profile.runcall(measure, workload, seed)
    rows: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    fake = total = 0.0
    for (filename, _, _), (_, _, own, _, _) in rows.items():
        total += own
        if "transcribe_poller/testing" in filename or "/botocore/" in filename:
            fake += own
    return 1 - fake / total if total else 0.0


def render(results: list[Result]) -> str:
    head = (
        f"{'workload':<16} {'jobs':>5} {'lost':>4} {'wrong':>5} {'Get/job':>7} "
        f"{'List/job':>8} {'List/min':>8} {'req/job':>7} {'req/s':>5} {'thrott.':>7} "
        f"{'p50 s':>6} {'p95 s':>6} {'p99 s':>6} {'push p95':>8} {'hours':>5} {'CPU s':>6} "
        f"{'poller':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        pushed = "-" if r.pushed_p95 is None else f"{r.pushed_p95:.2f}"
        own = "-" if r.poller_cpu_seconds is None else f"{r.poller_cpu_seconds:.1f}"
        lines.append(
            f"{r.workload:<16} {r.jobs:>5} {r.lost:>4} {r.wrong:>5} {r.gets_per_job:>7.2f} "
            f"{r.lists_per_job:>8.2f} {r.lists_per_minute:>8.1f} {r.requests_per_job:>7.2f} "
            f"{r.requests_per_second:>5.2f} "
            f"{r.throttled_share:>7.2%} {r.p50:>6.2f} {r.p95:>6.2f} {r.p99:>6.2f} "
            f"{pushed:>8} {r.virtual_minutes / 60:>5.1f} {r.cpu_seconds:>6.1f} {own:>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--smoke", action="store_true", help="a tiny size of each workload")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    parser.add_argument(
        "--waiter",
        action="store_true",
        help="also the waiter's cadence (a Get every 10 s) on the workloads of single waits",
    )
    parser.add_argument(
        "--cpu-split",
        action="store_true",
        help="also profile each workload once to split CPU between poller and fake",
    )
    args = parser.parse_args(argv)
    # Only warnings: a run makes hundreds of thousands of debug lines otherwise.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results = []
    for name in args.only or list(WORKLOADS):
        workload = WORKLOADS[name].scaled(0.02) if args.smoke else WORKLOADS[name]
        rows = [measure(workload, args.seed)]
        if args.cpu_split:
            rows[0].poller_cpu_seconds = rows[0].cpu_seconds * poller_share(workload, args.seed)
        if args.waiter and workload.arrival_every and not workload.push:
            rows.append(measure(workload, args.seed, "waiter"))
        results.extend(rows)
        if args.json:
            for row in rows:
                print(json.dumps({k: v for k, v in asdict(row).items() if k != "latencies"}))
    if not args.json:
        print(render(results))
    ours = [r for r in results if "(" not in r.workload]
    return 0 if all(r.lost == 0 and r.wrong == 0 for r in ours) else 1


if __name__ == "__main__":
    sys.exit(main())
