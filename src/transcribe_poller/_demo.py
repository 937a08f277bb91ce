"""``transcribe-poller demo``: the whole product on a local Transcribe, in one command."""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._events import CompletionEvent, Outcome
from ._jobs import JobKind, JobRef
from ._poller import Poller
from ._progress import LINE_WIDTH, Progress, summary

if TYPE_CHECKING:
    from .testing import LocalTranscribe

FAILURE_REASONS = (
    "The media format provided does not match the detected media format.",
    "Invalid sample rate for audio file.",
    "The audio file is too short to transcribe.",
)

# Upper edges of the latency histogram's buckets, in seconds: fine where most jobs
# land, coarse in the tail, which is what the histogram is there to show.
LATENCY_EDGES = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class DemoResult:
    events: list[CompletionEvent]
    latencies: list[float]
    wrong: int
    requests: int
    throttled: int
    faults: int
    elapsed: float


def _plan(rng: random.Random, longest: float) -> dict[str, object]:
    """A realistic spread: most jobs take a while, a few are quick, a few fail."""
    shortest = min(2.0, longest)
    duration = shortest + (longest - shortest) * rng.betavariate(1.6, 2.2)
    plan: dict[str, object] = {"duration": duration}
    roll = rng.random()
    if roll < 0.05:
        plan["fail_with"] = rng.choice(FAILURE_REASONS)
    return plan


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _bucket_labels(edges: Sequence[float]) -> list[str]:
    labels = [f"<{edges[0]:g} s"]
    labels += [f"{low:g}-{high:g} s" for low, high in itertools.pairwise(edges)]
    return [*labels, f">={edges[-1]:g} s"]


def latency_histogram(
    latencies: Sequence[float],
    edges: Sequence[float] = LATENCY_EDGES,
    width: int = LINE_WIDTH,
) -> list[str]:
    """One line per bucket, ``label  count  ###``, none longer than ``width``.

    Bars are scaled to the fullest bucket, and a bucket with any job gets at least
    one ``#``: a single slow job is the tail worth seeing.
    """
    if not latencies:
        return []
    counts = [0] * (len(edges) + 1)
    for latency in latencies:
        counts[bisect.bisect_right(edges, latency)] += 1
    labels = _bucket_labels(edges)
    label_width = max(map(len, labels))
    count_width = len(str(max(counts)))
    room = width - 2 - label_width - 2 - count_width - 2
    peak = max(counts)
    lines = []
    for label, n in zip(labels, counts, strict=True):
        bar = "#" * max(1, round(room * n / peak)) if n else ""
        lines.append(f"  {label:>{label_width}}  {n:>{count_width}}  {bar}".rstrip())
    return lines


def run_demo(args: argparse.Namespace) -> int:
    try:
        from .testing import LocalTranscribe
    except ImportError:  # pragma: no cover - depends on the install
        print("the demo needs: pip install 'transcribe-poller[local]'", file=sys.stderr)
        return 2
    if args.jobs + args.medical == 0:
        print("transcribe-poller: error: the demo needs at least one job", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    with LocalTranscribe() as bed:
        expected: dict[JobRef, Outcome] = {}
        for kind, count in ((JobKind.STANDARD, args.jobs), (JobKind.MEDICAL, args.medical)):
            for i in range(count):
                name = f"demo-{kind.value}-{i:04d}"
                plan = _plan(rng, args.longest)
                if kind is JobKind.STANDARD and "fail_with" not in plan and rng.random() < 0.15:
                    plan["redaction"] = rng.choice(("redacted", "redacted_and_unredacted"))
                if kind is JobKind.MEDICAL and rng.random() < 0.3:
                    plan["content_identification"] = True
                bed.start_job(name, kind=kind, **plan)  # type: ignore[arg-type]
                expected[JobRef(name, kind)] = (
                    Outcome.FAILED if "fail_with" in plan else Outcome.COMPLETED
                )
        if args.quota or args.faults:
            bed.set_faults(
                quota=args.quota,
                error_rate=0.05 if args.faults else 0.0,
                drop_rate=0.02 if args.faults else 0.0,
            )
        print(
            f"Local Transcribe at {bed.endpoint_url}\n{args.jobs} standard and "
            f"{args.medical} medical jobs started, each taking up to {args.longest:g} s"
            + (f"\nquota {args.quota:g} requests/s per operation" if args.quota else "")
            + ("\ninjecting HTTP 500s and dropped connections" if args.faults else ""),
            file=sys.stderr,
            flush=True,
        )
        result = anyio.run(_watch, bed, expected)
    _print_table(result, expected)
    return 0 if result.wrong == 0 and len(result.events) == len(expected) else 1


async def _watch(bed: LocalTranscribe, expected: dict[JobRef, Outcome]) -> DemoResult:
    started = time.monotonic()
    events: list[CompletionEvent] = []
    latencies: list[float] = []
    # A client that does not retry, as the README recommends: every request and
    # fault is the poller's, so its summary and the service's counts agree.
    async with bed.client(max_attempts=1) as client, Poller(client) as poller:
        progress = Progress(poller, len(expected))
        async with anyio.create_task_group() as tg:
            tg.start_soon(progress.run)
            async with poller.watch(expected) as stream:
                async for event in stream:
                    script = bed.script(event.job.name, event.job.kind)
                    latencies.append(time.time() - script.terminal_at)
                    events.append(event)
            progress.stop()
        stats = poller.statistics()
    elapsed = time.monotonic() - started
    print(summary(stats, len(expected), elapsed), file=sys.stderr)
    traffic = bed.traffic().total
    return DemoResult(
        events=events,
        latencies=latencies,
        wrong=sum(1 for e in events if e.outcome is not expected[e.job]),
        requests=traffic.requests,
        throttled=traffic.throttled,
        faults=traffic.errors + traffic.dropped,
        elapsed=elapsed,
    )


def _print_table(result: DemoResult, expected: dict[JobRef, Outcome]) -> None:
    outcomes = Counter(event.outcome for event in result.events)
    jobs = len(result.events)
    rows = [
        ("jobs", f"{jobs} reported of {len(expected)}, {result.wrong} wrong outcomes"),
        ("outcomes", ", ".join(f"{o.value} {outcomes[o]}" for o in Outcome if outcomes[o])),
        (
            "detection latency",
            f"p50 {_percentile(result.latencies, 0.5):.1f} s, "
            f"p95 {_percentile(result.latencies, 0.95):.1f} s, "
            f"max {max(result.latencies, default=float('nan')):.1f} s",
        ),
        (
            "requests per job",
            f"{result.requests / max(jobs, 1):.2f} ({result.requests} requests)",
        ),
        (
            "throttled answers",
            f"{result.throttled} "
            f"({100 * result.throttled / max(result.requests, 1):.1f}% of requests)",
        ),
        ("faults injected", str(result.faults)),
        ("wall time", f"{result.elapsed:.1f} s"),
    ]
    if result.latencies:
        rows.insert(3, ("mean latency", f"{statistics.fmean(result.latencies):.1f} s"))
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    histogram = latency_histogram(result.latencies)
    if histogram:
        print("\n  detection latency, jobs per bucket:")
        print("\n".join(histogram))
