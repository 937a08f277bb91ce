"""Push for every kind on the local test bed: output objects as hints for medical jobs.

One poller awaits a batch of all four kinds on LocalTranscribe (moto on 127.0.0.1)
with an EventBridgeQueue covering medical and Medical Scribe jobs by their output
objects. Events are best effort on purpose (``--loss``, ``--duplicate``), and each
output object lands up to ``--lead`` seconds before its job's status says
COMPLETED. Prints, per kind, how late each job was found after its status changed
(jobs whose event arrived, jobs whose event was lost, failed jobs), requests per
job, and whether any job was lost or wrong.

    python benchmarks/push_outputs.py --jobs 160 --reconcile 10
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from typing import Any

import anyio
import structlog

from transcribe_poller import EventBridgeQueue, JobKind, JobRef, Poller
from transcribe_poller.testing import LocalTranscribe

MEDICAL_KINDS = (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE)


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<34} n=0"
    return (
        f"  {label:<34} n={len(values):<4} p50={statistics.median(values):6.3f} s  "
        f"p95={p95(values):6.3f} s  max={max(values):6.3f} s"
    )


async def run(bed: LocalTranscribe, args: argparse.Namespace) -> dict[str, Any]:
    url = bed.enable_events(
        loss=args.loss,
        duplicate=args.duplicate,
        delay=(0.0, 0.2),
        seed=args.seed,
        output_events=True,
        output_lead=(0.0, args.lead),
    )
    rng = random.Random(args.seed)
    refs = []
    for i in range(args.jobs):
        kind = list(JobKind)[i % 4]
        fail = "The media could not be read." if rng.random() < args.failed else None
        name = f"job-{i:04d}"
        bed.start_job(name, kind=kind, duration=rng.uniform(3, args.longest), fail_with=fail)
        refs.append(JobRef(name, kind))
    async with bed.sqs_client() as sqs, bed.client() as client:
        config = EventBridgeQueue(
            sqs,
            url,
            output_events=["medical", "medical-scribe"],
            reconcile_interval=args.reconcile,
        )
        async with Poller(client, notifications=config) as poller:
            async with poller.watch(refs) as events:
                done = [event async for event in events]
            stats = poller.statistics()
    return {"refs": refs, "events": done, "stats": stats}


def report(bed: LocalTranscribe, args: argparse.Namespace, result: dict[str, Any]) -> None:
    refs, events, stats = result["refs"], result["events"], result["stats"]
    wrong = 0
    late: dict[str, list[float]] = {}
    for event in events:
        script = bed.script(event.job.name, event.job.kind)
        if event.outcome.value != script.outcome:
            wrong += 1
        assert script.first_terminal_read_at is not None
        found = script.first_terminal_read_at - script.terminal_at
        if script.outcome == "FAILED":
            group = "failed"
        elif event.job.kind in MEDICAL_KINDS:
            arrived = bed.output_written_at(event.job.name, event.job.kind) is not None
            group = "object arrived" if arrived else "object event lost"
        else:
            arrived = bed.event_sent_at(event.job.name, event.job.kind) is not None
            group = "event arrived" if arrived else "event lost"
        late.setdefault(f"{event.job.kind.value}: {group}", []).append(found)
    print(
        f"{len(refs)} jobs, events lost {args.loss:.0%}, duplicated {args.duplicate:.0%}, "
        f"objects up to {args.lead:g} s ahead of COMPLETED, reconcile interval "
        f"{args.reconcile:g} s"
    )
    print(f"lost: {len(refs) - len(events)}, wrong: {wrong}")
    print("seconds from the status changing to the poller's Get reading it:")
    for label in sorted(late):
        print(line(label, late[label]))
    traffic = bed.traffic().by_operation
    for kind in JobKind:
        count = sum(1 for r in refs if r.kind is kind)
        ops = [op for op in traffic if kind_of(op) is kind]
        requests = sum(traffic[op].requests for op in ops)
        print(f"  {kind.value:<16} {requests / count:.2f} Transcribe requests per job")
    print(
        f"output_rereads={stats.output_rereads} wrong_hints={stats.wrong_hints} "
        f"throttled={stats.throttled} queue_requests={stats.queue_requests}"
    )


def kind_of(operation: str) -> JobKind:
    if "MedicalScribe" in operation:
        return JobKind.MEDICAL_SCRIBE
    if "Medical" in operation:
        return JobKind.MEDICAL
    if "CallAnalytics" in operation:
        return JobKind.CALL_ANALYTICS
    return JobKind.STANDARD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=160)
    parser.add_argument("--longest", type=float, default=40.0, help="longest job, seconds")
    parser.add_argument("--loss", type=float, default=0.10)
    parser.add_argument("--duplicate", type=float, default=0.05)
    parser.add_argument("--lead", type=float, default=1.0)
    parser.add_argument("--failed", type=float, default=0.05)
    parser.add_argument("--reconcile", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    began = time.monotonic()
    with LocalTranscribe() as bed:
        result = anyio.run(run, bed, args)
        report(bed, args, result)
    print(f"took {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
