"""--replicas N: many poller processes in one account, run and summarised."""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import asdict, replace
from typing import Any

from .kinds import KINDS, LIST_OPERATIONS, REGION
from .orchestration import (
    apply_quota,
    await_ready,
    collect,
    hand_over,
    spawn_child,
    start_batch,
    stop_child,
)
from .profiles import (
    DEFAULT_PROFILE,
    PlannedJob,
    Profile,
    Scripts,
    plan_batch,
    profile_with_overrides,
)
from .replica_render import REPLICA_TARGETS, render_replica_targets, render_replicas
from .results import RESULTS, write_json
from .tallies import kind_figures, tally

NAMINGS = ("prefixed", "shared")


def replica_profile(replicas: int) -> Profile:
    """About 300 jobs of 5-45 s in all, split between the processes: 60 standard + 15
    medical each for 4 replicas, 30 + 8 for 8; the account's quotas, shared by all."""
    return replace(
        DEFAULT_PROFILE,
        standard=math.ceil(240 / replicas),
        medical=math.ceil(60 / replicas),
        call_analytics=0,
        medical_scribe=0,
        shortest=5.0,
        longest=45.0,
        grace=60.0,
    )


def replica_name(job: PlannedJob, replica: int, replicas: int, naming: str) -> str:
    """A job's name in one replica's batch.

    ``prefixed``: ``r0-std-0001``; a replica's names share ``r0-std-00``, which no other
    replica's contain, so its sweeps (JobNameContains) list its own jobs only.
    ``shared``: one naming scheme for the whole fleet, ``std-00004``; replica r takes
    every replicas-th number, so what its names share (``std-00``) every other
    replica's names contain too, and its sweeps list every unfinished job of the
    account, as with names that share nothing.
    """
    if naming == "prefixed":
        return job.name(f"r{replica}")
    return f"{KINDS[job.kind].short}-{job.index * replicas + replica:05d}"


def run_replicas(
    bed: Any, profile: Profile, replicas: int, naming: str, args: argparse.Namespace
) -> dict[str, Any]:
    """N poller processes, each watching its own batch, all at once on one bed."""
    paths = [RESULTS / f".child-r{r}-{os.getpid()}.json" for r in range(replicas)]
    children = [spawn_child("poller", bed, path, args) for path in paths]
    try:
        # Every process is ready (imports done, client open) before any job starts.
        for replica, child in enumerate(children):
            await_ready(child, f"replica {replica}")
        apply_quota(bed, profile)
        bed.reset_traffic()
        bed_cpu_started = time.process_time()
        batches = [
            start_batch(
                bed,
                # Each replica its own batch: other durations and FAILED jobs.
                plan_batch(profile, args.seed * 1000 + replica),
                lambda job, r=replica: replica_name(job, r, replicas, naming),
            )
            for replica in range(replicas)
        ]
        deadline = time.time() + profile.longest + profile.grace
        for child, scripts in zip(children, batches, strict=True):
            hand_over(child, scripts, deadline)
        outcomes = [
            collect(child, path, f"replica {r}", profile)
            for r, (child, path) in enumerate(zip(children, paths, strict=True))
        ]
        bed_cpu = time.process_time() - bed_cpu_started
    finally:
        for child in children:
            stop_child(child)
    return summarise_replicas(outcomes, batches, bed.traffic(), bed_cpu)


def summarise_replica(replica: int, outcome: dict[str, Any], scripts: Scripts) -> dict[str, Any]:
    """One process: its jobs judged, and its requests as its poller counted them (the
    proxy cannot tell processes apart; with a legacy client and no faults but
    throttling, botocore retries nothing, so the poller's count is the wire's)."""
    records = {(r["kind"], r["name"]): r for r in outcome["records"]}
    stats = outcome.get("poller_statistics") or {}
    requests = stats.get("requests", 0)
    throttled = stats.get("throttled", 0)
    figures = tally(scripts, records).figures()
    return {
        "replica": replica,
        **figures,
        "requests": requests,
        "requests_per_job": requests / figures["jobs"] if figures["jobs"] else 0.0,
        "list_requests": stats.get("list_requests", 0),
        "throttled": throttled,
        "throttled_share": throttled / requests if requests else 0.0,
        "sweeps": stats.get("sweeps", 0),
        "list_pages": stats.get("list_pages", 0),
        "wall_s": outcome["wall_s"],
        "client_cpu_s": outcome["client_cpu_s"],
        "client_max_rss_mb": outcome["client_max_rss_mb"],
        "deadline_hit": bool(outcome.get("deadline_hit")),
        "log_warnings": outcome.get("log_warnings", {}),
        "poller_statistics": stats,
        "records": outcome["records"],
    }


def p95_spread(processes: list[dict[str, Any]]) -> float | None:
    """The largest per-process p95 over the smallest; None unless every process has one."""
    p95s: list[float] = [p["latency_s"]["p95"] for p in processes]
    if None in p95s or min(p95s) <= 0:
        return None
    return max(p95s) / min(p95s)


def summarise_replicas(
    outcomes: list[dict[str, Any]], batches: list[Scripts], traffic: Any, bed_cpu: float
) -> dict[str, Any]:
    from transcribe_poller.testing import Counts

    processes = [
        summarise_replica(r, outcome, scripts)
        for r, (outcome, scripts) in enumerate(zip(outcomes, batches, strict=True))
    ]
    every_script = {key: value for scripts in batches for key, value in scripts.items()}
    every_record = {(r["kind"], r["name"]): r for outcome in outcomes for r in outcome["records"]}
    overall = tally(every_script, every_record).figures()
    kinds = kind_figures(every_script, every_record, traffic)
    # Counts were reset when the replicas began: the proxy saw every process's requests.
    listing = Counts()
    for op in LIST_OPERATIONS:
        listing = listing + traffic.by_operation.get(op, Counts())
    requests, throttled = traffic.total.requests, traffic.total.throttled
    aggregate = {
        **overall,
        "requests": requests,
        "requests_per_job": requests / overall["jobs"],
        "throttled": throttled,
        "throttled_share": throttled / requests if requests else 0.0,
        "list_requests": listing.requests,
        "list_throttled": listing.throttled,
        "list_throttled_share": listing.throttled / listing.requests if listing.requests else 0.0,
        "requests_counted_by_pollers": sum(p["requests"] for p in processes),
        "sweeps": sum(p["sweeps"] for p in processes),
        "list_pages": sum(p["list_pages"] for p in processes),
        "p95_spread": p95_spread(processes),
        "wall_s": max(p["wall_s"] for p in processes),
        "client_cpu_s": sum(p["client_cpu_s"] for p in processes),
        "bed_cpu_s": bed_cpu,
        "traffic_by_operation": {op: asdict(counts) for op, counts in traffic.by_operation.items()},
    }
    return {"aggregate": aggregate, "kinds": kinds, "processes": processes}


def replicas_main(args: argparse.Namespace) -> None:
    from transcribe_poller.testing import LocalTranscribe

    if args.quick or args.large:
        raise SystemExit("--replicas has its own profile; --quick and --large do not apply")
    if args.replicas < 1:
        raise SystemExit("--replicas must be at least 1")
    replicas, naming = args.replicas, args.replica_names
    profile = profile_with_overrides(replica_profile(replicas), args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"{replicas} replicas, names {naming}, per process: {profile}", flush=True)
    # No account cap: the batches start at once, as the figures were measured.
    with LocalTranscribe(region=REGION, concurrency=None) as bed:
        summary = run_replicas(bed, profile, replicas, naming, args)
    table = render_replicas(summary, profile, replicas, naming, args)
    targets = render_replica_targets(summary, replicas)
    print()
    print(table)
    print()
    print(targets)
    name = f"compare_waiters-replicas{replicas}-{naming}"
    write_json(
        args,
        name,
        {
            "profile": {"name": "replicas", **asdict(profile)},
            "replicas": replicas,
            "replica_names": naming,
            "targets": REPLICA_TARGETS.get(replicas),
            **summary,
            "table": table,
            "targets_table": targets,
        },
    )
