"""``transcribe-poller demo``: the whole product on a local Transcribe, in one command.

With ``--push`` the local test bed also sends Transcribe's job state events through
moto's EventBridge to an SQS queue, best effort (a share lost, some duplicated, each
a little late), and writes every job's output objects into moto's S3, whose
"Object Created" events reach the same queue (the object up to a second before the
job's status says COMPLETED). The poller reads them with an
:class:`EventBridgeQueue` covering all four kinds; the summary then sets side by
side, per kind, the jobs whose event arrived and those found by the reconciling
sweeps (event lost, or a failed job, which writes no output).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import random
import secrets
import statistics
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from .._eventbridge import EventBridgeQueue
from .._events import CompletionEvent, Outcome
from .._jobs import JobKind, JobRef
from .._kinds import KINDS
from .._poller import Poller
from .._stats import PollerStatistics
from ..testing import LocalTranscribe, ScriptedJob
from ._args import UsageError
from ._local import local_extra_missing
from ._progress import LINE_WIDTH, Progress, plural, summary

FAILURE_REASONS = (
    "The media format provided does not match the detected media format.",
    "Invalid sample rate for audio file.",
    "The audio file is too short to transcribe.",
)

# Upper edges of the latency histogram's buckets, in seconds: fine where most jobs
# land, coarse in the tail, which is what the histogram is there to show.
LATENCY_EDGES = (0.5, 1.0, 2.0, 5.0, 10.0)
LATENCY_MEANS = (
    "Detection latency: from the moment a job's end could be read (its status COMPLETED "
    "or FAILED) to the poller's event for it."
)


# Share of each kind's jobs that fail, and of those that could be redacted that are.
FAILING = 0.05
REDACTED = {JobKind.STANDARD: 0.15, JobKind.CALL_ANALYTICS: 0.4}
CONTENT_IDENTIFIED = 0.3  # medical jobs reporting ContentIdentificationType PHI

# --push: each event is sent this long after its job's end (seconds, shortest and
# longest), as the service's are a little late; the defaults of --loss, --duplicate
# and --reconcile.
PUSH_DELAY = (0.0, 1.0)
PUSH_LOSS, PUSH_DUPLICATE, PUSH_RECONCILE = 0.1, 0.05, 30.0
# After the last job, how long to wait for events still due (their delay at most).
SETTLE_WITHIN = PUSH_DELAY[1] + 5.0
# --push: each output object lands up to this long before its job's status flips.
PUSH_LEAD = (0.0, 1.0)
PUSH_OUTPUT_KINDS = (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE)


@dataclass(frozen=True)
class PushSettings:
    """What ``--push`` asked for, and the queue the test bed made."""

    queue_url: str
    loss: float
    duplicate: float
    reconcile: float


@dataclass(frozen=True)
class PushResult:
    """What push did, per kind, from the test bed's ground truth.

    ``arrived``: for each kind, how long after its status changed each job whose
    event arrived (a Transcribe event, or an output object) was reported, in
    seconds. ``swept``: the same for jobs with no event (lost on purpose, or a
    failed medical job, which writes no output), found by reconciling sweeps.
    ``sent``, ``lost_events`` and ``duplicated`` count Transcribe's events
    (standard and Call Analytics); ``output_rereads`` the Gets repeated because
    an object came before its job's status changed.
    """

    settings: PushSettings
    arrived: Mapping[JobKind, list[float]]
    swept: Mapping[JobKind, list[float]]
    sent: int
    lost_events: int
    duplicated: int
    queue_requests: int
    queue_messages: int
    output_rereads: int = 0


@dataclass(frozen=True)
class DemoResult:
    events: list[CompletionEvent]
    latencies: list[float]  # of each event, in the same order
    wrong: int
    requests: int
    throttled: int
    faults: int
    elapsed: float
    requests_by_kind: Mapping[JobKind, int] = field(default_factory=dict)
    push: PushResult | None = None


def plan_jobs(
    counts: Mapping[JobKind, int], rng: random.Random, longest: float, *, run: str = "demo"
) -> dict[JobRef, dict[str, Any]]:
    """Each job's start_job arguments: a realistic spread of durations (most jobs take
    a while, a few are quick), a few failing of every kind, some redacted standard and
    Call Analytics jobs, some medical ones reporting PHI. Names begin with ``run``."""
    plans: dict[JobRef, dict[str, Any]] = {}
    shortest = min(2.0, longest)
    for kind, count in counts.items():
        failing = set(rng.sample(range(count), round(count * FAILING)))
        for i in range(count):
            plan: dict[str, Any] = {
                "duration": shortest + (longest - shortest) * rng.betavariate(1.6, 2.2)
            }
            if i in failing:
                plan["fail_with"] = rng.choice(FAILURE_REASONS)
            elif rng.random() < REDACTED.get(kind, 0.0):
                plan["redaction"] = rng.choice(("redacted", "redacted_and_unredacted"))
            if kind is JobKind.MEDICAL and rng.random() < CONTENT_IDENTIFIED:
                plan["content_identification"] = True
            plans[JobRef(f"{run}-{kind.value}-{i:04d}", kind)] = plan
    return plans


def as_scripted(event: CompletionEvent, script: ScriptedJob) -> bool:
    """Whether an event tells what the job's script says: its outcome, its reason for
    failing, and exactly the outputs its kind and redaction produce."""
    if event.outcome.value != script.outcome:
        return False
    if event.outcome is Outcome.FAILED:
        return event.failure_reason == script.failure_reason
    produced = {
        "transcript": event.transcript_uri is not None,
        "redacted": event.redacted_transcript_uri is not None,
        "clinical document": event.clinical_document_uri is not None,
    }
    return produced == {
        "transcript": script.redaction != "redacted",
        "redacted": script.redaction is not None,
        "clinical document": script.kind is JobKind.MEDICAL_SCRIBE,
    }


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


# The demo's mix of kinds: its default counts, and the shares --jobs N is split by.
DEFAULT_COUNTS = {
    JobKind.STANDARD: 100,
    JobKind.MEDICAL: 50,
    JobKind.CALL_ANALYTICS: 30,
    JobKind.MEDICAL_SCRIBE: 20,
}


def kind_counts(args: argparse.Namespace) -> dict[JobKind, int]:
    """How many jobs of each kind the demo starts, from its options.

    A kind given its own count (``--medical 10``) has that many. Without ``--jobs``
    the others have their default counts; with ``--jobs N``, N is the number of jobs
    in all, and the kinds not given share what the given ones leave, in proportion to
    their defaults (largest remainders first, so the counts add up to N exactly).
    """
    given = {
        JobKind.STANDARD: args.standard,
        JobKind.MEDICAL: args.medical,
        JobKind.CALL_ANALYTICS: args.call_analytics,
        JobKind.MEDICAL_SCRIBE: args.medical_scribe,
    }
    counts = {kind: n for kind, n in given.items() if n is not None}
    rest = [kind for kind in DEFAULT_COUNTS if kind not in counts]
    if args.jobs is None:
        return {kind: counts.get(kind, DEFAULT_COUNTS[kind]) for kind in DEFAULT_COUNTS}
    left = args.jobs - sum(counts.values())
    if left < 0:
        raise UsageError(
            f"the kinds given add up to {sum(counts.values())} jobs, more than --jobs {args.jobs}"
        )
    if left and not rest:
        raise UsageError(
            f"--jobs {args.jobs} but every kind's count is given, adding up to "
            f"{sum(counts.values())}"
        )
    weight = sum(DEFAULT_COUNTS[kind] for kind in rest)
    exact = {kind: left * DEFAULT_COUNTS[kind] / weight for kind in rest}
    shares = {kind: int(share) for kind, share in exact.items()}
    by_remainder = sorted(rest, key=lambda kind: shares[kind] - exact[kind])
    for kind in by_remainder[: left - sum(shares.values())]:
        shares[kind] += 1
    return {kind: counts.get(kind, shares.get(kind, 0)) for kind in DEFAULT_COUNTS}


def opening(endpoint_url: str, counts: Mapping[JobKind, int], args: argparse.Namespace) -> str:
    """What the demo does, in lines that fit a terminal."""
    mix = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
    lines = [
        f"Local Transcribe at {endpoint_url}",
        f"{plural(sum(counts.values()), 'job')} started, each taking up to {args.longest:g} s:",
        f"  {mix}",
    ]
    if args.quota:
        lines.append(f"quota {args.quota:g} requests/s per operation")
    if args.faults:
        lines.append("injecting HTTP 500s and dropped connections")
    if getattr(args, "push", False):
        lines += [
            f"push: job state events to an SQS queue, {_percent(args.loss)} lost, "
            f"{_percent(args.duplicate)} duplicated,",
            f"  each {PUSH_DELAY[0]:g}-{PUSH_DELAY[1]:g} s late; "
            f"reconciling sweeps every {args.reconcile:g} s;",
            f"  S3 events of output objects too, each up to {PUSH_LEAD[1]:g} s before COMPLETED",
        ]
    return "\n".join(lines)


def _percent(share: float) -> str:
    return f"{100 * share:.3g}%"


def push_options(args: argparse.Namespace) -> str | None:
    """Fill in --push's options; what is wrong with them, if anything."""
    given = [
        option
        for option, value in (
            ("--loss", args.loss),
            ("--duplicate", args.duplicate),
            ("--reconcile", args.reconcile),
        )
        if value is not None
    ]
    if given and not args.push:
        return f"{', '.join(given)} only apply with --push"
    args.loss = PUSH_LOSS if args.loss is None else args.loss
    args.duplicate = PUSH_DUPLICATE if args.duplicate is None else args.duplicate
    args.reconcile = PUSH_RECONCILE if args.reconcile is None else args.reconcile
    return None


def run_demo(args: argparse.Namespace) -> int:
    if local_extra_missing("the demo"):
        return 2
    counts = kind_counts(args)
    problem = push_options(args)
    if sum(counts.values()) == 0:
        problem = "the demo needs at least one job"
    if problem is not None:
        print(f"transcribe-poller: error: {problem}", file=sys.stderr)
        return 2
    # moto keeps one account per process: a second demo in the process (a test, a
    # notebook) would find its job names taken. A name of its own for each run.
    run = f"demo-{secrets.token_hex(3)}"
    plans = plan_jobs(counts, random.Random(args.seed), args.longest, run=run)
    with LocalTranscribe() as bed:
        push = None
        if args.push:
            # Before the jobs start: every standard and Call Analytics job sends one.
            url = bed.enable_events(
                loss=args.loss,
                duplicate=args.duplicate,
                delay=PUSH_DELAY,
                seed=args.seed,
                output_events=True,
                output_lead=PUSH_LEAD,
            )
            push = PushSettings(url, args.loss, args.duplicate, args.reconcile)
        for job, plan in plans.items():
            bed.start_job(job.name, kind=job.kind, **plan)
        if args.quota or args.faults:
            bed.set_faults(
                quota=args.quota,
                error_rate=0.05 if args.faults else 0.0,
                drop_rate=0.02 if args.faults else 0.0,
            )
        print(opening(bed.endpoint_url, counts, args), file=sys.stderr, flush=True)
        result = anyio.run(_watch, bed, list(plans), push)
    _print_table(result, counts)
    if result.push is not None:
        print()
        print("\n".join(push_report(result)))
    return 0 if result.wrong == 0 and len(result.events) == len(plans) else 1


async def _watch(bed: LocalTranscribe, jobs: list[JobRef], push: PushSettings | None) -> DemoResult:
    started = time.monotonic()
    events: list[CompletionEvent] = []
    latencies: list[float] = []
    reported_at: list[float] = []
    wrong = 0
    async with contextlib.AsyncExitStack() as stack:
        # Clients that do not retry, as the documentation recommends: every request and
        # fault is the poller's, so its summary and the service's counts agree.
        client = await stack.enter_async_context(bed.client(max_attempts=1))
        notifications = None
        if push is not None:
            # SQS at moto's own URL: on AWS another endpoint than Transcribe's.
            sqs = await stack.enter_async_context(bed.sqs_client(retries={"total_max_attempts": 1}))
            notifications = EventBridgeQueue(
                sqs,
                push.queue_url,
                reconcile_interval=push.reconcile,
                output_events=PUSH_OUTPUT_KINDS,
            )
        poller = await stack.enter_async_context(Poller(client, notifications=notifications))
        progress = Progress(poller, len(jobs))
        async with anyio.create_task_group() as tg:
            tg.start_soon(progress.run)
            async with poller.watch(jobs) as stream:
                async for event in stream:
                    now = time.time()
                    script = bed.script(event.job.name, event.job.kind)
                    latencies.append(now - script.terminal_at)
                    reported_at.append(now)
                    events.append(event)
                    wrong += not as_scripted(event, script)
            progress.stop()
        stats = poller.statistics()
    elapsed = time.monotonic() - started
    print(summary(stats, len(jobs), elapsed), file=sys.stderr)
    push_result = None
    if push is not None:
        push_result = await _push_result(bed, push, events, reported_at, stats)
    traffic = bed.traffic()
    return DemoResult(
        events=events,
        latencies=latencies,
        wrong=wrong,
        requests=traffic.total.requests,
        throttled=traffic.total.throttled,
        faults=traffic.total.errors + traffic.total.dropped,
        elapsed=elapsed,
        requests_by_kind={
            kind: sum(
                traffic.by_operation[operation].requests
                for operation in (spec.get_operation, spec.list_operation)
                if operation in traffic.by_operation
            )
            for kind, spec in KINDS.items()
        },
        push=push_result,
    )


async def _push_result(
    bed: LocalTranscribe,
    push: PushSettings,
    events: Sequence[CompletionEvent],
    reported_at: Sequence[float],
    stats: PollerStatistics,
) -> PushResult:
    """What push did, once the events still due (a job found before its event) are sent."""
    with anyio.move_on_after(SETTLE_WITHIN):
        # The test bed sends from a thread of its own: nothing to await but its count.
        while bed.event_statistics().pending:  # noqa: ASYNC110
            await anyio.sleep(0.05)
    sent = bed.event_statistics()
    arrived: dict[JobKind, list[float]] = {}
    swept: dict[JobKind, list[float]] = {}
    for event, at in zip(events, reported_at, strict=True):
        job = event.job
        late = at - bed.script(job.name, job.kind).terminal_at
        if job.kind in PUSH_OUTPUT_KINDS:
            came = bed.output_written_at(job.name, job.kind) is not None
        else:
            came = bed.event_sent_at(job.name, job.kind) is not None
        (arrived if came else swept).setdefault(job.kind, []).append(late)
    return PushResult(
        settings=push,
        arrived=arrived,
        swept=swept,
        sent=sent.sent,
        lost_events=sent.lost,
        duplicated=sent.duplicated,
        queue_requests=stats.queue_requests,
        queue_messages=stats.queue_messages,
        output_rereads=stats.output_rereads,
    )


def push_report(result: DemoResult, width: int = LINE_WIDTH) -> list[str]:
    """What push did, in lines of ``width`` columns at most: per kind, how soon after
    its status changed each job was reported when its event arrived, and when it had
    none and a reconciling sweep found it, side by side; requests per job; what the
    queue took. Without --push, the same jobs (same --seed) are all found by sweeps
    at their usual pace: the plain demo's per-kind rows."""
    push = result.push
    assert push is not None
    settings = push.settings
    heading = (
        f"push, every kind ({_percent(settings.loss)} of events lost, reconciling sweeps "
        f"every {settings.reconcile:g} s): seconds from a job's status changing to its "
        "report, when its event arrived and when a sweep found it (no event: lost, or a "
        "failed job writing no output)"
    )
    lines = textwrap.wrap(heading, width, initial_indent="  ", subsequent_indent="  ")
    table = [("kind", "jobs", "p50", "p95", "jobs", "p50", "p95", "requests/job")]
    for kind in JobKind:
        came, swept = push.arrived.get(kind, []), push.swept.get(kind, [])
        count = len(came) + len(swept)
        if not count:
            continue
        table.append(
            (
                kind.value,
                str(len(came)),
                _seconds(_percentile(came, 0.5)),
                _seconds(_percentile(came, 0.95)),
                str(len(swept)),
                _seconds(_percentile(swept, 0.5)),
                _seconds(_percentile(swept, 0.95)),
                f"{result.requests_by_kind.get(kind, 0) / count:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    rows = []
    for row in table:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        rows.append(("  ".join(cells[:4]), "  ".join(cells[4:7]), cells[7]))
    first = len(rows[0][0]) - len("  ".join(table[0][1:4]).rjust(sum(widths[1:4]) + 4))
    groups = " " * first + "event arrived".rjust(sum(widths[1:4]) + 4)
    groups += "    " + "no event: swept".rjust(sum(widths[4:7]) + 4)
    lines.append(("    " + groups).rstrip())
    lines += [f"    {a}    {b}  {c}".rstrip() for a, b, c in rows]
    jobs = max(sum(len(v) for v in push.arrived.values()) + sum(map(len, push.swept.values())), 1)
    tail = (
        f"SQS: {push.queue_requests / jobs:.2f} requests per job "
        f"({plural(push.queue_requests, 'request')}, {plural(push.queue_messages, 'message')}); "
        f"Transcribe's events: {push.sent} sent ({plural(push.duplicated, 'duplicate')}), "
        f"{push.lost_events} lost; {plural(push.output_rereads, 'Get')} repeated while a "
        "status lagged its output. Without --push, the same jobs (same --seed) are all "
        "found by sweeps: the plain demo's per-kind rows."
    )
    lines += textwrap.wrap(tail, width, initial_indent="  ", subsequent_indent="  ")
    return lines


def _seconds(value: float) -> str:
    """Seconds in a narrow column: hundredths where they matter, whole ones past 100."""
    if value != value:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def per_kind_table(result: DemoResult, counts: Mapping[JobKind, int]) -> list[str]:
    """One row per kind of job started: jobs, failed, redacted, detection latency and
    requests per job (its Gets and Lists), within 80 columns."""
    header = ("kind", "jobs", "failed", "redacted", "p50", "p95", "requests/job")
    rows = [header]
    for kind, count in counts.items():
        if not count:
            continue
        mine = [
            (e, lat)
            for e, lat in zip(result.events, result.latencies, strict=True)
            if e.job.kind is kind
        ]
        latencies = [latency for _, latency in mine]
        rows.append(
            (
                kind.value,
                str(count),
                str(sum(e.outcome is Outcome.FAILED for e, _ in mine)),
                str(sum(e.redacted_transcript_uri is not None for e, _ in mine)),
                f"{_percentile(latencies, 0.5):.1f} s",
                f"{_percentile(latencies, 0.95):.1f} s",
                f"{result.requests_by_kind.get(kind, 0) / max(len(mine), 1):.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  "
        + "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def _print_table(result: DemoResult, counts: Mapping[JobKind, int]) -> None:
    outcomes = Counter(event.outcome for event in result.events)
    jobs = len(result.events)
    rows = [
        (
            "jobs",
            f"{jobs} reported of {sum(counts.values())}, {result.wrong} wrong outcomes or outputs",
        ),
        ("outcomes", ", ".join(f"{o.value} {outcomes[o]}" for o in Outcome if outcomes[o])),
        (
            "detection latency",
            f"p50 {_percentile(result.latencies, 0.5):.1f} s, "
            f"p95 {_percentile(result.latencies, 0.95):.1f} s, "
            f"max {max(result.latencies, default=float('nan')):.1f} s",
        ),
        # Per job once, in the line above (the poller's count, per finished job).
        ("requests", f"{result.requests}, as the test bed counted them (Get and List)"),
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
    print()
    print(
        "\n".join(
            textwrap.wrap(LATENCY_MEANS, LINE_WIDTH, initial_indent="  ", subsequent_indent="  ")
        )
    )
    print("\n  per kind of job (detection latency p50, p95):")
    print("\n".join(per_kind_table(result, counts)))
    histogram = latency_histogram(result.latencies)
    if histogram:
        print("\n  detection latency, jobs per bucket:")
        print("\n".join(histogram))
