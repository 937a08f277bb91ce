"""Side by side: aiobotocore's waiters, a hand-written loop and transcribe_poller.Poller.

Against the local test bed (moto behind the fault proxy, 127.0.0.1 only) with a quota
on each Get operation, every contender in turn waits for its own fresh batch of jobs
(same durations, outcomes and redaction, from the same seed) and the script reports
jobs reported, lost and wrong, requests and throttled answers per job, detection
latency (event delivered minus the moment the terminal status became visible), wall
time and the client's own CPU seconds.

The bed (moto and the proxy) runs in this process; each contender runs in a child
process (this same file with the hidden ``--child`` option), so the CPU time reported
for a contender is the client's alone, not the server's.

    .venv/bin/python benchmarks/compare_waiters.py --quick   # about 1.5 minutes
    .venv/bin/python benchmarks/compare_waiters.py           # about 7 minutes

A benchmark prints figures; it is not a test and does not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import json
import logging
import math
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from _provenance import git_revision, machine, versions

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REGION = "us-east-1"
TERMINAL = ("COMPLETED", "FAILED")
GET_OPERATIONS = ("GetTranscriptionJob", "GetMedicalTranscriptionJob")
LIST_OPERATIONS = ("ListTranscriptionJobs", "ListMedicalTranscriptionJobs")

CONTENDERS = {
    "waiter-default": "aiobotocore waiter per job, Delay 10 s, MaxAttempts 180, "
    "client in botocore's default (legacy) retry mode",
    "waiter-adaptive": "the same waiter, client in adaptive retry mode with more attempts",
    "fixed-loop": "hand-written loop, one Get per job every --loop-interval s, "
    "throttled answers ignored (legacy client)",
    "poller": "transcribe_poller.Poller with its defaults (legacy client): sweeps by List "
    "while 10 or more jobs of a kind are pending",
    "poller-get-only": "transcribe_poller.Poller with Sweep(mode='never'): one Get per job "
    "per poll, no List (legacy client)",
}


@dataclass(frozen=True)
class Profile:
    standard: int
    medical: int
    shortest: float
    longest: float
    quota: float
    burst: float
    list_quota: float
    fail_share: float
    grace: float


DEFAULT_PROFILE = Profile(
    standard=300,
    medical=100,
    shortest=15.0,
    longest=90.0,
    quota=30.0,
    burst=30.0,
    list_quota=5.0,
    fail_share=0.05,
    grace=120.0,
)
PROFILES = {
    "default": DEFAULT_PROFILE,
    # A larger batch for the two polling strategies (--contenders poller,poller-get-only).
    "large": replace(DEFAULT_PROFILE, standard=800, medical=200),
    # Fewer, shorter jobs under the same quota: the contenders in about 2 minutes.
    "quick": replace(
        DEFAULT_PROFILE, standard=100, medical=30, shortest=5.0, longest=15.0, grace=45.0
    ),
}


@dataclass(frozen=True)
class PlannedJob:
    """One job of the batch, the same for every contender apart from its name prefix."""

    kind: str  # "standard" or "medical"
    index: int
    duration: float
    fail_with: str | None
    redaction: str | None

    def name(self, prefix: str) -> str:
        short = "std" if self.kind == "standard" else "med"
        return f"{prefix}-{short}-{self.index:04d}"


def plan_batch(profile: Profile, seed: int) -> list[PlannedJob]:
    """Durations uniform in [shortest, longest], a fail_share of FAILED jobs drawn at
    random, and a quarter each of the remaining standard jobs redacted in each mode."""
    rng = random.Random(seed)
    total = profile.standard + profile.medical
    failing = set(rng.sample(range(total), round(total * profile.fail_share)))
    plan: list[PlannedJob] = []
    for position in range(total):
        medical = position >= profile.standard
        index = position - profile.standard if medical else position
        duration = rng.uniform(profile.shortest, profile.longest)
        fail = f"scripted failure of job {position}" if position in failing else None
        redaction = None
        if not medical and fail is None:
            redaction = ("redacted", "redacted_and_unredacted", None, None)[index % 4]
        plan.append(
            PlannedJob("medical" if medical else "standard", index, duration, fail, redaction)
        )
    return plan


# -- statistics --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- the child: one contender against the bed's endpoint ----------------------------------


def _job_details(kind: str, response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        return {}
    key = "TranscriptionJob" if kind == "standard" else "MedicalTranscriptionJob"
    return dict(response.get(key) or {})


def _preferred_uri(details: dict[str, Any]) -> str | None:
    transcript = details.get("Transcript") or {}
    return transcript.get("RedactedTranscriptFileUri") or transcript.get("TranscriptFileUri")


def _name_param(kind: str, name: str) -> dict[str, str]:
    field = "TranscriptionJobName" if kind == "standard" else "MedicalTranscriptionJobName"
    return {field: name}


def _waiter_loss(reason: str) -> str:
    """A short label for why a waiter gave up: the WaiterError reason, condensed."""
    if reason.startswith("An error occurred ("):
        code = reason[len("An error occurred (") :].split(")", 1)[0]
        throttling = code in ("LimitExceededException", "ThrottlingException")
        return f"throttled ({code})" if throttling else f"error ({code})"
    if reason.startswith("Max attempts exceeded"):
        return "max attempts exceeded"
    return reason[:80]


class Recorder:
    """What a contender learned about each job, and when (time.time())."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}

    def reported(
        self,
        kind: str,
        name: str,
        status: str,
        uri: str | None,
        polls: int | None = None,
    ) -> None:
        self.records[(kind, name)] = {
            "kind": kind,
            "name": name,
            "outcome": status,
            "detected_at": time.time(),
            "uri": uri.split("?", 1)[0] if uri else None,
            "polls": polls,
            "lost": None,
        }

    def lost(self, kind: str, name: str, reason: str, polls: int | None = None) -> None:
        self.records[(kind, name)] = {
            "kind": kind,
            "name": name,
            "outcome": None,
            "detected_at": time.time(),
            "uri": None,
            "polls": polls,
            "lost": reason,
        }


async def _run_waiters(client: Any, jobs: list[tuple[str, str]], recorder: Recorder) -> None:
    from botocore.exceptions import WaiterError

    async def one(kind: str, name: str) -> None:
        # As user code does: a waiter per job, with the service model's Delay/MaxAttempts.
        waiter_name = (
            "transcription_job_completed"
            if kind == "standard"
            else "medical_transcription_job_completed"
        )
        waiter = client.get_waiter(waiter_name)
        try:
            response = await waiter.wait(**_name_param(kind, name))
        except WaiterError as error:
            details = _job_details(kind, error.last_response)
            if details.get("TranscriptionJobStatus") == "FAILED":
                # The failure acceptor matched: the waiter did report the outcome.
                recorder.reported(kind, name, "FAILED", None)
            else:
                recorder.lost(kind, name, _waiter_loss(str(error.kwargs.get("reason", error))))
        except Exception as error:
            recorder.lost(kind, name, f"{type(error).__name__}: {error}"[:80])
        else:
            details = _job_details(kind, response)
            recorder.reported(kind, name, "COMPLETED", _preferred_uri(details))

    await asyncio.gather(*(one(kind, name) for kind, name in jobs))


async def _run_fixed_loop(
    client: Any, jobs: list[tuple[str, str]], recorder: Recorder, interval: float
) -> None:
    from botocore.exceptions import ClientError

    async def one(kind: str, name: str) -> None:
        call = (
            client.get_transcription_job
            if kind == "standard"
            else client.get_medical_transcription_job
        )
        polls = 0
        while True:
            polls += 1
            try:
                response = await call(**_name_param(kind, name))
            except ClientError:
                pass  # throttled (or any other answer): just try again next round
            except Exception as error:
                recorder.lost(kind, name, f"{type(error).__name__}: {error}"[:80], polls)
                return
            else:
                details = _job_details(kind, response)
                status = details.get("TranscriptionJobStatus")
                if status in TERMINAL:
                    recorder.reported(kind, name, status, _preferred_uri(details), polls)
                    return
            await asyncio.sleep(interval)

    await asyncio.gather(*(one(kind, name) for kind, name in jobs))


async def _run_poller(
    client: Any,
    jobs: list[tuple[str, str]],
    recorder: Recorder,
    extra: dict[str, Any],
    *,
    sweep: bool = True,
) -> None:
    from transcribe_poller import JobRef, Outcome, Poller, Sweep

    refs = [JobRef.standard(n) if k == "standard" else JobRef.medical(n) for k, n in jobs]
    async with Poller(client, sweep=None if sweep else Sweep(mode="never")) as poller:
        try:
            async with poller.watch(refs) as events:
                async for event in events:
                    kind = event.job.kind.value
                    if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
                        recorder.reported(
                            kind,
                            event.job.name,
                            event.outcome.value,
                            event.preferred_uri,
                            event.polls,
                        )
                    else:
                        reason = event.outcome.value
                        if event.error is not None:
                            reason += f": {type(event.error).__name__}"
                        recorder.lost(kind, event.job.name, reason, event.polls)
        finally:
            extra["poller_statistics"] = _plain(poller.statistics())


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a statistics snapshot (dataclasses, mappings, enums)."""
    import dataclasses
    import enum
    from collections.abc import Mapping

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _client_config(contender: str, adaptive_attempts: int) -> dict[str, Any]:
    """AioConfig arguments: botocore's defaults except for the adaptive contender."""
    if contender == "waiter-adaptive":
        return {"retries": {"mode": "adaptive", "total_max_attempts": adaptive_attempts}}
    return {}


async def _child_main(args: argparse.Namespace) -> dict[str, Any]:
    import anyio
    import structlog
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    # The poller logs through structlog; keep this process's stdout for the protocol and
    # log only warnings and above (to stderr), like a quiet production service.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    config = _client_config(args.child, args.adaptive_attempts)
    session = get_session()
    async with session.create_client(
        "transcribe",
        region_name=REGION,
        endpoint_url=args.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(**config),
    ) as client:
        print("READY", flush=True)
        loop = asyncio.get_running_loop()
        order = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        jobs = [(kind, name) for kind, name in order["jobs"]]
        recorder = Recorder()
        extra: dict[str, Any] = {}
        cpu_started = time.process_time()
        started = time.time()
        timeout = max(0.0, order["deadline"] - started)
        with anyio.move_on_after(timeout) as deadline_scope:
            if args.child in ("waiter-default", "waiter-adaptive"):
                await _run_waiters(client, jobs, recorder)
            elif args.child == "fixed-loop":
                await _run_fixed_loop(client, jobs, recorder, args.loop_interval)
            elif args.child == "poller":
                await _run_poller(client, jobs, recorder, extra)
            elif args.child == "poller-get-only":
                await _run_poller(client, jobs, recorder, extra, sweep=False)
            else:
                raise SystemExit(f"unknown contender {args.child!r}")
        extra["deadline_hit"] = deadline_scope.cancelled_caught
        ended = time.time()
        cpu = time.process_time() - cpu_started
    for kind, name in jobs:
        if (kind, name) not in recorder.records:
            recorder.lost(kind, name, "no result before the deadline")
            recorder.records[(kind, name)]["detected_at"] = None
    result = {
        "contender": args.child,
        "client_config": config,
        "started_at": started,
        "ended_at": ended,
        "wall_s": ended - started,
        "client_cpu_s": cpu,
        "client_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": list(recorder.records.values()),
        **extra,
    }
    return result


# -- the parent: the bed, the batches, the figures ----------------------------------------


def _expected_uri_ok(plan: PlannedJob, name: str, uri: str | None) -> bool:
    """A COMPLETED report carries this job's transcript to fetch: the redacted one if any."""
    if uri is None or name not in uri:
        return False
    return ("/redacted-" in uri) == (plan.redaction is not None)


def run_contender(
    bed: Any,
    contender: str,
    plan: list[PlannedJob],
    profile: Profile,
    args: argparse.Namespace,
) -> dict[str, Any]:
    prefix = contender
    result_path = RESULTS / f".child-{contender}-{os.getpid()}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
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
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        ready = child.stdout.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"{contender}: the child process did not start ({ready!r})")
        # A fresh token bucket and fresh counts for every contender.
        quotas = {op: (profile.quota, profile.burst) for op in GET_OPERATIONS}
        quotas.update({op: (profile.list_quota, profile.list_quota) for op in LIST_OPERATIONS})
        bed.set_faults(quota=quotas)
        bed.reset_traffic()
        bed_cpu_started = time.process_time()
        scripts: dict[tuple[str, str], tuple[PlannedJob, Any]] = {}
        for job in plan:
            name = job.name(prefix)
            script = bed.start_job(
                name,
                kind=job.kind,
                duration=job.duration,
                fail_with=job.fail_with,
                redaction=job.redaction,
            )
            scripts[(job.kind, name)] = (job, script)
        deadline = time.time() + profile.longest + profile.grace
        order = {"jobs": [list(key) for key in scripts], "deadline": deadline}
        child.stdin.write(json.dumps(order) + "\n")
        child.stdin.close()
        done = child.stdout.readline().strip()
        child.wait(timeout=profile.longest + profile.grace + 120)
        if done != "DONE" or child.returncode != 0:
            raise RuntimeError(f"{contender}: the child process failed ({child.returncode})")
        bed_cpu = time.process_time() - bed_cpu_started
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    outcome = json.loads(result_path.read_text())
    result_path.unlink()
    traffic = bed.traffic()
    return summarise(contender, outcome, scripts, traffic, bed_cpu)


def summarise(
    contender: str,
    outcome: dict[str, Any],
    scripts: dict[tuple[str, str], tuple[PlannedJob, Any]],
    traffic: Any,
    bed_cpu: float,
) -> dict[str, Any]:
    records = {(r["kind"], r["name"]): r for r in outcome["records"]}
    latencies: list[float] = []
    lost_reasons: collections.Counter[str] = collections.Counter()
    wrong: list[str] = []
    uri_errors: list[str] = []
    from transcribe_poller.testing import Counts

    # Counts were reset before this contender began: every request seen is its own, List
    # requests included (they name no job, so the per-job counts leave them out).
    requests = traffic.total.requests
    throttled = traffic.total.throttled
    list_requests = sum(traffic.by_operation.get(op, Counts()).requests for op in LIST_OPERATIONS)
    per_job_requests: list[int] = []
    for (kind, name), (job, script) in scripts.items():
        per_job_requests.append(traffic.job(name, kind).requests)
        record = records.get((kind, name))
        if record is None or record["outcome"] is None:
            lost_reasons[record["lost"] if record else "no result"] += 1
            continue
        if record["outcome"] != script.outcome:
            wrong.append(f"{kind}:{name} reported {record['outcome']}, script {script.outcome}")
            continue
        latencies.append(record["detected_at"] - script.terminal_at)
        # Every contender here reads the final answer, so a COMPLETED report has a URI.
        if record["outcome"] == "COMPLETED" and not _expected_uri_ok(job, name, record["uri"]):
            uri_errors.append(f"{kind}:{name} uri {record['uri']}")
    jobs = len(scripts)
    lost = sum(lost_reasons.values())
    reported = jobs - lost
    return {
        "contender": contender,
        "description": CONTENDERS[contender],
        "client_config": outcome["client_config"],
        "jobs": jobs,
        "reported": reported,
        "lost": lost,
        "lost_reasons": dict(lost_reasons),
        "wrong_outcomes": len(wrong),
        "wrong_examples": wrong[:5],
        "uri_mismatches": len(uri_errors),
        "uri_mismatch_examples": uri_errors[:5],
        "requests": requests,
        "requests_per_job": requests / jobs,
        "list_requests": list_requests,
        "get_requests_named_by_jobs": sum(per_job_requests),
        "max_requests_one_job": max(per_job_requests, default=0),
        "throttled": throttled,
        "throttled_share": throttled / requests if requests else 0.0,
        "traffic_by_operation": {op: asdict(counts) for op, counts in traffic.by_operation.items()},
        "latency_s": {
            "count": len(latencies),
            "p50": percentile(latencies, 0.50),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=None),
            "mean": sum(latencies) / len(latencies) if latencies else None,
        },
        "wall_s": outcome["wall_s"],
        "client_cpu_s": outcome["client_cpu_s"],
        "client_max_rss_mb": outcome["client_max_rss_mb"],
        "bed_cpu_s": bed_cpu,
        "deadline_hit": bool(outcome.get("deadline_hit")),
        "poller_statistics": outcome.get("poller_statistics"),
        "records": outcome["records"],
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(results: list[dict[str, Any]], profile: Profile, args: argparse.Namespace) -> str:
    header = (
        f"{'contender':<16}{'jobs':>5}{'reported':>9}{'lost':>6}{'wrong':>6}"
        f"{'req/job':>8}{'requests':>9}{'of which List':>14}{'throttled':>16}"
        f"{'p50 s':>7}{'p95 s':>7}{'p99 s':>7}{'wall s':>8}{'client CPU s':>13}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        share = f"{r['throttled']} ({100 * r['throttled_share']:.1f}%)"
        lat = r["latency_s"]
        lines.append(
            f"{r['contender']:<16}{r['jobs']:>5}{r['reported']:>9}{r['lost']:>6}"
            f"{r['wrong_outcomes']:>6}{r['requests_per_job']:>8.2f}{r['requests']:>9}"
            f"{r['list_requests']:>14}{share:>16}{_fmt(lat['p50']):>7}{_fmt(lat['p95']):>7}{_fmt(lat['p99']):>7}"
            f"{r['wall_s']:>8.1f}{r['client_cpu_s']:>13.2f}"
        )
    notes = []
    for r in results:
        if r["lost_reasons"]:
            reasons = ", ".join(f"{n} {why}" for why, n in r["lost_reasons"].items())
            notes.append(f"lost by {r['contender']}: {reasons}")
        if r["uri_mismatches"]:
            notes.append(f"URI mismatches by {r['contender']}: {r['uri_mismatches']}")
    if notes:
        lines += ["", *notes]
    lines += [
        "",
        f"Quota {profile.quota:g} requests/s, burst {profile.burst:g}, on each of "
        f"{' and '.join(GET_OPERATIONS)}; {profile.list_quota:g}/s, burst "
        f"{profile.list_quota:g}, on each List operation; {profile.standard} standard + "
        f"{profile.medical} medical jobs per contender, durations uniform "
        f"{profile.shortest:g}-{profile.longest:g} s, {profile.fail_share:.0%} FAILED, "
        f"seed {args.seed}.",
        "reported: COMPLETED or FAILED delivered. lost: no result before the deadline "
        f"(longest job + {profile.grace:g} s), an exception, or another outcome.",
        "wrong: reported COMPLETED/FAILED unlike the script. requests, throttled: seen by "
        "the proxy while this contender ran, Get and List (botocore's own retries "
        "included); req/job = requests / jobs.",
        "p50/p95/p99: detection latency over reported jobs = time.time() when the "
        "contender learned the terminal status - ScriptedJob.terminal_at.",
        "wall: from handing the jobs to the contender until its last job was reported or "
        "lost. client CPU: time.process_time() of the contender's own process (moto and "
        "the proxy run in the parent process and are not included).",
    ]
    return "\n".join(lines)


def render_targets(results: list[dict[str, Any]]) -> str:
    lines = [
        "Targets (poller): nothing lost, no wrong outcome, throttled < 5% of requests;",
        "with sweeps also p95 detection <= 3 s, <= 2.5 requests per job, throttled < 2%",
    ]
    for r in results:
        if not r["contender"].startswith("poller"):
            continue
        lines.append(f"  {r['contender']}:")
        checks = [
            ("lost == 0", r["lost"] == 0, str(r["lost"])),
            ("wrong == 0", r["wrong_outcomes"] == 0, str(r["wrong_outcomes"])),
            (
                "throttled < 5%",
                r["throttled_share"] < 0.05,
                f"{100 * r['throttled_share']:.2f}%",
            ),
        ]
        if r["contender"] == "poller":
            p95 = (r.get("latency_s") or {}).get("p95")
            checks += [
                ("p95 <= 3 s", p95 is not None and p95 <= 3.0, f"{p95:.2f}"),
                (
                    "req/job <= 2.5",
                    r["requests_per_job"] <= 2.5,
                    f"{r['requests_per_job']:.2f}",
                ),
                (
                    "throttled < 2%",
                    r["throttled_share"] < 0.02,
                    f"{100 * r['throttled_share']:.2f}%",
                ),
            ]
        for label, ok, measured in checks:
            lines.append(f"    {label:<16} measured {measured:<8} {'met' if ok else 'NOT MET'}")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    from transcribe_poller.testing import LocalTranscribe

    profile_name = "quick" if args.quick else "large" if args.large else "default"
    base = PROFILES[profile_name]
    overrides = {
        field: getattr(args, field)
        for field in Profile.__dataclass_fields__
        if getattr(args, field, None) is not None
    }
    profile = Profile(**{**asdict(base), **overrides})
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
    with LocalTranscribe(region=REGION) as bed:
        for contender in contenders:
            print(f"running {contender}: {CONTENDERS[contender]} ...", flush=True)
            result = run_contender(bed, contender, plan, profile, args)
            lat = result["latency_s"]
            print(
                f"  {result['reported']}/{result['jobs']} reported, {result['lost']} lost, "
                f"{result['requests']} requests, {result['throttled']} throttled, "
                f"p95 {_fmt(lat['p95'])} s, wall {result['wall_s']:.1f} s",
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
    now = datetime.datetime.now(datetime.timezone.utc)
    output = (
        Path(args.output)
        if args.output
        else RESULTS / (f"compare_waiters-{profile_name}-{now:%Y%m%dT%H%M%SZ}.json")
    )
    document = {
        "benchmark": "compare_waiters",
        "date_utc": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "git": git_revision(),
        "profile": {"name": profile_name, **asdict(profile)},
        "seed": args.seed,
        "adaptive_attempts": args.adaptive_attempts,
        "loop_interval_s": args.loop_interval,
        "contenders": results,
        "table": table,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1))
    print(f"\nJSON written to {output}")


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
        help="about 1.5 minutes: 100 standard + 30 medical jobs of 5-15 s per contender",
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="800 standard + 200 medical jobs of 15-90 s; meant for "
        "--contenders poller,poller-get-only",
    )
    parser.add_argument("--standard", type=int, help="standard jobs per contender [300]")
    parser.add_argument("--medical", type=int, help="medical jobs per contender [100]")
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
    parser.add_argument("--output", help="JSON path (default: benchmarks/results/<name>.json)")
    # Internal: run one contender in a child process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.child:
        result = asyncio.run(_child_main(args))
        Path(args.result).write_text(json.dumps(result))
        print("DONE", flush=True)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
