"""``transcribe-poller demo``: the whole product on a local Transcribe, in one command.

It starts the local test bed, starts jobs of every kind on it (a few failing, some
redacted), waits for them with a :class:`Poller` and checks each event against the
job's script; :mod:`._demo_report` shows what it found.

With ``--push`` the local test bed also sends Transcribe's job state events through
moto's EventBridge to an SQS queue, best effort (a share lost, some duplicated, each
a little late), and writes every job's output objects into moto's S3, whose
"Object Created" events reach the same queue (the object up to a second before the
job's status says COMPLETED). The poller reads them with an
:class:`EventBridgeQueue` covering all four kinds; the summary then sets side by
side, per kind, the jobs whose event arrived and those found by the reconciling
sweeps (event lost, or a failed job, which writes no output).

The first job to complete has its transcript fetched while the others are awaited
(:meth:`Poller.fetch_transcript`, through the test bed's S3 for the kinds whose
output is in a bucket of the caller's): the report shows its first line.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from .. import (
    CompletionEvent,
    EventBridgeQueue,
    JobKind,
    JobRef,
    Outcome,
    Poller,
    PollerStatistics,
    Segment,
    TranscribePollerError,
)
from ..testing import LocalTranscribe, ScriptedJob, TrafficReport
from ._args import count, positive, share
from ._demo_report import (
    DemoResult,
    PushResult,
    PushSettings,
    TranscriptShown,
    percent,
    print_report,
)
from ._local import local_extra_missing
from ._progress import Progress, plural, summary
from ._status import ExitCode, UsageError

FAILURE_REASONS = (
    "The media format provided does not match the detected media format.",
    "Invalid sample rate for audio file.",
    "The audio file is too short to transcribe.",
)

# Share of each kind's jobs that fail, and of those that could be redacted that are.
FAILING = 0.05
REDACTED = {JobKind.STANDARD: 0.15, JobKind.CALL_ANALYTICS: 0.4}
CONTENT_IDENTIFIED = 0.3  # medical jobs reporting ContentIdentificationType PHI
# What the recordings say, in turn: two speakers each (labelled on standard and
# medical jobs; Call Analytics and Medical Scribe name their participants' roles).
SPEECH = (
    "Thank you for calling. How can I help you today? I would like to change my address.",
    "Good morning. What brings you in? I have had a headache since Monday.",
    "Hello, this is the front desk. Your order is ready. Great, I will pick it up today.",
    "How was the trip? Long, but the weather was lovely. Glad to hear it.",
)
SPEAKERS = 2
FETCH_TIMEOUT = 10.0  # seconds for the one transcript fetched: the test bed is local

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


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    demo = commands.add_parser(
        "demo",
        parents=parents,
        help="run the poller on a local Transcribe test bed (no AWS account needed)",
        description=(
            "Start a local Transcribe, start jobs of every kind on it (a few failing, some "
            "redacted), wait for all of them, and check each was reported as scripted."
        ),
    )
    demo.add_argument(
        "--jobs",
        type=count,
        metavar="N",
        help="jobs in all, split 50%% standard, 25%% medical, 15%% Call Analytics, 10%% "
        "Medical Scribe among the kinds not given a count of their own (default 200)",
    )
    demo.add_argument(
        "--standard", type=count, metavar="N", help="standard jobs, some redacted (default 100)"
    )
    demo.add_argument("--medical", type=count, metavar="N", help="medical jobs (default 50)")
    demo.add_argument(
        "--call-analytics",
        type=count,
        metavar="N",
        help="Call Analytics jobs, some redacted (default 30)",
    )
    demo.add_argument(
        "--medical-scribe", type=count, metavar="N", help="Medical Scribe jobs (default 20)"
    )
    demo.add_argument(
        "--quota",
        type=positive,
        metavar="RATE",
        help="have the local service allow RATE requests/s per operation, throttling the rest",
    )
    demo.add_argument(
        "--faults", action="store_true", help="inject HTTP 500s and dropped connections"
    )
    demo.add_argument(
        "--longest", type=positive, default=30.0, metavar="S", help="longest job (default 30 s)"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for durations and outcomes")
    push = demo.add_argument_group(
        "push",
        "Learn of jobs' ends as they happen: the local test bed sends Transcribe's job "
        "state events (standard and Call Analytics jobs) and S3's events of the output "
        "objects (medical and Medical Scribe jobs) through EventBridge to an SQS queue, "
        f"best effort (a state event up to {PUSH_DELAY[1]:g} s after its job's end, an "
        f"output object up to {PUSH_LEAD[1]:g} s before it; --seed also decides which "
        "are lost), and the poller reads them. The summary tells, per kind, what that "
        "changed: compare it with the same demo without --push.",
    )
    push.add_argument("--push", action="store_true", help="read job state events from an SQS queue")
    push.add_argument(
        "--loss",
        type=share,
        metavar="FRACTION",
        help=f"share of events lost (default {PUSH_LOSS:g})",
    )
    push.add_argument(
        "--duplicate",
        type=share,
        metavar="FRACTION",
        help=f"share of events sent twice (default {PUSH_DUPLICATE:g})",
    )
    push.add_argument(
        "--reconcile",
        type=positive,
        metavar="S",
        help=f"sweep every S seconds anyway, for lost events (default {PUSH_RECONCILE:g})",
    )
    return demo


@dataclass(frozen=True)
class DemoSettings:
    """What the demo's options ask for, with the defaults of those not given."""

    longest: float
    seed: int
    quota: float | None
    faults: bool
    push: bool
    loss: float
    duplicate: float
    reconcile: float


def demo_settings(args: argparse.Namespace) -> DemoSettings:
    """The demo's settings from its options (left as they are); --loss, --duplicate
    and --reconcile without --push are a usage error."""
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
        raise UsageError(f"{', '.join(given)} only apply with --push")
    return DemoSettings(
        longest=args.longest,
        seed=args.seed,
        quota=args.quota,
        faults=args.faults,
        push=args.push,
        loss=PUSH_LOSS if args.loss is None else args.loss,
        duplicate=PUSH_DUPLICATE if args.duplicate is None else args.duplicate,
        reconcile=PUSH_RECONCILE if args.reconcile is None else args.reconcile,
    )


def run(args: argparse.Namespace) -> ExitCode:
    if local_extra_missing("the demo"):
        return ExitCode.USAGE
    counts = kind_counts(args)
    if sum(counts.values()) == 0:
        raise UsageError("the demo needs at least one job")
    settings = demo_settings(args)
    # moto keeps one account per process: a second demo in the process (a test, a
    # notebook) would find its job names taken. A name of its own for each run.
    name = f"demo-{secrets.token_hex(3)}"
    plans = plan_jobs(counts, random.Random(settings.seed), settings.longest, run=name)
    with LocalTranscribe() as bed:
        push = None
        if settings.push:
            # Before the jobs start: every standard and Call Analytics job sends one.
            url = bed.enable_events(
                loss=settings.loss,
                duplicate=settings.duplicate,
                delay=PUSH_DELAY,
                seed=settings.seed,
                output_events=True,
                output_lead=PUSH_LEAD,
            )
            push = PushSettings(url, settings.loss, settings.duplicate, settings.reconcile)
        for job, plan in plans.items():
            bed.start_job(job.name, kind=job.kind, **plan)
        if settings.quota or settings.faults:
            bed.set_faults(
                quota=settings.quota,
                error_rate=0.05 if settings.faults else 0.0,
                drop_rate=0.02 if settings.faults else 0.0,
            )
        print(opening(bed.endpoint_url, counts, settings), file=sys.stderr, flush=True)
        result = anyio.run(_watch, bed, list(plans), push)
    print_report(result, counts)
    fetched = result.transcript is None or result.transcript.error is None
    if result.wrong == 0 and len(result.events) == len(plans) and fetched:
        return ExitCode.OK
    return ExitCode.FAILURE


def plan_jobs(
    counts: Mapping[JobKind, int], rng: random.Random, longest: float, *, run: str = "demo"
) -> dict[JobRef, dict[str, Any]]:
    """Each job's start_job arguments: a realistic spread of durations (most jobs take
    a while, a few are quick), a few failing of every kind, some redacted standard and
    Call Analytics jobs, some medical ones reporting PHI, each saying one of a few
    short conversations. Names begin with ``run``."""
    plans: dict[JobRef, dict[str, Any]] = {}
    shortest = min(2.0, longest)
    for kind, jobs in counts.items():
        failing = set(rng.sample(range(jobs), round(jobs * FAILING)))
        for i in range(jobs):
            plan: dict[str, Any] = {
                "duration": shortest + (longest - shortest) * rng.betavariate(1.6, 2.2)
            }
            if i in failing:
                plan["fail_with"] = rng.choice(FAILURE_REASONS)
            elif rng.random() < REDACTED.get(kind, 0.0):
                plan["redaction"] = rng.choice(("redacted", "redacted_and_unredacted"))
            if kind is JobKind.MEDICAL and rng.random() < CONTENT_IDENTIFIED:
                plan["content_identification"] = True
            # By position, not drawn: the seed's draws stay those of the demo's figures.
            plan["transcript"] = SPEECH[i % len(SPEECH)]
            if kind in (JobKind.STANDARD, JobKind.MEDICAL):
                plan["speakers"] = SPEAKERS
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


def opening(endpoint_url: str, counts: Mapping[JobKind, int], settings: DemoSettings) -> str:
    """What the demo does, in lines that fit a terminal."""
    mix = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
    lines = [
        f"Local Transcribe at {endpoint_url}",
        f"{plural(sum(counts.values()), 'job')} started, each taking up to {settings.longest:g} s:",
        f"  {mix}",
    ]
    if settings.quota:
        lines.append(f"quota {settings.quota:g} requests/s per operation")
    if settings.faults:
        lines.append("injecting HTTP 500s and dropped connections")
    if settings.push:
        lines += [
            f"push: job state events to an SQS queue, {percent(settings.loss)} lost, "
            f"{percent(settings.duplicate)} duplicated,",
            f"  each {PUSH_DELAY[0]:g}-{PUSH_DELAY[1]:g} s late; "
            f"reconciling sweeps every {settings.reconcile:g} s;",
            f"  S3 events of output objects too, each up to {PUSH_LEAD[1]:g} s before COMPLETED",
        ]
    return "\n".join(lines)


def requests_by_kind(traffic: TrafficReport) -> dict[JobKind, int]:
    """The requests the test bed counted for each kind: its Gets and its Lists."""
    return {kind: counts.requests for kind, counts in traffic.by_kind.items()}


async def _watch(bed: LocalTranscribe, jobs: list[JobRef], push: PushSettings | None) -> DemoResult:
    """Wait for every job with a Poller of the demo's own clients; check each event
    against its job's script."""
    started = time.monotonic()
    events: list[CompletionEvent] = []
    latencies: list[float] = []
    reported_at: list[float] = []
    wrong = 0
    shown: list[TranscriptShown] = []
    async with contextlib.AsyncExitStack() as stack:
        # Clients that do not retry, as the documentation recommends: every request and
        # fault is the poller's, so its summary and the service's counts agree.
        client = await stack.enter_async_context(bed.client(max_attempts=1))
        # S3 for the transcripts in the caller's buckets (medical and Medical Scribe).
        s3 = await stack.enter_async_context(bed.s3_client(retries={"total_max_attempts": 1}))
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
        poller = await stack.enter_async_context(Poller(client, notifications=notifications, s3=s3))
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
                    if not shown and event.outcome is Outcome.COMPLETED:
                        # While the others are awaited: the demo takes no longer.
                        shown.append(TranscriptShown(event.job))
                        tg.start_soon(_fetch_first_line, poller, event, shown)
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
        requests_by_kind=requests_by_kind(traffic),
        push=push_result,
        transcript=shown[0] if shown else None,
    )


async def _fetch_first_line(
    poller: Poller, event: CompletionEvent, shown: list[TranscriptShown]
) -> None:
    """Fetch ``event``'s transcript; put its first line, or why not, in ``shown``."""
    started = time.monotonic()
    try:
        with anyio.fail_after(FETCH_TIMEOUT):
            transcript = await poller.fetch_transcript(event)
    except TranscribePollerError as error:
        shown[0] = TranscriptShown(event.job, error=str(error))
    except TimeoutError:
        shown[0] = TranscriptShown(
            event.job, error=f"transcript of job {event.job}: not fetched in {FETCH_TIMEOUT:g} s"
        )
    else:
        first = transcript.segments[0] if transcript.segments else None
        shown[0] = TranscriptShown(
            event.job,
            first_line=first_line(first, transcript.text),
            seconds=time.monotonic() - started,
        )


def first_line(segment: Segment | None, text: str) -> str:
    """A transcript's first line: its first segment, with its time and speaker, as a
    subtitle shows it; the text when it has no segment."""
    if segment is None:
        return text or "(no words)"
    who = f"{segment.speaker} " if segment.speaker else ""
    return f"{who}{segment.start:.1f}-{segment.end:.1f} s: {segment.text}"


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
