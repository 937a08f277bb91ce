"""``transcribe-poller wait``: wait for jobs, one JSON line on stdout as each ends.

Built on the public API alone: :func:`open_poller` makes the clients (Transcribe's,
and SQS's for ``--queue-url``), :meth:`Poller.watch` brings the events, and with
``--fetch`` :mod:`._transcripts` fetches each completed job's transcript into its
line or a file. Exit statuses: see :class:`~._status.ExitCode`.

``submit`` (:mod:`._submit`) runs the same way on other events: it takes the
options of :func:`add_poller_options`, checks them with :func:`check_poller_options`
and hands its :class:`Batch` to :func:`run_batch`, which prints the lines, the
progress and the summary and decides the exit status, as for ``wait``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import anyio.abc
import botocore.exceptions

from .. import (
    DEFAULT_OPTIONS,
    CompletionEvent,
    InvalidJobNameError,
    JobKind,
    JobRef,
    KindStatistics,
    NotificationsError,
    Outcome,
    Poller,
    PollerStatistics,
    ServiceUnreachableError,
    StartRefusedError,
    open_poller,
)
from . import _transcripts
from ._args import (
    endpoint_problem,
    endpoint_url,
    kinds,
    non_negative,
    positive,
    queue_url,
    region,
    region_problem,
)
from ._jobfile import JobFileError, checked_lines, parse_job_lines, read_lines
from ._progress import Progress, summary
from ._status import ExitCode, UsageError
from ._transcripts import Fetching

MAX_RATE = DEFAULT_OPTIONS["max_rate"]
NOT_FOUND_GRACE = DEFAULT_OPTIONS["not_found_grace"]

# wait's option for each kind but standard (whose jobs are plain NAMEs): --medical,
# --call-analytics, --medical-scribe; a new JobKind gets one of its own.
KIND_OPTIONS = {kind: f"--{kind.value}" for kind in JobKind if kind is not JobKind.STANDARD}
_KIND_OPTIONS_TEXT = ", ".join(KIND_OPTIONS.values())
_PREFIXES_TEXT = ", ".join(f"{kind.value}:NAME" for kind in KIND_OPTIONS)

_KINDS_HELP = textwrap.fill(
    f"A NAME is a standard job; {_KIND_OPTIONS_TEXT} name jobs of the other kinds "
    f"(repeatable), and a job file spells them {_PREFIXES_TEXT}. Standard and Call "
    "Analytics jobs may have a redacted transcript (redacted_transcript_uri), standard "
    "jobs subtitles (subtitle_uris); a Medical Scribe job's clinical note is its "
    "clinical_document_uri.",
    width=79,
)
HELP = f"""\
Wait for jobs and print one JSON object per line on stdout as each finishes:
job, kind, outcome, transcript_uri, redacted_transcript_uri, subtitle_uris,
clinical_document_uri, expires_at, failure_reason, error, polls, waited (and
with --fetch: transcript or transcript_file, and fetch_error).

{_KINDS_HELP}

URIs of output in the service's own bucket are presigned and expire after about
15 minutes; expires_at says when (null when the output is in your own bucket).
For fresh ones, run wait again on the same names: a finished job answers at
its first Get.

--queue-url URL reads Transcribe's job state events from an SQS queue fed by an
EventBridge rule: standard and Call Analytics jobs are then seen within a
second of their end, with about one Get each; the others are polled as usual.
--output-events medical,medical-scribe says the queue also receives S3's
"Object Created" events of those kinds' output objects: they are then seen
within a second of their end too. The SQS client uses the same profile; its
endpoint follows AWS_ENDPOINT_URL_SQS (or the profile's configuration), not
--endpoint-url, and without either the queue URL's own host (and region). It
needs sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes.

Messages about jobs not awaited here (another reader's, or ended before this
wait) are left in the queue by default: a queue may be shared, and the reader
awaiting them must still get them (each comes back after the queue's
visibility timeout). --delete-others deletes them: for a queue only this
command reads, where they would come back until the queue's retention ends.

--fetch FORMAT fetches each completed job's transcript as its event arrives
(text; json, the whole document; srt or vtt, subtitles) and adds it to the
job's line as "transcript". With --out DIR each is written to a file instead,
DIR/NAME.EXT for a standard job and DIR/NAME@KIND.EXT for the others
(visit-1@medical.json), and the line says where ("transcript_file"). A fetch
that fails says why in its line's "fetch_error" (exit 1); the other lines come
as usual. Output in your own bucket (every medical and Medical Scribe job's)
is read with an S3 client of the same profile and region, at S3's endpoint
($AWS_ENDPOINT_URL_S3, not --endpoint-url); it needs s3:GetObject there.

--region must be a region botocore knows Transcribe in, else exit 2 at once,
naming the closest ones; with --endpoint-url (or $AWS_ENDPOINT_URL_TRANSCRIBE,
$AWS_ENDPOINT_URL) any region is taken, for a local test bed or a newer region.

On stderr: the progress, the summary, and warnings about the service as a
whole; each job's own log line (its outcome, as its JSON line says) only with -v.

Exit status:
  0    every job COMPLETED
  1    some job did not (FAILED, NOT_FOUND, TIMED_OUT, ERROR), or with --fetch
       some transcript could not be fetched or written
  2    usage error (bad option, unknown --region, invalid name, bad job file
       line, job file not UTF-8, --out without --fetch or not a writable
       directory); nothing sent
  3    Transcribe could not be reached, or the credentials were missing, invalid
       or expired, for at least one job (wins over 1); try again later
  4    the --queue-url queue does not exist or may not be read; nothing waited
  130  stopped by Ctrl-C, after printing the summary
  143  stopped by SIGTERM, after printing the summary
"""

# Where botocore takes Transcribe's endpoint from when --endpoint-url is not given.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_TRANSCRIBE", "AWS_ENDPOINT_URL")

# Error codes meaning the request reached AWS but the credentials did not do.
_AUTH_ERROR_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)
_UNREACHABLE_TYPES: tuple[type[BaseException], ...] = (
    ServiceUnreachableError,
    botocore.exceptions.EndpointConnectionError,  # also ConnectTimeoutError
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.CredentialRetrievalError,
    botocore.exceptions.TokenRetrievalError,
    botocore.exceptions.SSOTokenLoadError,
    botocore.exceptions.UnauthorizedSSOTokenError,
)
_EXIT_ON_SIGNAL = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    wait = commands.add_parser(
        "wait",
        parents=parents,
        help="wait for jobs; print one JSON line per job as it finishes",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    wait.add_argument("names", nargs="*", metavar="NAME", help="a standard job's name")
    for kind, option in KIND_OPTIONS.items():
        wait.add_argument(
            option,
            action="append",
            default=[],
            metavar="NAME",
            dest=_dest(kind),
            help=f"a {kind.value.replace('-', ' ')} job (repeatable)",
        )
    wait.add_argument(
        "--from-file",
        metavar="FILE",
        help="one job per line: NAME, or KIND:NAME such as medical:NAME; '-' for stdin",
    )
    add_poller_options(wait)
    return wait


def add_poller_options(parser: argparse.ArgumentParser) -> None:
    """The options of the service, the polling, the queue and --fetch: wait's, and
    submit's too. Checked by :func:`check_poller_options`."""
    parser.add_argument(
        "--region", type=region, help="AWS region (default: from the AWS configuration)"
    )
    parser.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        help="the service endpoint, e.g. a local test bed (default: $AWS_ENDPOINT_URL_TRANSCRIBE)",
    )
    parser.add_argument("--profile", help="AWS profile for credentials and region")
    parser.add_argument(
        "--job-timeout", type=positive, metavar="S", help="give up on a job after S seconds"
    )
    parser.add_argument(
        "--not-found-grace",
        type=non_negative,
        default=NOT_FOUND_GRACE,
        metavar="S",
        help=(
            "report NOT_FOUND only once a job stays unknown this long "
            f"(default {NOT_FOUND_GRACE:g} s)"
        ),
    )
    parser.add_argument(
        "--max-rate",
        type=positive,
        default=MAX_RATE,
        metavar="N",
        help=f"requests per second per Get operation (default {MAX_RATE:g})",
    )
    parser.add_argument(
        "--queue-url",
        type=queue_url,
        metavar="URL",
        help=(
            "an SQS queue of Transcribe's EventBridge events: hear of standard and Call "
            "Analytics jobs' ends as they happen (endpoint: $AWS_ENDPOINT_URL_SQS, "
            "else the URL's own host)"
        ),
    )
    parser.add_argument(
        "--delete-others",
        action="store_true",
        help=(
            "with --queue-url: delete messages about jobs not awaited here (default: leave "
            "them, for the other readers of a shared queue)"
        ),
    )
    parser.add_argument(
        "--output-events",
        type=kinds,
        default=[],
        metavar="KINDS",
        help=(
            "with --queue-url: kinds whose output objects' S3 events reach the queue too, "
            "e.g. medical,medical-scribe"
        ),
    )
    _transcripts.add_options(parser)


def run(args: argparse.Namespace) -> ExitCode:
    check_poller_options(args)
    jobs = collect_jobs(args)
    return run_batch(args, Batch(total=len(jobs), events=lambda poller: poller.watch(jobs)))


def check_poller_options(args: argparse.Namespace) -> None:
    """The options of :func:`add_poller_options` that only make sense together, and
    the region: a UsageError before anything is sent."""
    check_region(args)
    _transcripts.check_options(args)
    if args.output_events and args.queue_url is None:
        raise UsageError("--output-events needs --queue-url: the queue the events reach")
    if args.delete_others and args.queue_url is None:
        raise UsageError("--delete-others needs --queue-url: the queue to delete from")


def _dest(kind: JobKind) -> str:
    return kind.value.replace("-", "_")


def could_not_reach(error: BaseException | None) -> bool:
    """Whether an ERROR event's error means Transcribe was never reached or never
    accepted the credentials, rather than something about the job itself."""
    if isinstance(error, StartRefusedError):  # submit: why the Start did not go through
        error = error.__cause__
    if isinstance(error, _UNREACHABLE_TYPES):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", "")) in _AUTH_ERROR_CODES
    return False


def check_region(args: argparse.Namespace) -> None:
    """A --region Transcribe does not have is a usage error, found offline, unless an
    endpoint is given: then the region only signs requests, and any is taken."""
    if args.region is None or args.endpoint_url is not None:
        return
    if any(os.environ.get(variable) for variable in ENDPOINT_VARIABLES):
        return
    problem = region_problem(args.region)
    if problem is not None:
        raise UsageError(problem)


def _stdin_lines() -> Iterator[str]:
    """Standard input's lines; bytes it cannot decode are reported as a job file's are.

    Python decodes stdin strictly in most locales (en_US.UTF-8, or with
    PYTHONIOENCODING): a bad byte would end in a traceback.
    """
    stdin = sys.stdin
    reconfigure = getattr(stdin, "reconfigure", None)
    if reconfigure is not None:  # a TextIOWrapper; not a StringIO
        reconfigure(errors="surrogateescape")
    return checked_lines(stdin, "<stdin>", getattr(stdin, "encoding", None) or "utf-8")


def collect_jobs(args: argparse.Namespace) -> list[JobRef]:
    """Every job named, each once, in the order given; checked before anything is sent."""
    try:
        jobs = [JobRef.standard(name) for name in args.names]
        for kind in KIND_OPTIONS:
            jobs += [JobRef(name, kind) for name in getattr(args, _dest(kind))]
        if args.from_file == "-":
            jobs += parse_job_lines(_stdin_lines(), "<stdin>")
        elif args.from_file is not None:
            try:
                lines = read_lines(args.from_file)
            except OSError as error:
                raise UsageError(f"cannot read {args.from_file}: {error.strerror}") from None
            jobs += parse_job_lines(lines, args.from_file)
    except (InvalidJobNameError, JobFileError) as error:
        raise UsageError(str(error)) from None
    jobs = list(dict.fromkeys(jobs))  # a job named twice is awaited once
    if not jobs:
        raise UsageError(f"no jobs given: name them, or use {_KIND_OPTIONS_TEXT} or --from-file")
    return jobs


def _emit(line: str) -> bool:
    """Print a result line; False once stdout is closed (``wait ... | head -1``)."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        # Python would complain again at exit when flushing the dead pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
    return True


async def _cancel_on_signal(
    scope: anyio.CancelScope,
    received: list[signal.Signals],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Cancel ``scope`` on SIGINT or SIGTERM, so the summary is printed either way."""
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        # No signal handlers there; Ctrl-C still arrives as KeyboardInterrupt.
        task_status.started()
        return
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for signum in signals:
            received.append(signal.Signals(signum))
            scope.cancel()
            return


def _report_queue_error(error: NotificationsError) -> ExitCode:
    """Say why the queue of --queue-url cannot be used; the exit status for it."""
    if could_not_reach(error.__cause__):
        print(
            f"transcribe-poller: could not reach SQS or sign in: {str(error).rstrip('.')}. "
            "Check AWS_ENDPOINT_URL_SQS, --region and the AWS credentials.",
            file=sys.stderr,
        )
        return ExitCode.UNREACHABLE
    print(
        f"transcribe-poller: error: {str(error).rstrip('.')}. Check --queue-url, the SQS endpoint "
        "(AWS_ENDPOINT_URL_SQS, or the profile's configuration) and the permissions "
        "sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes. "
        "Nothing was waited for.",
        file=sys.stderr,
    )
    return ExitCode.QUEUE_UNUSABLE


def _report_unreachable(event: CompletionEvent) -> None:
    error = event.error
    if isinstance(error, StartRefusedError):  # submit: the Start's own error
        error = error.__cause__
    if isinstance(error, ServiceUnreachableError):
        # Logged once already, in the same words: say only what to check.
        print(
            "transcribe-poller: could not reach Transcribe or sign in (see above). "
            "Check --endpoint-url, --region and the AWS credentials.",
            file=sys.stderr,
        )
        return
    print(
        f"transcribe-poller: could not reach Transcribe or sign in: {event.to_dict()['error']}. "
        "Check --endpoint-url, --region and the AWS credentials.",
        file=sys.stderr,
    )


async def _where_asked(args: argparse.Namespace) -> str:
    """The region and endpoint the poller's client asked: ``region R at URL``.

    A client made as open_poller makes it, from the same options and environment,
    reads them (botocore resolves both when the client is made; nothing is sent).
    """
    from aiobotocore.session import AioSession

    session = AioSession(profile=args.profile)
    async with session.create_client(
        "transcribe", region_name=args.region, endpoint_url=args.endpoint_url
    ) as client:
        meta = client.meta
        return f"region {meta.region_name} at {meta.endpoint_url}"


EventsOf = Callable[[Poller], AbstractAsyncContextManager[AsyncIterator[CompletionEvent]]]
"""What brings a batch's events from an open poller: ``poller.watch(jobs)``,
``poller.submit(requests)``."""


@dataclass(frozen=True)
class Batch:
    """What a command awaits, for :func:`run_batch`.

    ``total`` jobs, whose events ``events`` brings; ``options``: more of the
    Poller's options (submit's ``max_running``, ``start_rate``). ``kinds``: the jobs
    of each kind when known before the poller hears of them (submit's manifest):
    the progress and the summary then count the events printed, not the poller's
    figures. ``stop_when_unreachable``: stop at the first event saying Transcribe
    could not be reached, rather than go on through the batch. ``on_stop``: said
    after ``polling stopped.`` on a signal, and after the advice when unreachable.
    """

    total: int
    events: EventsOf
    options: Mapping[str, Any] = field(default_factory=dict)
    kinds: Mapping[JobKind, int] | None = None
    stop_when_unreachable: bool = False
    on_stop: str = ""


@dataclass
class _Seen:
    """What the events said, for the exit status (and submit's figures)."""

    all_completed: bool = True
    not_found: int = 0
    unreachable: CompletionEvent | None = None
    outcomes: Counter[tuple[JobKind, Outcome]] = field(default_factory=Counter)

    def add(self, event: CompletionEvent) -> None:
        self.all_completed &= event.outcome is Outcome.COMPLETED
        self.not_found += event.outcome is Outcome.NOT_FOUND
        self.outcomes[event.job.kind, event.outcome] += 1
        if event.outcome is Outcome.ERROR and could_not_reach(event.error):
            self.unreachable = self.unreachable or event

    def statistics(self, stats: PollerStatistics, kinds: Mapping[JobKind, int]) -> PollerStatistics:
        """``stats`` with the jobs counted from the events seen, of ``kinds`` jobs of
        each kind: a job is pending until its event is printed, started or not."""
        per_kind = {}
        for kind, total in kinds.items():
            outcomes = {outcome: self.outcomes[kind, outcome] for outcome in Outcome}
            pending = total - sum(outcomes.values())
            per_kind[kind] = KindStatistics(pending=pending, outcomes=outcomes)
        outcomes = {
            outcome: sum(k.outcomes[outcome] for k in per_kind.values()) for outcome in Outcome
        }
        return replace(
            stats,
            kinds=per_kind,
            outcomes=outcomes,
            jobs_finished=sum(outcomes.values()),
            jobs_pending=sum(k.pending for k in per_kind.values()),
        )


def _check_endpoint_variables(variables: tuple[str, ...]) -> None:
    """botocore reads these itself, and a bad one would end in a traceback."""
    for variable in variables:
        value = os.environ.get(variable)
        problem = None if not value else endpoint_problem(value)
        if problem is not None:
            raise UsageError(f"${variable}: {problem}")


async def _print_lines(
    poller: Poller, batch: Batch, seen: _Seen, fetching: Fetching | None
) -> None:
    """One JSON line per job as it ends; with --fetch, a completed job's once its
    transcript is fetched, each fetch apart, never holding back another job's line."""
    async with anyio.create_task_group() as lines:

        def emit(record: dict[str, Any]) -> None:
            if not _emit(json.dumps(record)):
                seen.all_completed = False  # nobody reads the rest: stop
                lines.cancel_scope.cancel()

        async def fetch_and_emit(fetching: Fetching, event: CompletionEvent) -> None:
            emit({**event.to_dict(), **await fetching.fetch(poller, event)})

        async with batch.events(poller) as events:
            async for event in events:
                seen.add(event)
                if fetching is None:
                    emit(event.to_dict())
                elif event.outcome is Outcome.COMPLETED:
                    lines.start_soon(fetch_and_emit, fetching, event)
                else:
                    emit({**event.to_dict(), **fetching.blank()})
                if batch.stop_when_unreachable and seen.unreachable is event:
                    lines.cancel_scope.cancel()  # the rest would only fail the same way
                    return


async def _watch(args: argparse.Namespace, batch: Batch) -> ExitCode:
    """Print each job's event as it ends; the exit status of what was seen."""
    started = time.monotonic()
    seen = _Seen()
    fetching: Fetching | None = None
    if args.endpoint_url is None:
        _check_endpoint_variables(ENDPOINT_VARIABLES)
    if args.fetch is not None:
        _check_endpoint_variables(_transcripts.S3_ENDPOINT_VARIABLES)
    try:
        async with contextlib.AsyncExitStack() as stack:
            options: dict[str, Any] = {}
            if args.fetch is not None:
                # Output in the caller's buckets (every medical and Medical Scribe job's).
                s3 = await stack.enter_async_context(_transcripts.s3_client(args))
                fetching = Fetching.from_args(args, s3)
                options["s3"] = s3
            poller = await stack.enter_async_context(
                open_poller(
                    region=args.region,
                    endpoint_url=args.endpoint_url,
                    profile=args.profile,
                    queue_url=args.queue_url,
                    output_events=args.output_events,
                    # A shared queue's other readers need the events of their own jobs.
                    others="delete" if args.delete_others else "leave",
                    max_rate=args.max_rate,
                    job_timeout=args.job_timeout,
                    not_found_grace=args.not_found_grace,
                    **batch.options,
                    **options,
                )
            )
            kinds = batch.kinds

            def statistics() -> PollerStatistics:
                stats = poller.statistics()
                return stats if kinds is None else seen.statistics(stats, kinds)

            progress = Progress(poller, batch.total, statistics=statistics)
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(progress.run)
                    await _print_lines(poller, batch, seen, fetching)
                    progress.stop()
            finally:
                # Also on Ctrl-C and SIGTERM: say what was done before stopping.
                stats = statistics()
                text = summary(stats, batch.total, time.monotonic() - started)
                if fetching is not None:
                    text += _transcripts.summary_text(fetching, stats.download_bytes)
                print(text, file=sys.stderr, flush=True)
    except botocore.exceptions.NoRegionError:
        raise UsageError("no AWS region: pass --region or configure one") from None
    except botocore.exceptions.ProfileNotFound as error:
        raise UsageError(f"{error}; pass another --profile") from None
    except botocore.exceptions.InvalidRegionError as error:
        raise UsageError(f"{error}; pass another --region") from None
    except NotificationsError as error:  # only raised while the poller opens
        return _report_queue_error(error)
    if seen.unreachable is not None:
        _report_unreachable(seen.unreachable)
        if batch.on_stop:
            print(f"transcribe-poller: {batch.on_stop}", file=sys.stderr)
        return ExitCode.UNREACHABLE
    if seen.not_found == batch.total:
        # A wrong region or endpoint looks like a misspelled name: say what was asked.
        total = batch.total
        which = "the job was not" if total == 1 else f"none of the {total} jobs was"
        print(
            f"transcribe-poller: {which} found in {await _where_asked(args)}. Check the "
            "names, --region, --profile and --endpoint-url.",
            file=sys.stderr,
        )
    if fetching is not None and fetching.failed:
        return ExitCode.FAILURE
    return ExitCode.OK if seen.all_completed else ExitCode.FAILURE


def run_batch(args: argparse.Namespace, batch: Batch) -> ExitCode:
    """Await ``batch`` with the options of :func:`add_poller_options`: its lines on
    stdout, progress and summary on stderr; the exit status of what was seen."""
    status: ExitCode = anyio.run(_until_stopped, args, batch)
    return status


async def _until_stopped(args: argparse.Namespace, batch: Batch) -> ExitCode:
    """:func:`_watch` until it ends or a signal stops it."""
    status: list[ExitCode] = []
    received: list[signal.Signals] = []
    usage_errors: list[UsageError] = []
    async with anyio.create_task_group() as tg:
        # Listening before the first request: a signal never finds the default action.
        await tg.start(_cancel_on_signal, tg.cancel_scope, received)
        try:
            status.append(await _watch(args, batch))
        except UsageError as error:
            # Raised out of the task group it would arrive wrapped in an ExceptionGroup.
            usage_errors.append(error)
        tg.cancel_scope.cancel()
    if usage_errors:
        raise usage_errors[0]
    if status:  # finished before the signal could stop anything
        return status[0]
    how = "interrupted" if received[0] is signal.SIGINT else "terminated"
    after = f" {batch.on_stop}" if batch.on_stop else ""
    print(f"transcribe-poller: {how}; polling stopped.{after}", file=sys.stderr)
    return _EXIT_ON_SIGNAL[received[0]]
