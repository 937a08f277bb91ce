"""The command line: the parent's entry points and every option."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path

from .child import child_main
from .kinds import CONTENDERS, REGION
from .orchestration import run_contender
from .profiles import PROFILES, plan_batch, profile_with_overrides
from .render import fmt, render
from .replicas import NAMINGS, replicas_main
from .results import RESULTS, write_json
from .targets import render_targets


def parent_main(args: argparse.Namespace) -> None:
    from transcribe_poller.testing import LocalTranscribe

    if args.replicas is not None:
        replicas_main(args)
        return
    profile_name = "quick" if args.quick else "large" if args.large else "default"
    profile = profile_with_overrides(PROFILES[profile_name], args)
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    for contender in contenders:
        if contender not in CONTENDERS:
            raise SystemExit(f"unknown contender {contender!r}; choose from {list(CONTENDERS)}")
    plan = plan_batch(profile, args.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"profile {profile_name}: {profile}", flush=True)
    print(
        f"waiter-adaptive: total_max_attempts={args.adaptive_attempts}; "
        f"fixed-loop: interval {args.loop_interval:g} s",
        flush=True,
    )
    results = []
    # No account cap: the batches start at once, as the figures were measured.
    with LocalTranscribe(region=REGION, concurrency=None) as bed:
        for contender in contenders:
            print(f"running {contender}: {CONTENDERS[contender]} ...", flush=True)
            result = run_contender(bed, contender, plan, profile, args)
            lat = result["latency_s"]
            print(
                f"  {result['reported']}/{result['jobs']} reported, {result['lost']} lost, "
                f"{result['requests']} requests, {result['throttled']} throttled, "
                f"p95 {fmt(lat['p95'])} s, wall {result['wall_s']:.1f} s",
                flush=True,
            )
            results.append(result)
    table = render(results, profile, args)
    targets = render_targets(results)
    print()
    print(table)
    if targets.count("\n"):
        print()
        print(targets)
    write_json(
        args,
        f"compare_waiters-{profile_name}",
        {
            "profile": {"name": profile_name, **asdict(profile)},
            "adaptive_attempts": args.adaptive_attempts,
            "loop_interval_s": args.loop_interval,
            "contenders": results,
            "table": table,
        },
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "aiobotocore's waiters, a hand-written loop and transcribe_poller.Poller, "
            "one after the other against the local Transcribe test bed (127.0.0.1) "
            "behind a per-operation quota. Prints a table and writes JSON to "
            "benchmarks/results/."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 2.5 minutes: 100 standard + 30 medical + 20 call analytics + 10 medical "
        "scribe jobs of 5-15 s per contender",
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="800 standard + 200 medical + 120 call analytics + 80 medical scribe jobs "
        "of 15-90 s; meant for "
        "--contenders poller,poller-get-only",
    )
    parser.add_argument(
        "--standard",
        type=int,
        help="standard jobs per contender (per process with --replicas) [300]",
    )
    parser.add_argument(
        "--medical", type=int, help="medical jobs per contender (per process with --replicas) [100]"
    )
    parser.add_argument(
        "--call-analytics",
        type=int,
        help="Call Analytics jobs per contender [60, quick 20]; 0 with --medical-scribe 0 "
        "runs the batch of the two-kind script",
    )
    parser.add_argument(
        "--medical-scribe", type=int, help="Medical Scribe jobs per contender [40, quick 10]"
    )
    parser.add_argument("--shortest", type=float, help="shortest job, seconds [15]")
    parser.add_argument("--longest", type=float, help="longest job, seconds [90]")
    parser.add_argument("--quota", type=float, help="requests/s for each Get operation [30]")
    parser.add_argument("--burst", type=float, help="token bucket size of the quota [30]")
    parser.add_argument(
        "--list-quota",
        type=float,
        help="requests/s (and burst) for each List operation, AWS's default [5]",
    )
    parser.add_argument("--fail-share", type=float, help="share of FAILED jobs [0.05]")
    parser.add_argument(
        "--grace",
        type=float,
        help="seconds after the longest job before a job without result counts as lost "
        "[120, quick 45]",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the batch script (default %(default)s)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help="comma-separated, run in this order (default: all, %(default)s)",
    )
    parser.add_argument(
        "--adaptive-attempts",
        type=int,
        default=10,
        help="botocore total_max_attempts of the waiter-adaptive client (default %(default)s; "
        "botocore's own default is 5 in legacy mode, 3 in standard and adaptive modes)",
    )
    parser.add_argument(
        "--loop-interval",
        type=float,
        default=5.0,
        help="seconds between polls of fixed-loop (default %(default)s)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        help="instead of the contenders: N poller processes at once, each watching its own "
        "batch (240/N standard + 60/N medical jobs of 5-45 s, rounded up; --standard and "
        "--medical set them per process) under one shared set of quotas",
    )
    parser.add_argument(
        "--replica-names",
        choices=NAMINGS,
        default="prefixed",
        help="with --replicas: 'prefixed' names each process's jobs r0-..., r1-..., so its "
        "sweeps list its own jobs; 'shared' gives every process the same naming scheme, so "
        "each lists every unfinished job of the account (default %(default)s)",
    )
    parser.add_argument(
        "--event-loss",
        type=float,
        default=0.1,
        help="poller-push: share of job state events the bed loses (default %(default)s)",
    )
    parser.add_argument(
        "--event-duplicate",
        type=float,
        default=0.05,
        help="poller-push: share of events the bed sends twice (default %(default)s)",
    )
    parser.add_argument(
        "--event-delay",
        type=float,
        default=2.0,
        help="poller-push: each event is sent between 0 and this many seconds after its "
        "job's end (default %(default)s)",
    )
    parser.add_argument(
        "--reconcile-interval",
        type=float,
        help="poller-push: EventBridgeQueue(reconcile_interval=...) (default: the library's, 30 s)",
    )
    parser.add_argument("--output", help="JSON path (default: benchmarks/results/<name>.json)")
    # Internal: run one contender in a child process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--sqs-endpoint", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.child:
        result = asyncio.run(child_main(args))
        Path(args.result).write_text(json.dumps(result))
        print("DONE", flush=True)
    else:
        parent_main(args)
