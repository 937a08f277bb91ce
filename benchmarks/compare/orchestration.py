"""The parent's side of one run: child processes, quotas, batches, hand-over."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .kinds import GET_OPERATIONS, LIST_OPERATIONS
from .profiles import PlannedJob, Profile, Scripts
from .results import RESULTS
from .tallies import summarise

SCRIPT = Path(__file__).resolve().parent.parent / "compare_waiters.py"


def spawn_child(contender: str, bed: Any, result_path: Path, args: argparse.Namespace) -> Any:
    """This file with --child: one contender in its own process, on the bed's endpoint."""
    command = [
        sys.executable,
        str(SCRIPT),
        "--child",
        contender,
        "--endpoint",
        bed.endpoint_url,
        "--result",
        str(result_path),
        "--adaptive-attempts",
        str(args.adaptive_attempts),
        "--loop-interval",
        str(args.loop_interval),
    ]
    if contender == "poller-push":
        # SQS is another endpoint on AWS: moto's own URL, not the Transcribe proxy.
        command += ["--sqs-endpoint", bed.moto_url]
        if args.reconcile_interval is not None:
            command += ["--reconcile-interval", str(args.reconcile_interval)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def await_ready(child: Any, label: str) -> None:
    ready = child.stdout.readline().strip()
    if ready != "READY":
        raise RuntimeError(f"{label}: the child process did not start ({ready!r})")


def apply_quota(bed: Any, profile: Profile) -> None:
    """Set the quota on every operation again: a full token bucket for each run."""
    quotas = {op: (profile.quota, profile.burst) for op in GET_OPERATIONS}
    quotas.update({op: (profile.list_quota, profile.list_quota) for op in LIST_OPERATIONS})
    bed.set_faults(quota=quotas)


def start_batch(bed: Any, plan: list[PlannedJob], name_of: Any) -> Scripts:
    """Start every planned job on the bed; (kind, name) -> (plan, script)."""
    scripts: Scripts = {}
    for job in plan:
        name = name_of(job)
        script = bed.start_job(
            name,
            kind=job.kind,
            duration=job.duration,
            fail_with=job.fail_with,
            redaction=job.redaction,
        )
        scripts[(job.kind, name)] = (job, script)
    return scripts


def hand_over(child: Any, scripts: Scripts, deadline: float, queue_url: str | None = None) -> None:
    order = {"jobs": [list(key) for key in scripts], "deadline": deadline, "queue_url": queue_url}
    child.stdin.write(json.dumps(order) + "\n")
    child.stdin.close()


def collect(child: Any, result_path: Path, label: str, profile: Profile) -> dict[str, Any]:
    """Wait for the child to finish and read what it wrote."""
    done = child.stdout.readline().strip()
    child.wait(timeout=profile.longest + profile.grace + 120)
    if done != "DONE" or child.returncode != 0:
        raise RuntimeError(f"{label}: the child process failed ({child.returncode})")
    outcome: dict[str, Any] = json.loads(result_path.read_text())
    result_path.unlink()
    return outcome


def stop_child(child: Any) -> None:
    if child.poll() is None:
        child.kill()
        child.wait()


def run_contender(
    bed: Any,
    contender: str,
    plan: list[PlannedJob],
    profile: Profile,
    args: argparse.Namespace,
) -> dict[str, Any]:
    result_path = RESULTS / f".child-{contender}-{os.getpid()}.json"
    child = spawn_child(contender, bed, result_path, args)
    push = contender == "poller-push"
    try:
        await_ready(child, contender)
        # A fresh token bucket and fresh counts for every contender.
        apply_quota(bed, profile)
        bed.reset_traffic()
        bed_cpu_started = time.process_time()
        # Events for this batch only, their fates drawn in the batch's order with the
        # seed: the same jobs lose their events whatever ran before.
        queue_url = enable_events(bed, args) if push else None
        scripts = start_batch(bed, plan, lambda job: job.name(contender))
        hand_over(child, scripts, time.time() + profile.longest + profile.grace, queue_url)
        outcome = collect(child, result_path, contender, profile)
        bed_cpu = time.process_time() - bed_cpu_started
        traffic = bed.traffic()
        events = event_ground_truth(bed, scripts, args) if push else None
    finally:
        stop_child(child)
        if push:
            # Events off for whoever comes next: reset() stops the emitter and clears
            # moto (jobs, the queue, the rule); the next contender starts its own batch.
            bed.reset()
    return summarise(contender, outcome, scripts, traffic, bed_cpu, events)


def event_options(args: argparse.Namespace) -> dict[str, Any]:
    """enable_events() arguments of the push contender's run."""
    return {
        "loss": args.event_loss,
        "duplicate": args.event_duplicate,
        "delay": (0.0, args.event_delay),
        "seed": args.seed,
    }


def enable_events(bed: Any, args: argparse.Namespace) -> str:
    return str(bed.enable_events(**event_options(args)))


def event_ground_truth(bed: Any, scripts: Scripts, args: argparse.Namespace) -> dict[str, Any]:
    """When each job's first event was put in the queue (None: lost, or a kind that
    sends none), and what the bed's emitter did."""
    return {
        "options": {**event_options(args), "delay": list(event_options(args)["delay"])},
        "sent_at": {key: bed.event_sent_at(key[1], key[0]) for key in scripts},
        "statistics": asdict(bed.event_statistics()),
    }
