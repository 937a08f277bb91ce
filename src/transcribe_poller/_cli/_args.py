"""Argument types shared by the command line's subcommands: errors name the value.

As argparse types, they make a bad value argparse's own usage error, naming the
option (``argument --max-rate: expected a positive number, got 'fast'``); the
region and endpoint checks say what is wrong for a subcommand to raise as a
:class:`~._status.UsageError`. Also the -v option every level shares.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from .. import JobKind

T = TypeVar("T")


def number(*, zero_ok: bool) -> Callable[[str], float]:
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


positive = number(zero_ok=False)
non_negative = number(zero_ok=True)


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def port(text: str) -> int:
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


def share(text: str) -> float:
    """A fraction from 0 to 1, for --loss and --duplicate."""
    value = non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to 1, got {text!r}")
    return value


def queue_url(text: str) -> str:
    """An SQS queue's URL, as ``aws sqs get-queue-url`` prints it: a scheme, a host
    and a path (the account and the queue's name), as EventBridgeQueue takes it."""
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("https", "http") and bool(parts.hostname and parts.path.strip("/"))
    except ValueError:  # a port that is not a number, a bracket left open
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(
            f"expected the queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), "
            f"got {text!r}"
        )
    return text


# botocore's own rule for a region name, checked here so a typo is a usage error.
_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")


def region(text: str) -> str:
    if not _REGION.match(text):
        raise argparse.ArgumentTypeError(f"expected a region such as us-east-1, got {text!r}")
    return text


def transcribe_regions() -> list[str]:
    """The regions botocore knows Transcribe in, every partition (aws-cn, aws-us-gov, ...).

    Read from the endpoint data botocore ships: no request is made.
    """
    import botocore.session

    session = botocore.session.get_session()
    return sorted(
        {
            name
            for partition in session.get_available_partitions()
            for name in session.get_available_regions("transcribe", partition_name=partition)
        }
    )


def region_problem(text: str) -> str | None:
    """Why Transcribe has no region ``text``, with the closest known ones; None if it has.

    An unknown region would otherwise be found out by connecting: a DNS name that
    does not resolve, retried as an outage for 15 s, then exit 3 "could not reach".
    """
    known = transcribe_regions()
    if text in known:
        return None
    import botocore

    lowered = text.lower()
    zone = lowered[:-1] if lowered[-1:].isalpha() else ""
    if zone in known:  # eu-west-1a
        hint = f"that is an availability zone: its region is {zone}"
    else:
        # Lower case first: difflib counts US-EAST-1 as far from us-east-1.
        close = difflib.get_close_matches(lowered, known, n=3) or difflib.get_close_matches(
            lowered, known, n=3, cutoff=0
        )
        hint = f"the closest are {', '.join(close)}"
    return (
        f"argument --region: Transcribe has no region {text!r}; {hint} (regions of "
        f"botocore {botocore.__version__}; for a newer one, upgrade botocore or pass "
        "--endpoint-url)"
    )


def endpoint_problem(text: str) -> str | None:
    """What is wrong with an endpoint URL, or None: it needs a scheme and a host."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        return f"{text!r} is not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected a URL with http:// or https:// (http://127.0.0.1:4566), got {text!r}"
    return None


def endpoint_url(text: str) -> str:
    problem = endpoint_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


KIND_NAMES = tuple(kind.value for kind in JobKind)


def kinds(text: str) -> list[str]:
    """Job kinds separated by commas, for --output-events: each kind once, sorted."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in KIND_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown kind {unknown[0]!r}; the kinds are {', '.join(KIND_NAMES)} "
            "(separated by commas: medical,medical-scribe)"
        )
    return sorted(set(names))


def whole_positive(text: str) -> int:
    """A whole number from 1: a count of jobs at once."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


PerKind = tuple[str | None, T]
"""One value of a per-kind option: ``(None, value)`` for every kind, ``(kind, value)``
for one."""


def per_kind(parse: Callable[[str], T]) -> Callable[[str], PerKind[T]]:
    """An argparse type for ``VALUE`` (every kind) or ``KIND=VALUE`` (one kind), each
    value read by ``parse``: ``--max-running 50``, ``--max-running call-analytics=20``."""

    def parse_one(text: str) -> PerKind[T]:
        kind, equals, value = text.rpartition("=")
        if not equals:
            return None, parse(text)
        kind = kind.strip()
        if kind not in KIND_NAMES:
            raise argparse.ArgumentTypeError(
                f"unknown kind {kind!r} in {text!r}; the kinds are {', '.join(KIND_NAMES)} "
                "(KIND=VALUE, or VALUE for every kind)"
            )
        return kind, parse(value.strip())

    return parse_one


def per_kind_value(given: list[PerKind[T]] | None) -> T | dict[str, T] | None:
    """What a repeated per-kind option asks of the Poller: None (its defaults), one
    value for every kind, or a mapping of kind to value. A plain VALUE sets the kinds
    not named (the last one given wins); KIND=VALUE sets its kind, whatever the order."""
    if not given:
        return None
    plain = [value for kind, value in given if kind is None]
    named = {kind: value for kind, value in given if kind is not None}
    if not named:
        return plain[-1]
    if plain:
        return {**dict.fromkeys(KIND_NAMES, plain[-1]), **named}
    return named


def verbose_option(dest: str) -> argparse.ArgumentParser:
    """-v for a subcommand or an action, as a parent parser: ``wait NAME -v`` as well
    as ``-v wait NAME``.

    Each level counts into a ``dest`` of its own (``verbose_...``), since argparse
    lets a subcommand's defaults overwrite what the level above parsed;
    :func:`verbosity` adds them up.
    """
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "-v", "--verbose", action="count", default=0, dest=dest, help="log more on stderr"
    )
    return options


def verbosity(args: argparse.Namespace) -> int:
    """How many -v were given, at every level."""
    return sum(value for key, value in vars(args).items() if key.startswith("verbose"))
