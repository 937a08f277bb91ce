"""Several processes sharing one account's quotas, in virtual time: how evenly they fare.

A model of ``compare_waiters.py --replicas N`` (which runs real processes against
the local test bed, about 48 s a run) on ``FakeTranscribe`` under trio's
``MockClock``: N Pollers with default options in one event loop, each watching its
own batch (240/N standard and 60/N medical jobs of 5-45 s, 5% FAILED, each QUEUED
for a quarter of its length, the same batches as the real benchmark's), sharing
the fake's quotas (Get 30/s and List 5/s per operation, burst one second's worth),
each request answered after ``--latency`` seconds. A run takes a fraction of a
second, so a rule for sharing the List quota can be judged on hundreds of runs
where the real benchmark gives a handful. The pollers' backoff is seeded per run,
but not every draw is: medians move by a hundredth or two from one run to the next.

Per set of runs it prints: the spread (max/min of the processes' own p95 of
detection latency) as a median, range and share of runs within 1.25; p95 over every
job; the share of requests throttled (median and worst run); requests per job; jobs
lost. Detection latency runs from a job's end to its event.

    .venv/bin/python benchmarks/replicas.py                  # 4 processes, 200 runs
    .venv/bin/python benchmarks/replicas.py --replicas 8 --runs 30
    .venv/bin/python benchmarks/replicas.py --smoke          # 2 runs, for the tests
    .venv/bin/python benchmarks/replicas.py --json           # and each run as a JSON line

A benchmark prints figures; it is not a test (the smoke size runs in the tests).
It exits 1 if any job was lost.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import random
import statistics
import sys
from dataclasses import dataclass

import structlog
import trio
import trio.testing
from compare.tallies import percentile

from transcribe_poller import Backoff, JobKind, JobRef, Poller
from transcribe_poller.testing import FakeTranscribe

STANDARD, MEDICAL = 240, 60  # jobs in all, shared among the processes
RUN_TIME = (5.0, 45.0)  # seconds, uniform
FAILED_SHARE = 0.05
GET_QUOTA, LIST_QUOTA = 30.0, 5.0


@dataclass(frozen=True)
class Run:
    """What one run of N processes measured."""

    p95s: list[float]  # each process's own
    p95: float  # over every job
    throttled: float  # share of requests
    requests_per_job: float
    lost: int

    @property
    def spread(self) -> float:
        return max(self.p95s) / min(self.p95s)


def p95(values: list[float]) -> float:
    """compare_waiters' own p95 (NaN for a process that reported nothing)."""
    value = percentile(values, 0.95)
    return math.nan if value is None else value


def batches(fake: FakeTranscribe, replicas: int) -> list[list[JobRef]]:
    """Each process's jobs, started on ``fake``: the same for every run, as the real
    benchmark's (seeded by the process's number)."""
    standard, medical = math.ceil(STANDARD / replicas), math.ceil(MEDICAL / replicas)
    result = []
    for replica in range(replicas):
        rng = random.Random(1000 + replica)
        total = standard + medical
        failing = set(rng.sample(range(total), round(total * FAILED_SHARE)))
        refs = []
        kinds = [(JobKind.STANDARD, "std")] * standard + [(JobKind.MEDICAL, "med")] * medical
        for position, (kind, short) in enumerate(kinds):
            name = f"r{replica}-{short}-{position:04d}"
            fail = "The media could not be read." if position in failing else None
            fake.start_job(name, kind=kind, duration=rng.uniform(*RUN_TIME), fail_with=fail)
            refs.append(JobRef(name, kind))
        result.append(refs)
    return result


async def run(seed: int, replicas: int, latency: float) -> Run:
    fake = FakeTranscribe()
    quota = {
        "GetTranscriptionJob": GET_QUOTA,
        "GetMedicalTranscriptionJob": GET_QUOTA,
        "ListTranscriptionJobs": LIST_QUOTA,
        "ListMedicalTranscriptionJobs": LIST_QUOTA,
    }
    fake.set_faults(quota=quota, latency=latency, seed=seed)
    jobs = batches(fake, replicas)
    latencies: list[list[float]] = [[] for _ in range(replicas)]

    async def process(index: int) -> None:
        backoff = Backoff(rng=random.Random(seed * 100 + index))
        async with Poller(fake, backoff=backoff) as poller, poller.watch(jobs[index]) as events:
            async for event in events:
                ended = fake.script(event.job.name, event.job.kind).terminal_at
                latencies[index].append(trio.current_time() - ended)

    async with trio.open_nursery() as nursery:
        for index in range(replicas):
            nursery.start_soon(process, index)
    total = fake.traffic().total
    jobs_in_all = sum(len(refs) for refs in jobs)
    return Run(
        p95s=[p95(each) for each in latencies],
        p95=p95([x for each in latencies for x in each]),
        throttled=total.throttled / total.requests,
        requests_per_job=total.requests / jobs_in_all,
        lost=jobs_in_all - sum(len(each) for each in latencies),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=4, help="processes (default 4)")
    parser.add_argument("--runs", type=int, default=200, help="runs, seeds 1.. (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="seconds each answer takes (default 0.02)"
    )
    parser.add_argument("--smoke", action="store_true", help="2 runs")
    parser.add_argument("--json", action="store_true", help="print every run as a JSON line too")
    args = parser.parse_args(argv)
    if args.replicas < 1 or args.runs < 1 or not args.latency >= 0:
        parser.error("--replicas and --runs must be >= 1, --latency >= 0")
    runs = 2 if args.smoke else args.runs
    # The pollers' own warnings (a sweep throttled, say) are not this benchmark's output.
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    results = []
    for seed in range(1, runs + 1):
        clock = trio.testing.MockClock(autojump_threshold=0)
        results.append(trio.run(run, seed, args.replicas, args.latency, clock=clock))
    spreads = [r.spread for r in results]
    within = sum(s <= 1.25 for s in spreads) / runs
    print(
        f"{args.replicas} processes, {runs} runs, latency {args.latency} s: "
        f"spread median {statistics.median(spreads):.2f} "
        f"(range {min(spreads):.2f}-{max(spreads):.2f}, {within:.0%} of runs within 1.25); "
        f"p95 median {statistics.median(r.p95 for r in results):.2f} s; "
        f"throttled median {statistics.median(r.throttled for r in results):.2%} "
        f"(worst {max(r.throttled for r in results):.2%}); "
        f"requests per job median {statistics.median(r.requests_per_job for r in results):.2f}; "
        f"lost {sum(r.lost for r in results)}"
    )
    if args.json:
        for seed, r in enumerate(results, start=1):
            print(json.dumps({"seed": seed, "spread": r.spread, **dataclasses.asdict(r)}))
    return 1 if any(r.lost for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
