"""How a command ends: one exit status enum for every subcommand, one usage error."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit status of every subcommand; each says which of these it uses and when.

    ``wait``: OK every job COMPLETED (and with ``--fetch``, every transcript
    fetched); FAILURE some job did not (FAILED, NOT_FOUND, TIMED_OUT, or ERROR for
    another reason), or a transcript could not be fetched or written; USAGE a usage
    error, nothing sent;
    UNREACHABLE Transcribe (or the queue's SQS) could not be reached or would not
    take the credentials (wins over FAILURE); QUEUE_UNUSABLE the queue of
    ``--queue-url`` does not exist or may not be read; INTERRUPTED and TERMINATED
    stopped by SIGINT or SIGTERM, after the summary.

    ``submit``: as ``wait``, a Start refused (an ERROR event) being FAILURE; USAGE
    also for a bad manifest line, nothing sent; UNREACHABLE stops the batch there.

    ``demo``: OK every job reported as scripted and the transcript it shows
    fetched, FAILURE not; USAGE a usage error or without the ``local`` extra.

    ``local``: OK stopped cleanly (Ctrl-C or SIGTERM), FAILURE it cannot start (the
    port is taken), USAGE a usage error or without the ``local`` extra.
    ``local start-job``: OK started, FAILURE no test bed could be reached there,
    USAGE a usage error, the test bed's refusal included (a bad field, a name taken).
    """

    OK = 0
    FAILURE = 1
    USAGE = 2
    UNREACHABLE = 3
    QUEUE_UNUSABLE = 4
    INTERRUPTED = 130  # 128 + SIGINT's number, as shells report it
    TERMINATED = 143  # 128 + SIGTERM's number


class UsageError(Exception):
    """Bad input on the command line: the message is printed as ``transcribe-poller:
    error: MESSAGE`` and the command exits with :attr:`ExitCode.USAGE`, nothing sent.

    Raised by any subcommand; :func:`~transcribe_poller._cli._main.main` alone
    reports it, as argparse reports its own.
    """
