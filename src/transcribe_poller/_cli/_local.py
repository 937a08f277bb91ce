"""``transcribe-poller local``: the local test bed served for the shell until stopped,
and its action ``local start-job``, which starts a scripted job on it from another
terminal, over the test bed's HTTP control endpoint.

Exit statuses: see :class:`~._status.ExitCode`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from .. import JobKind

# Until the kit exports them: transcribe_poller.testing.JOBS_PATH and .job_spec.
from ..testing import JOBS_PATH, LocalTranscribe, ScriptedJob, job_spec
from ._args import (
    count,
    non_negative,
    port,
    positive,
    region,
    region_problem,
    share,
    verbose_option,
)
from ._jobfile import JobFileError, read_lines
from ._status import ExitCode, UsageError

DEFAULT_PORT = 4566
DEFAULT_DURATION = 10.0  # seconds: long enough to watch a job move in a second terminal

KIND_VALUES = tuple(kind.value for kind in JobKind)
# local's option for starting jobs of each kind: --job (standard), --medical-job,
# --call-analytics-job, --medical-scribe-job; a new JobKind gets one of its own.
JOB_OPTIONS = {
    kind: "--job" if kind is JobKind.STANDARD else f"--{kind.value}-job" for kind in JobKind
}


_START_JOB_TEXT = textwrap.fill(
    "Start a scripted job on a running `transcribe-poller local`: QUEUED, then "
    "IN_PROGRESS, then COMPLETED (or FAILED with --fail-with) DURATION seconds later. "
    f"--kind picks the kind of job ({', '.join(KIND_VALUES)}); --medical is "
    "--kind medical. The test bed is found at --at, else $AWS_ENDPOINT_URL_TRANSCRIBE, "
    f"else http://127.0.0.1:{DEFAULT_PORT}.",
    width=79,
)
START_JOB_HELP = f"""\
{_START_JOB_TEXT}

Exit status: 0 started, 1 the test bed could not be reached, 2 refused (a bad
field, a name already taken) or a usage error.
"""

_LOCAL_JOBS_TEXT = textwrap.fill(
    f"Scripted jobs (a name, a duration, an outcome) of every kind "
    f"({', '.join(KIND_VALUES)}) start from this command line "
    f"({', '.join(JOB_OPTIONS.values())}, --jobs-file) or, while it runs, with "
    f"`transcribe-poller local start-job NAME [--kind KIND]` or POST {JOBS_PATH} (a "
    "JSON object with the fields name, kind, duration, queued_for, fail_with, "
    "redaction, subtitles, content_identification, output_bucket, transcript, "
    "speakers, channels).",
    width=79,
)
_LOCAL_EVENTS_TEXT = textwrap.fill(
    "With --events, standard and Call Analytics jobs send Transcribe's job state events "
    "through moto's EventBridge to an SQS queue, as an EventBridge rule would on AWS, "
    "and medical and Medical Scribe jobs write their output objects into moto's S3, "
    "whose events a second rule routes to the same queue (--loss and --duplicate make "
    "delivery best effort): it prints the queue's URL and AWS_ENDPOINT_URL_SQS, for "
    "`transcribe-poller wait --queue-url URL --output-events medical,medical-scribe`.",
    width=79,
)
LOCAL_HELP = f"""\
Serve a local Amazon Transcribe (moto behind a fault-injecting proxy) on
127.0.0.1:PORT until Ctrl-C or SIGTERM, and print the environment to use it.
No AWS account is needed; it accepts any credentials, so use dummy ones.

{_LOCAL_JOBS_TEXT}

{_LOCAL_EVENTS_TEXT}

Exit status: 0 after a clean stop, 1 when it cannot start (the port is taken),
2 for a usage error or without the local extra.
"""


def _job_option(text: str) -> dict[str, Any]:
    """``NAME`` or ``NAME:SECONDS``, for --job, --medical-job and their siblings."""
    name, colon, seconds = text.partition(":")
    return {"name": name, "duration": non_negative(seconds) if colon else DEFAULT_DURATION}


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``local``, and under it its action ``start-job``."""
    local = commands.add_parser(
        "local",
        parents=parents,
        help="serve a local Transcribe on 127.0.0.1 for other terminals (no AWS account)",
        description=LOCAL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # Abbreviations would make start-job's --medical ambiguous here, between
        # --medical-job and --medical-scribe-job, before start-job could parse it.
        allow_abbrev=False,
    )
    local.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    local.add_argument(
        "--region",
        type=region,
        default="us-east-1",
        help="its region, one Transcribe has (default us-east-1)",
    )
    for kind, option in JOB_OPTIONS.items():
        local.add_argument(
            option,
            type=_job_option,
            action="append",
            default=[],
            metavar="NAME[:S]",
            dest=_job_dest(kind),
            help=(
                f"start a {kind.value.replace('-', ' ')} job lasting S seconds "
                f"(default {DEFAULT_DURATION:g}); repeatable"
            ),
        )
    local.add_argument(
        "--jobs-file",
        metavar="FILE",
        help=f"start the jobs of FILE: one JSON object per line, as for POST {JOBS_PATH}",
    )
    local.add_argument(
        "--quota", type=positive, metavar="RATE", help="throttle each operation above RATE/s"
    )
    local.add_argument(
        "--faults", action="store_true", help="inject HTTP 500s and dropped connections"
    )
    local.add_argument(
        "--events",
        action="store_true",
        help="send job state events to an SQS queue, for wait --queue-url",
    )
    local.add_argument(
        "--loss",
        type=share,
        metavar="FRACTION",
        help="with --events: share of events lost (default 0)",
    )
    local.add_argument(
        "--duplicate",
        type=share,
        metavar="FRACTION",
        help="with --events: share of events sent twice (default 0)",
    )
    actions = local.add_subparsers(dest="local_command", metavar="[ACTION]")
    start = actions.add_parser(
        "start-job",
        parents=[verbose_option("verbose_action")],
        help="start a scripted job on a running `transcribe-poller local`",
        description=START_JOB_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    start.add_argument("name", metavar="NAME", help="the job's name")
    start.add_argument(
        "--duration",
        type=non_negative,
        default=DEFAULT_DURATION,
        metavar="S",
        help=f"seconds until it ends (default {DEFAULT_DURATION:g})",
    )
    start.add_argument(
        "--queued-for", type=non_negative, metavar="S", help="seconds QUEUED (default a quarter)"
    )
    start.add_argument(
        "--kind",
        choices=KIND_VALUES,
        metavar="KIND",
        help=f"the kind of job: {', '.join(KIND_VALUES)} (default standard)",
    )
    start.add_argument("--medical", action="store_true", help="a medical job: --kind medical")
    start.add_argument("--fail-with", metavar="REASON", help="end FAILED with this reason")
    start.add_argument(
        "--redaction",
        choices=("redacted", "redacted_and_unredacted"),
        help="standard and call-analytics jobs: produce a redacted transcript",
    )
    start.add_argument(
        "--subtitles",
        choices=("vtt", "srt"),
        action="append",
        default=[],
        help="standard jobs: a subtitle format (repeatable)",
    )
    start.add_argument(
        "--content-identification",
        action="store_true",
        help="medical jobs: report ContentIdentificationType PHI",
    )
    start.add_argument(
        "--transcript",
        metavar="TEXT",
        help="what the recording says: its transcript's text (default: a sentence naming the job)",
    )
    start.add_argument(
        "--speakers",
        type=count,
        metavar="N",
        help="standard and medical jobs: label N speakers (2 or more), one per sentence in turn",
    )
    start.add_argument("--at", metavar="URL", help="the test bed's endpoint URL")
    return local


def _job_dest(kind: JobKind) -> str:
    return JOB_OPTIONS[kind].lstrip("-").replace("-", "_")


def run(args: argparse.Namespace) -> ExitCode:
    # The test bed's region: one Transcribe has, as there is no endpoint to sign for.
    problem = region_problem(args.region)
    if problem is not None:
        raise UsageError(problem)
    if args.local_command == "start-job":
        return start_job(args)
    return serve(args)


# -- serving --------------------------------------------------------------------------


def _read_jobs_file(path: str) -> list[dict[str, Any]]:
    """Job specs from JSON lines; every bad line is reported, as file:line: reason."""
    try:
        lines = read_lines(path)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except JobFileError as error:  # not UTF-8: the line of its first bad bytes
        raise UsageError(str(error)) from None
    specs, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            specs.append(job_spec(json.loads(line)))
        except ValueError as error:  # json's decode errors are ValueErrors too
            problems.append(f"{path}:{number}: {error}")
    if problems:
        raise UsageError(str(JobFileError(path, problems)))
    return specs


def startup_specs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every job to start with the test bed, checked before anything starts (with the
    options that need --events)."""
    needing_events = [
        option
        for option, value in (("--loss", args.loss), ("--duplicate", args.duplicate))
        if value is not None
    ]
    if needing_events and not args.events:
        raise UsageError(f"{' and '.join(needing_events)} only apply with --events")

    given = [
        (option, {**spec, "kind": kind.value})
        for kind, option in JOB_OPTIONS.items()
        for spec in getattr(args, _job_dest(kind))
    ]
    specs, problems = [], []
    for option, payload in given:
        try:
            specs.append(job_spec(payload))
        except ValueError as error:
            problems.append(f"{option} {payload['name']}: {error}")
    if problems:
        raise UsageError("\n".join(problems))
    if args.jobs_file is not None:
        specs += _read_jobs_file(args.jobs_file)
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        key = (str(spec["kind"]), spec["name"])
        if key in seen:
            raise UsageError(f"the {key[0]} job {key[1]!r} is given twice")
        seen.add(key)
    return specs


def _port_taken(number: int) -> OSError | None:
    """Why 127.0.0.1:number cannot be listened on, if it cannot: say so before starting."""
    if number == 0:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the proxy binds: a port whose old connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", number))
        except OSError as error:
            return error
    return None


def _sleep_until_interrupted() -> int:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return int(signal.SIGINT)


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[Callable[[], int]]:
    """Hold SIGINT and SIGTERM until the caller waits for one.

    A stop asked for during start-up then takes effect once the test bed is up, and
    stops it cleanly; the server threads, started with the signals held, never see
    them. Without POSIX signal masks (Windows), Ctrl-C is a KeyboardInterrupt.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield _sleep_until_interrupted
        return
    wanted = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    try:
        yield lambda: signal.sigwait(wanted)
    finally:
        # A second Ctrl-C while stopping would fire the moment the mask is lifted.
        while pending := signal.sigpending() & wanted:
            signal.sigwait(pending)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _announce(script: ScriptedJob) -> None:
    ending = f"FAILED ({script.failure_reason})" if script.failure_reason else script.outcome
    print(
        f"started {script.kind.value} job {script.name}: {ending} in {script.duration:g} s",
        flush=True,
    )


def _events_text(args: argparse.Namespace) -> str:
    """How best effort the events are, in words: ``10% lost, 5% sent twice``."""
    shares = [
        f"{100 * share:.3g}% {what}"
        for share, what in ((args.loss, "lost"), (args.duplicate, "sent twice"))
        if share
    ]
    return ", ".join(shares) or "none lost"


def banner(bed: LocalTranscribe, events: str | None = None) -> str:
    """What to paste in other terminals; with ``events`` (how best effort they are),
    the queue of job state events and the SQS endpoint too."""
    url = bed.endpoint_url
    queue, sqs_line, queue_option = "", "", ""
    # Medical and Medical Scribe output is in moto's S3, for wait --fetch to read.
    s3_line = f"\n  export AWS_ENDPOINT_URL_S3={bed.moto_url}"
    if events is not None:
        queue = (
            "Standard and Call Analytics jobs send their job state events to the SQS\n"
            f"queue {bed.events_queue_url} ({events}),\n"
            "and medical and Medical Scribe jobs S3's events of their output objects.\n"
        )
        sqs_line = f"\n  export AWS_ENDPOINT_URL_SQS={bed.moto_url}"
        queue_option = (
            f" \\\n      --queue-url {bed.events_queue_url} --output-events medical,medical-scribe"
        )
    return f"""\
Local Transcribe at {url}, region {bed.region}.
{queue}It accepts any credentials: give it dummy ones, never your real ones.

In another terminal:

  export AWS_ENDPOINT_URL_TRANSCRIBE={url}{sqs_line}{s3_line}
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_DEFAULT_REGION={bed.region}
  transcribe-poller local start-job call-1 --transcript "Hello. How are you?"
  transcribe-poller local start-job visit-1 --kind medical-scribe --duration 3
  transcribe-poller wait call-1 --medical-scribe visit-1 --fetch text{queue_option}

More jobs: transcribe-poller local start-job --help,
or POST a JSON job to {url}{JOBS_PATH}.
Stop with Ctrl-C (or SIGTERM).
"""


def local_extra_missing(what: str) -> bool:
    """Say in one line what to install when moto's server (the local extra) is
    missing; the test bed would only say so once started, after a traceback."""
    try:
        import moto.server  # noqa: F401
    except ImportError:  # tested from a wheel installed without the extra
        print(
            f"transcribe-poller: {what} runs on the local test bed, which needs: "
            "pip install 'transcribe-poller[local]'",
            file=sys.stderr,
        )
        return True
    return False


def serve(args: argparse.Namespace) -> ExitCode:
    """Serve the test bed until SIGINT or SIGTERM, with the jobs of the command line."""
    if local_extra_missing("local"):
        return ExitCode.USAGE
    specs = startup_specs(args)
    taken = _port_taken(args.port)
    if taken is not None:
        print(
            f"transcribe-poller: error: cannot listen on 127.0.0.1:{args.port}: "
            f"{taken.strerror}; stop what uses it, or pass --port 0 for a free port",
            file=sys.stderr,
        )
        return ExitCode.FAILURE
    bed = LocalTranscribe(region=args.region, port=args.port)
    with _stop_signals_held() as wait_for_stop:
        try:
            bed.start()
        except RuntimeError as error:  # lost a race for the port, most likely
            print(f"transcribe-poller: error: cannot start: {error}", file=sys.stderr)
            return ExitCode.FAILURE
        try:
            bed.enable_control(on_start=_announce)
            events = None
            if args.events:
                # Before the jobs of the command line start: they send events too.
                bed.enable_events(
                    loss=args.loss or 0.0, duplicate=args.duplicate or 0.0, output_events=True
                )
                events = _events_text(args)
            if args.quota or args.faults:
                bed.set_faults(
                    quota=args.quota,
                    error_rate=0.05 if args.faults else 0.0,
                    drop_rate=0.02 if args.faults else 0.0,
                )
            for spec in specs:
                _announce(bed.start_job(**spec))
            print(banner(bed, events), flush=True)
            stopped_by = signal.Signals(wait_for_stop()).name
        finally:
            bed.stop()
    print(f"transcribe-poller: {stopped_by}: the local test bed has stopped.", file=sys.stderr)
    return ExitCode.OK


# -- starting a job from another terminal ---------------------------------------------


def _endpoint(args: argparse.Namespace) -> str:
    url = (
        args.at
        or os.environ.get("AWS_ENDPOINT_URL_TRANSCRIBE")
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"http://127.0.0.1:{DEFAULT_PORT}"
    )
    return str(url).rstrip("/")


def _payload(args: argparse.Namespace) -> dict[str, Any]:
    if args.medical and args.kind not in (None, JobKind.MEDICAL.value):
        raise UsageError(f"--medical and --kind {args.kind} disagree: give one of them")
    payload: dict[str, Any] = {
        "name": args.name,
        "kind": JobKind.MEDICAL.value if args.medical else args.kind or JobKind.STANDARD.value,
        "duration": args.duration,
    }
    optional = {
        "queued_for": args.queued_for,
        "fail_with": args.fail_with,
        "redaction": args.redaction,
        "subtitles": args.subtitles or None,
        "content_identification": args.content_identification or None,
        "transcript": args.transcript,
        "speakers": args.speakers,
    }
    payload.update({field: value for field, value in optional.items() if value is not None})
    return payload


def post_json(url: str, payload: object, timeout: float = 10.0) -> Any:
    """POST JSON, return the decoded answer; HTTPError for 4xx/5xx, URLError if unreachable."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    # The test bed is on this machine: an HTTP proxy from the environment must not
    # stand in between.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read())


def _error_text(error: urllib.error.HTTPError) -> str:
    body = error.read()
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {error.code} {body[:200].decode(errors='replace')!r}"


def start_job(args: argparse.Namespace) -> ExitCode:
    """Start one scripted job on a running test bed, by POST to its control endpoint."""
    at = _endpoint(args)
    try:
        answer = post_json(at + JOBS_PATH, _payload(args))
    except urllib.error.HTTPError as error:
        if error.code in (400, 409):  # a bad field, a name taken: what was asked is wrong
            raise UsageError(f"job refused: {_error_text(error)}") from None
        return _not_a_test_bed(at, _error_text(error))
    except ValueError:  # an answer that is not JSON
        return _not_a_test_bed(at, "its answer is not JSON")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(
            f"transcribe-poller: error: cannot reach a test bed at {at}: {reason}; "
            "is `transcribe-poller local` running? (--at URL says where)",
            file=sys.stderr,
        )
        return ExitCode.FAILURE
    if not isinstance(answer, dict) or "name" not in answer:
        return _not_a_test_bed(at, f"it answered {str(answer)[:80]!r}")
    ending = f"FAILED ({answer['failure_reason']})" if answer["failure_reason"] else "COMPLETED"
    print(f"started {answer['kind']} job {answer['name']}: {ending} in {answer['duration']:g} s")
    return ExitCode.OK


def _not_a_test_bed(at: str, why: str) -> ExitCode:
    print(
        f"transcribe-poller: error: {at} is not a `transcribe-poller local` test bed: {why}",
        file=sys.stderr,
    )
    return ExitCode.FAILURE
