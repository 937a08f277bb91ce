"""The Poller's options, declared once: names, types, defaults and their checks.

:class:`Poller`, :func:`open_poller`, :func:`wait_for_jobs` and the command line
take the same options as keyword arguments (:class:`PollerOptions`);
:data:`DEFAULT_OPTIONS` holds their defaults, and :func:`settle` checks a set of
them and fills in the rest, the one place that does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypedDict, TypeVar

from . import _check
from ._backoff import Backoff
from ._eventbridge import EventBridgeQueue
from ._jobs import JobKind
from ._kinds import KINDS
from ._sweep import Sweep


class PollerOptions(TypedDict, total=False):
    """Keyword arguments of :class:`Poller`, :func:`open_poller` and :func:`wait_for_jobs`.

    What each means is in :class:`Poller`'s documentation; the defaults are
    :data:`DEFAULT_OPTIONS`.
    """

    budget: float
    max_rate: float
    backoff: Backoff | None
    job_timeout: float | None
    not_found_grace: float
    max_faults: int | None
    sweep: Sweep | str | None
    unreachable_after: float
    request_timeout: float | None
    notifications: EventBridgeQueue | None
    s3: Any
    max_downloads: int
    max_running: int | Mapping[JobKind | str, int] | None
    start_rate: float | Mapping[JobKind | str, float] | None


DEFAULT_OPTIONS: Final[PollerOptions] = PollerOptions(
    # Requests per second each kind with pending jobs spends on ordinary looks.
    budget=0.8,
    # Requests per second per Get operation: below AWS's default quota of 30.
    max_rate=25.0,
    backoff=None,  # Backoff(): 1 s doubling to 20 s, full jitter
    job_timeout=None,  # no limit
    # Seconds a job may stay unknown before NOT_FOUND: a job just started may not show.
    not_found_grace=5.0,
    max_faults=None,  # faults never end a job
    sweep=None,  # Sweep(): auto
    # Seconds of faults, with no answer of any kind ever, before giving up.
    unreachable_after=15.0,
    request_timeout=None,  # 20 s, or less when the client's own timeouts say so
    notifications=None,
    s3=None,  # no S3 client: transcripts in your own bucket need one
    # Transcripts downloaded at once (each holds up to max_bytes in memory).
    max_downloads=8,
    max_running=None,  # AWS's caps per kind: 250, Call Analytics 100
    start_rate=None,  # AWS's Start quotas per kind: 25/s, Call Analytics 10/s
)
"""The default of every option of :class:`PollerOptions`."""

T = TypeVar("T")

REQUEST_TIMEOUT = 20.0
"""Seconds without an answer after which a request is abandoned, as a transient fault."""


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Every option checked, with its default filled in: what a Poller runs with."""

    budget: float
    max_rate: float
    backoff: Backoff
    job_timeout: float | None
    not_found_grace: float
    max_faults: int | None
    sweep: Sweep
    unreachable_after: float
    request_timeout: float | None  # None: from the client (see _client.request_deadline)
    notifications: EventBridgeQueue | None
    s3: Any
    max_downloads: int
    max_running: Mapping[JobKind, int]
    start_rate: Mapping[JobKind, float]


def settle(options: Mapping[str, object]) -> Settings:
    """Check ``options`` (a :class:`PollerOptions`) and fill in the defaults.

    An unknown name is a ``TypeError`` naming it and the known ones; a wrong value
    a ``TypeError`` or ``ValueError`` naming the option.
    """
    unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
    if unknown:
        known = ", ".join(sorted(DEFAULT_OPTIONS))
        raise TypeError(f"unexpected option {unknown[0]!r}; the options are: {known}")
    given = {**DEFAULT_OPTIONS, **options}
    backoff = given["backoff"]
    if backoff is not None and not isinstance(backoff, Backoff):
        raise TypeError(f"backoff must be a Backoff, got {backoff!r}")
    sweep = given["sweep"]
    if isinstance(sweep, str):
        sweep = Sweep(mode=sweep)  # type: ignore[arg-type]  # checked by Sweep
    elif sweep is not None and not isinstance(sweep, Sweep):
        raise TypeError(f"sweep must be a Sweep or 'auto', 'always' or 'never', got {sweep!r}")
    notifications = given["notifications"]
    if notifications is not None and not isinstance(notifications, EventBridgeQueue):
        raise TypeError(f"notifications must be an EventBridgeQueue, got {notifications!r}")
    job_timeout, request_timeout = given["job_timeout"], given["request_timeout"]
    max_faults = given["max_faults"]
    return Settings(
        budget=_check.number("budget", given["budget"]),
        max_rate=_check.number("max_rate", given["max_rate"]),
        backoff=backoff if backoff is not None else Backoff(),
        job_timeout=None if job_timeout is None else _check.number("job_timeout", job_timeout),
        not_found_grace=_check.number("not_found_grace", given["not_found_grace"], zero_ok=True),
        max_faults=None if max_faults is None else _check.whole("max_faults", max_faults),
        sweep=sweep if sweep is not None else Sweep(),
        unreachable_after=_check.number(
            "unreachable_after", given["unreachable_after"], zero_ok=True
        ),
        request_timeout=(
            None if request_timeout is None else _check.number("request_timeout", request_timeout)
        ),
        notifications=notifications,
        s3=_check.s3_client("s3", given["s3"]),
        max_downloads=_check.whole("max_downloads", given["max_downloads"], low=1),
        max_running=_per_kind(
            "max_running",
            given["max_running"],
            {kind: spec.max_running for kind, spec in KINDS.items()},
            lambda name, value: _check.whole(name, value, low=1),
        ),
        start_rate=_per_kind(
            "start_rate",
            given["start_rate"],
            {kind: spec.start_rate for kind, spec in KINDS.items()},
            _check.number,
        ),
    )


def _per_kind(
    name: str,
    value: object,
    defaults: Mapping[JobKind, T],
    check: Callable[[str, object], T],
) -> Mapping[JobKind, T]:
    """An option given for every kind (one value) or some (a mapping of kind to
    value; the others keep their defaults)."""
    if value is None:
        return MappingProxyType(dict(defaults))
    if not isinstance(value, Mapping):
        one = check(name, value)
        return MappingProxyType(dict.fromkeys(defaults, one))
    settled = dict(defaults)
    for key, each in value.items():
        try:
            kind = JobKind(key)
        except ValueError:
            kinds = ", ".join(repr(k.value) for k in JobKind)
            raise ValueError(f"{name}: {key!r} is not a kind of job ({kinds})") from None
        settled[kind] = check(f"{name}[{kind.value!r}]", each)
    return MappingProxyType(settled)
