"""The ``transcribe-poller`` command: ``wait`` for jobs, or run the local ``demo``.

Exit status of ``wait``: 0 when every job COMPLETED, 1 when any did not, 2 for a
usage error (nothing is sent), 130 after a clean stop on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence

import anyio
import structlog

from ._events import Outcome
from ._exceptions import InvalidJobNameError
from ._jobfile import JobFileError, parse_job_lines
from ._jobs import JobRef, as_job_refs
from ._oneshot import open_poller
from ._poller import DEFAULT_MAX_RATE
from ._progress import Progress, summary

EXIT_OK, EXIT_NOT_ALL_COMPLETED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input on the command line: reported with exit status 2, nothing sent."""


def _number(*, zero_ok: bool) -> Callable[[str], float]:
    """An argparse type for a finite number above zero (or at least zero)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            wanted = "a number >= 0" if zero_ok else "a positive number"
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


_positive = _number(zero_ok=False)
_non_negative = _number(zero_ok=True)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcribe-poller",
        description="Wait for Amazon Transcribe batch jobs, standard and medical.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr (-v info, -vv debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    wait = commands.add_parser(
        "wait",
        help="wait for jobs; print one JSON line per job as it finishes",
        description=(
            "Wait for jobs and print one JSON object per line on stdout as each finishes. "
            "Exit status: 0 all COMPLETED, 1 any not, 2 usage error, 130 interrupted."
        ),
    )
    wait.add_argument("names", nargs="*", metavar="NAME", help="a standard job's name")
    wait.add_argument(
        "--medical", action="append", default=[], metavar="NAME", help="a medical job (repeatable)"
    )
    wait.add_argument(
        "--from-file",
        metavar="FILE",
        help="one job per line, medical:NAME for medical jobs; '-' for stdin",
    )
    wait.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    wait.add_argument("--endpoint-url", help="the service endpoint, e.g. a local test bed")
    wait.add_argument("--profile", help="AWS profile for credentials and region")
    wait.add_argument(
        "--job-timeout", type=_positive, metavar="S", help="give up on a job after S seconds"
    )
    wait.add_argument(
        "--not-found-grace",
        type=_non_negative,
        default=5.0,
        metavar="S",
        help="report NOT_FOUND only once a job stays unknown this long (default 5 s)",
    )
    wait.add_argument(
        "--max-rate",
        type=_positive,
        default=DEFAULT_MAX_RATE,
        metavar="N",
        help=f"requests per second per Get operation (default {DEFAULT_MAX_RATE:g})",
    )

    demo = commands.add_parser(
        "demo",
        help="run the poller on a local Transcribe test bed (no AWS account needed)",
        description="Start a local Transcribe, start jobs on it, and wait for all of them.",
    )
    demo.add_argument("--jobs", type=_count, default=150, help="standard jobs (default 150)")
    demo.add_argument("--medical", type=_count, default=50, help="medical jobs (default 50)")
    demo.add_argument(
        "--quota",
        type=_positive,
        metavar="RATE",
        help="have the local service allow RATE requests/s per operation, throttling the rest",
    )
    demo.add_argument(
        "--faults", action="store_true", help="inject HTTP 500s and dropped connections"
    )
    demo.add_argument(
        "--longest", type=_positive, default=30.0, metavar="S", help="longest job (default 30 s)"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed for durations and outcomes")
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


def collect_jobs(args: argparse.Namespace) -> list[JobRef]:
    try:
        jobs = [JobRef.standard(name) for name in args.names]
        jobs += [JobRef.medical(name) for name in args.medical]
        if args.from_file == "-":
            jobs += parse_job_lines(sys.stdin, "<stdin>")
        elif args.from_file is not None:
            try:
                with open(args.from_file, encoding="utf-8") as handle:
                    jobs += parse_job_lines(handle, args.from_file)
            except OSError as error:
                raise UsageError(f"cannot read {args.from_file}: {error.strerror}") from None
    except (InvalidJobNameError, JobFileError) as error:
        raise UsageError(str(error)) from None
    jobs = as_job_refs(jobs)
    if not jobs:
        raise UsageError("no jobs given: name them, or use --medical or --from-file")
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


async def wait_command(args: argparse.Namespace, jobs: list[JobRef]) -> int:
    import botocore.exceptions

    started = time.monotonic()
    all_completed = True
    try:
        async with open_poller(
            region=args.region,
            endpoint_url=args.endpoint_url,
            profile=args.profile,
            job_timeout=args.job_timeout,
            max_rate=args.max_rate,
            not_found_grace=args.not_found_grace,
        ) as poller:
            progress = Progress(poller, len(jobs))
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(progress.run)
                    async with poller.watch(jobs) as events:
                        async for event in events:
                            all_completed &= event.outcome is Outcome.COMPLETED
                            if not _emit(json.dumps(event.to_dict())):
                                all_completed = False  # nobody reads the rest: stop
                                break
                    progress.stop()
            finally:
                # Also on Ctrl-C: say what was done before stopping.
                print(
                    summary(poller.statistics(), len(jobs), time.monotonic() - started),
                    file=sys.stderr,
                    flush=True,
                )
    except botocore.exceptions.NoRegionError:
        raise UsageError("no AWS region: pass --region or configure one") from None
    except botocore.exceptions.ProfileNotFound as error:
        raise UsageError(f"{error}; pass another --profile") from None
    return EXIT_OK if all_completed else EXIT_NOT_ALL_COMPLETED


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
    configure_logging(args.verbose)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(args)
        jobs = collect_jobs(args)
        return anyio.run(wait_command, args, jobs)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"transcribe-poller: error: {error}\n")
    except KeyboardInterrupt:
        print("transcribe-poller: interrupted; polling stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
