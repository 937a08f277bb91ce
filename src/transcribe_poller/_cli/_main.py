"""The ``transcribe-poller`` command: ``wait`` for jobs, run the ``demo``, or serve a
``local`` Transcribe for other terminals.

Exit status of ``wait``:

- 0: every job COMPLETED;
- 1: some job did not (FAILED, NOT_FOUND, TIMED_OUT, or ERROR for another reason);
- 2: a usage error: a bad option, a ``--region`` Transcribe does not have (unless
  ``--endpoint-url`` is given), an invalid job name, a bad line in a job file (every
  one is reported), a job file that is not UTF-8; nothing is sent;
- 3: Transcribe could not be reached or would not take the credentials, for at least
  one job: its ERROR is a ServiceUnreachableError, no or unusable credentials, a
  connection that never opened, or a security token that is invalid or expired.
  Waiting again later may succeed. It wins over 1. Also when the queue of
  ``--queue-url`` refuses the credentials;
- 4: the queue of ``--queue-url`` cannot be used: it does not exist (at that SQS
  endpoint) or this identity may not read it; nothing was waited for;
- 130: stopped by Ctrl-C (SIGINT), 143: stopped by SIGTERM; both after printing the
  summary of what was done.

``demo``: 0 when every job was reported with the right outcome, else 1; 2 for a usage
error. ``local`` and ``local start-job``: see :mod:`transcribe_poller._cli._local`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import anyio
import anyio.abc
import botocore.exceptions
import structlog

from .. import __version__, _defaults
from .._eventbridge import EventBridgeQueue
from .._events import CompletionEvent, Outcome
from .._exceptions import InvalidJobNameError, NotificationsError, ServiceUnreachableError
from .._jobs import JobKind, JobRef, as_job_refs
from .._oneshot import _sqs_endpoint
from .._poller import Poller
from . import _local
from ._args import (
    UsageError,
    count,
    endpoint_problem,
    endpoint_url,
    kinds,
    non_negative,
    positive,
    queue_url,
    region,
    region_problem,
    share,
)
from ._demo import PUSH_DELAY, PUSH_DUPLICATE, PUSH_LEAD, PUSH_LOSS, PUSH_RECONCILE, run_demo
from ._jobfile import JobFileError, checked_lines, parse_job_lines, read_lines
from ._progress import Progress, summary

EXIT_OK, EXIT_NOT_ALL_COMPLETED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
EXIT_QUEUE = 4  # --queue-url names a queue that does not exist or may not be read
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + the signal's number, as shells report
_EXIT_ON_SIGNAL = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}

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
WAIT_HELP = f"""\
Wait for jobs and print one JSON object per line on stdout as each finishes:
job, kind, outcome, transcript_uri, redacted_transcript_uri, subtitle_uris,
clinical_document_uri, expires_at, failure_reason, error, polls, waited.

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

--region must be a region botocore knows Transcribe in, else exit 2 at once,
naming the closest ones; with --endpoint-url (or $AWS_ENDPOINT_URL_TRANSCRIBE,
$AWS_ENDPOINT_URL) any region is taken, for a local test bed or a newer region.

Exit status:
  0    every job COMPLETED
  1    some job did not (FAILED, NOT_FOUND, TIMED_OUT, ERROR)
  2    usage error (bad option, unknown --region, invalid name, bad job file
       line, job file not UTF-8); nothing sent
  3    Transcribe could not be reached, or the credentials were missing, invalid
       or expired, for at least one job (wins over 1); try again later
  4    the --queue-url queue does not exist or may not be read; nothing waited
  130  stopped by Ctrl-C, after printing the summary
  143  stopped by SIGTERM, after printing the summary
"""

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


def could_not_reach(error: BaseException | None) -> bool:
    """Whether an ERROR event's error means Transcribe was never reached or never
    accepted the credentials, rather than something about the job itself."""
    if isinstance(error, _UNREACHABLE_TYPES):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", "")) in _AUTH_ERROR_CODES
    return False


def _verbosity_options(dest: str) -> argparse.ArgumentParser:
    """-v for a subcommand: ``wait NAME -v`` as well as ``-v wait NAME``.

    Each level counts into its own ``dest``, since argparse lets a subcommand's
    defaults overwrite what the level above parsed.
    """
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "-v", "--verbose", action="count", default=0, dest=dest, help="log more on stderr"
    )
    return options


def verbosity(args: argparse.Namespace) -> int:
    return sum(value for key, value in vars(args).items() if key.startswith("verbose"))


def _dest(kind: JobKind) -> str:
    return kind.value.replace("-", "_")


def _add_wait_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    wait = commands.add_parser(
        "wait",
        parents=parents,
        help="wait for jobs; print one JSON line per job as it finishes",
        description=WAIT_HELP,
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
    wait.add_argument(
        "--region", type=region, help="AWS region (default: from the AWS configuration)"
    )
    wait.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        help="the service endpoint, e.g. a local test bed (default: $AWS_ENDPOINT_URL_TRANSCRIBE)",
    )
    wait.add_argument("--profile", help="AWS profile for credentials and region")
    wait.add_argument(
        "--job-timeout", type=positive, metavar="S", help="give up on a job after S seconds"
    )
    wait.add_argument(
        "--not-found-grace",
        type=non_negative,
        default=_defaults.NOT_FOUND_GRACE,
        metavar="S",
        help=(
            "report NOT_FOUND only once a job stays unknown this long "
            f"(default {_defaults.NOT_FOUND_GRACE:g} s)"
        ),
    )
    wait.add_argument(
        "--max-rate",
        type=positive,
        default=_defaults.MAX_RATE,
        metavar="N",
        help=f"requests per second per Get operation (default {_defaults.MAX_RATE:g})",
    )
    wait.add_argument(
        "--queue-url",
        type=queue_url,
        metavar="URL",
        help=(
            "an SQS queue of Transcribe's EventBridge events: hear of standard and Call "
            "Analytics jobs' ends as they happen (endpoint: $AWS_ENDPOINT_URL_SQS, "
            "else the URL's own host)"
        ),
    )
    wait.add_argument(
        "--delete-others",
        action="store_true",
        help=(
            "with --queue-url: delete messages about jobs not awaited here (default: leave "
            "them, for the other readers of a shared queue)"
        ),
    )
    wait.add_argument(
        "--output-events",
        type=kinds,
        default=[],
        metavar="KINDS",
        help=(
            "with --queue-url: kinds whose output objects' S3 events reach the queue too, "
            "e.g. medical,medical-scribe"
        ),
    )


def _add_demo_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcribe-poller",
        description=(
            "Wait for Amazon Transcribe batch jobs: standard, medical, Call Analytics "
            "and Medical Scribe."
        ),
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr (-v info, -vv debug)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = [_verbosity_options("verbose_command")]
    _add_wait_parser(commands, parents)
    _add_demo_parser(commands, parents)
    _local.add_parser(commands, parents, [_verbosity_options("verbose_action")])
    return parser


def configure_logging(verbosity: int) -> None:
    """Log to stderr; stdout carries only results."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


# Where botocore takes Transcribe's endpoint from when --endpoint-url is not given.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_TRANSCRIBE", "AWS_ENDPOINT_URL")


def check_region(args: argparse.Namespace) -> None:
    """A --region Transcribe does not have is a usage error, found offline, unless an
    endpoint is given: then the region only signs requests, and any is taken."""
    name = getattr(args, "region", None)  # wait's and local's
    if name is None or getattr(args, "endpoint_url", None) is not None:
        return
    if args.command == "wait" and any(os.environ.get(v) for v in ENDPOINT_VARIABLES):
        return
    problem = region_problem(name)
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
    if args.output_events and args.queue_url is None:
        raise UsageError("--output-events needs --queue-url: the queue the events reach")
    if args.delete_others and args.queue_url is None:
        raise UsageError("--delete-others needs --queue-url: the queue to delete from")
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
    jobs = as_job_refs(jobs)
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


def _report_queue_error(error: NotificationsError) -> int:
    """Say why the queue of --queue-url cannot be used; the exit status for it."""
    if could_not_reach(error.__cause__):
        print(
            f"transcribe-poller: could not reach SQS or sign in: {str(error).rstrip('.')}. "
            "Check AWS_ENDPOINT_URL_SQS, --region and the AWS credentials.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    print(
        f"transcribe-poller: error: {str(error).rstrip('.')}. Check --queue-url, the SQS endpoint "
        "(AWS_ENDPOINT_URL_SQS, or the profile's configuration) and the permissions "
        "sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes. "
        "Nothing was waited for.",
        file=sys.stderr,
    )
    return EXIT_QUEUE


def _report_unreachable(event: CompletionEvent) -> None:
    if isinstance(event.error, ServiceUnreachableError):
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


@contextlib.asynccontextmanager
async def open_cli_poller(args: argparse.Namespace) -> AsyncIterator[Poller]:
    """A Poller with its own clients, as :func:`open_poller` makes it, but with the
    queue's ``others`` the command line chose.

    open_poller has no ``others`` and keeps EventBridgeQueue's default, "delete",
    which takes other readers' events from a shared queue; until it has one, the
    command line makes the same clients itself.
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    session = AioSession(profile=args.profile)
    # One attempt per request, as open_poller's: the poller retries, under its rate limit.
    config = AioConfig(retries={"total_max_attempts": 1})
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client(
                "transcribe",
                region_name=args.region,
                endpoint_url=args.endpoint_url,
                config=config,
            )
        )
        notifications = None
        if args.queue_url is not None:
            where = _sqs_endpoint(session, args.queue_url, args.region)
            sqs = await stack.enter_async_context(
                session.create_client("sqs", config=config, **where)
            )
            notifications = EventBridgeQueue(
                sqs,
                args.queue_url,
                output_events=args.output_events,
                # A shared queue's other readers need the events of their own jobs.
                others="delete" if args.delete_others else "leave",
            )
        yield await stack.enter_async_context(
            Poller(
                client,
                max_rate=args.max_rate,
                job_timeout=args.job_timeout,
                not_found_grace=args.not_found_grace,
                notifications=notifications,
            )
        )


async def _watch(args: argparse.Namespace, jobs: list[JobRef]) -> int:
    """Print each job's event as it ends; the exit status of what was seen."""
    started = time.monotonic()
    all_completed = True
    unreachable: CompletionEvent | None = None
    not_found = 0
    asked = ""
    if args.endpoint_url is None:
        # botocore reads these itself, and a bad one would end in a traceback.
        for variable in ENDPOINT_VARIABLES:
            value = os.environ.get(variable)
            problem = None if not value else endpoint_problem(value)
            if problem is not None:
                raise UsageError(f"${variable}: {problem}")
    try:
        async with open_cli_poller(args) as poller:
            meta = getattr(poller._client, "meta", None)
            asked = (
                f"region {getattr(meta, 'region_name', None)} at "
                f"{getattr(meta, 'endpoint_url', None)}"
            )
            progress = Progress(poller, len(jobs))
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(progress.run)
                    async with poller.watch(jobs) as events:
                        async for event in events:
                            all_completed &= event.outcome is Outcome.COMPLETED
                            not_found += event.outcome is Outcome.NOT_FOUND
                            if event.outcome is Outcome.ERROR and could_not_reach(event.error):
                                unreachable = unreachable or event
                            if not _emit(json.dumps(event.to_dict())):
                                all_completed = False  # nobody reads the rest: stop
                                break
                    progress.stop()
            finally:
                # Also on Ctrl-C and SIGTERM: say what was done before stopping.
                print(
                    summary(poller.statistics(), len(jobs), time.monotonic() - started),
                    file=sys.stderr,
                    flush=True,
                )
    except botocore.exceptions.NoRegionError:
        raise UsageError("no AWS region: pass --region or configure one") from None
    except botocore.exceptions.ProfileNotFound as error:
        raise UsageError(f"{error}; pass another --profile") from None
    except botocore.exceptions.InvalidRegionError as error:
        raise UsageError(f"{error}; pass another --region") from None
    except NotificationsError as error:  # only raised while the poller opens
        return _report_queue_error(error)
    if unreachable is not None:
        _report_unreachable(unreachable)
        return EXIT_UNREACHABLE
    if not_found == len(jobs):
        # A wrong region or endpoint looks like a misspelled name: say what was asked.
        which = "the job was not" if len(jobs) == 1 else f"none of the {len(jobs)} jobs was"
        print(
            f"transcribe-poller: {which} found in {asked}. Check the names, --region, "
            "--profile and --endpoint-url.",
            file=sys.stderr,
        )
    return EXIT_OK if all_completed else EXIT_NOT_ALL_COMPLETED


async def wait_command(args: argparse.Namespace, jobs: list[JobRef]) -> int:
    status: list[int] = []
    received: list[signal.Signals] = []
    usage_errors: list[UsageError] = []
    async with anyio.create_task_group() as tg:
        # Listening before the first request: a signal never finds the default action.
        await tg.start(_cancel_on_signal, tg.cancel_scope, received)
        try:
            status.append(await _watch(args, jobs))
        except UsageError as error:
            # Raised out of the task group it would arrive wrapped in an ExceptionGroup.
            usage_errors.append(error)
        tg.cancel_scope.cancel()
    if usage_errors:
        raise usage_errors[0]
    if status:  # finished before the signal could stop anything
        return status[0]
    how = "interrupted" if received[0] is signal.SIGINT else "terminated"
    print(f"transcribe-poller: {how}; polling stopped.", file=sys.stderr)
    return _EXIT_ON_SIGNAL[received[0]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse stops taking names after an option (wait a --medical m b): the
        # names that follow are still names.
        if args.command == "wait" and not any(extra.startswith("-") for extra in extras):
            args.names += extras
        else:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    configure_logging(verbosity(args))
    try:
        check_region(args)
        if args.command == "demo":
            return run_demo(args)
        if args.command == "local":
            return _local.run(args)
        jobs = collect_jobs(args)
        return anyio.run(wait_command, args, jobs)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"transcribe-poller: error: {error}\n")
    except KeyboardInterrupt:
        # Ctrl-C before the signal handler was listening (during start-up).
        print("transcribe-poller: interrupted; polling stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
