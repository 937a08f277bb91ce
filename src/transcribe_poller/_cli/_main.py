"""The ``transcribe-poller`` command: ``wait`` for jobs, ``submit`` a manifest of jobs
to start and wait for, run the ``demo``, or serve a ``local`` Transcribe for other
terminals.

Each subcommand is a module of its own (:mod:`._wait`, :mod:`._submit`,
:mod:`._demo`, :mod:`._local`) with ``add_parser(commands, parents)``, which adds its parser, and
``run(args)``, which returns its :class:`~._status.ExitCode`. This module parses,
sets up logging, runs the subcommand chosen, and reports a
:class:`~._status.UsageError` from any of them as argparse reports its own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Protocol

import structlog
from structlog.typing import EventDict

from .. import __version__
from . import _demo, _local, _submit, _wait
from ._args import verbose_option, verbosity
from ._status import ExitCode, UsageError


class Subcommand(Protocol):
    """What each subcommand's module provides."""

    def add_parser(
        self,
        commands: argparse._SubParsersAction[argparse.ArgumentParser],
        parents: list[argparse.ArgumentParser],
    ) -> argparse.ArgumentParser:
        """Add the subcommand's parser to ``commands``, with ``parents``; return it."""

    def run(self, args: argparse.Namespace) -> ExitCode:
        """Do what ``args`` ask; the exit status. Bad input raises UsageError."""


SUBCOMMANDS: tuple[Subcommand, ...] = (_wait, _submit, _demo, _local)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcribe-poller",
        description=(
            "Wait for Amazon Transcribe batch jobs (standard, medical, Call Analytics "
            "and Medical Scribe), or start a manifest of them and wait for those."
        ),
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr (-v info, -vv debug)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = [verbose_option("verbose_command")]
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands, parents).set_defaults(run=subcommand.run)
    return parser


def _per_job_lines_dropped(logger: object, method_name: str, event_dict: EventDict) -> EventDict:
    """Without -v, a line about one job (``job finished`` for a job NOT_FOUND, say) is
    not printed: its JSON line on stdout says the same, and 50 missing jobs would
    otherwise be 50 more lines on stderr."""
    if "job" in event_dict:
        raise structlog.DropEvent
    return event_dict


def configure_logging(verbosity: int) -> None:
    """Log to stderr; stdout carries only results. Without -v, warnings and errors
    about the service as a whole; with -v, every job's lines too; -vv, debug."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    structlog.configure(
        processors=[
            *([_per_job_lines_dropped] if verbosity == 0 else []),
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse stops taking wait's names after an option (wait a --medical m b):
        # the names that follow are still names.
        if args.command == "wait" and not any(extra.startswith("-") for extra in extras):
            args.names += extras
        else:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    configure_logging(verbosity(args))
    try:
        status: ExitCode = args.run(args)
    except UsageError as error:
        parser.exit(ExitCode.USAGE, f"transcribe-poller: error: {error}\n")
    except KeyboardInterrupt:
        # Ctrl-C before the signal handler was listening (during start-up).
        print("transcribe-poller: interrupted; polling stopped.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    return status


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
