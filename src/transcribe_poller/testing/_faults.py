"""What the test doubles inject, how each request is admitted, and what was counted.

Both doubles share this: :class:`FaultOptions` declares ``set_faults``'s keywords
once (their defaults in :data:`DEFAULT_FAULT_OPTIONS`), :func:`make_faults` turns
them into :class:`Faults`, :func:`decide` says in one pure place what a request
meets (:class:`Verdict`), and :class:`Gate` holds the only state that decision
needs (the quotas' token buckets and the random draws). FakeTranscribe turns a
:class:`Decision` into botocore's exceptions, the proxy into HTTP answers.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypedDict

from .._jobs import JobKind, JobRef

if TYPE_CHECKING:
    from typing_extensions import Unpack

THROTTLE_ERRORS = ("LimitExceededException", "ThrottlingException")


@dataclass(frozen=True)
class Quota:
    """A token bucket: ``rate`` requests per second, up to ``burst`` at once."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"quota rate must be a positive number, got {self.rate!r}")
        if not (math.isfinite(self.burst) and self.burst >= 1):
            raise ValueError(f"quota burst must be at least 1, got {self.burst!r}")


def _fraction(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Faults:
    """Faults the proxy injects. The default injects nothing.

    ``denied`` operations are answered HTTP 400 AccessDeniedException, as for a
    caller whose IAM policy lacks them. ``quotas`` maps an operation name
    (``GetTranscriptionJob``) to its Quota;
    ``default_quota`` applies to every operation not named there. Throttled answers
    are HTTP 400 with ``throttle_error`` as the error type, and a ``Retry-After``
    header when ``retry_after`` is set. ``error_rate`` of the requests that pass the
    quota get HTTP 500 InternalFailureException and ``drop_rate`` have their
    connection dropped without an answer; ``hang_rate`` are accepted and never
    answered (the connection stays open until the client gives up); ``latency``
    seconds are added to each.
    """

    quotas: Mapping[str, Quota] = field(default_factory=dict)
    denied: frozenset[str] = frozenset()
    default_quota: Quota | None = None
    throttle_error: str = "LimitExceededException"
    retry_after: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    latency: float = 0.0
    seed: int | None = None
    hang_rate: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "quotas", MappingProxyType(dict(self.quotas)))
        if isinstance(self.denied, str):
            raise ValueError(f"denied must be a collection of operation names, got {self.denied!r}")
        object.__setattr__(self, "denied", frozenset(self.denied))
        if self.throttle_error not in THROTTLE_ERRORS:
            raise ValueError(
                f"throttle_error must be one of {THROTTLE_ERRORS}, got {self.throttle_error!r}"
            )
        _fraction("error_rate", self.error_rate)
        _fraction("drop_rate", self.drop_rate)
        _fraction("hang_rate", self.hang_rate)
        if self.error_rate + self.drop_rate + self.hang_rate > 1.0:
            raise ValueError("error_rate + drop_rate + hang_rate must not exceed 1")
        if not (math.isfinite(self.latency) and self.latency >= 0):
            raise ValueError(f"latency must be finite and >= 0, got {self.latency!r}")
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and self.retry_after >= 0
        ):
            raise ValueError(f"retry_after must be finite and >= 0, got {self.retry_after!r}")

    def quota_for(self, operation: str) -> Quota | None:
        return self.quotas.get(operation, self.default_quota)


class TokenBucket:
    """A quota's state: ``take`` is False when a request would exceed it."""

    def __init__(self, quota: Quota, now: float) -> None:
        self.quota = quota
        self.tokens = quota.burst
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.quota.burst, self.tokens + (now - self.stamp) * self.quota.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FaultOptions(TypedDict, total=False):
    """Keyword arguments of ``set_faults`` on either double: the faults, declared once.

    ``quota`` is a rate in requests per second given to every operation
    separately, or a mapping of operation name to a rate or ``(rate, burst)``;
    ``burst`` defaults to one second's worth of requests. ``denied`` names
    operations answered with AccessDeniedException. Throttled answers are HTTP 400
    ``throttle_error`` (LimitExceededException or ThrottlingException), with a
    ``Retry-After`` of ``retry_after`` seconds when set. Of the requests within the
    quota, ``error_rate`` get HTTP 500 InternalFailureException, ``drop_rate`` lose
    their connection without an answer, and ``hang_rate`` are accepted and never
    answered; ``latency`` seconds are added to each. ``seed`` makes the draws
    repeatable. See :class:`Faults`.
    """

    quota: float | Mapping[str, float | tuple[float, float]] | None
    burst: float | None
    denied: Iterable[str]
    throttle_error: str
    retry_after: float | None
    error_rate: float
    drop_rate: float
    latency: float
    seed: int | None
    hang_rate: float


DEFAULT_FAULT_OPTIONS: Final[FaultOptions] = FaultOptions(
    quota=None,  # no quota
    burst=None,  # one second's worth of requests
    denied=(),
    throttle_error="LimitExceededException",
    retry_after=None,  # no Retry-After header
    error_rate=0.0,
    drop_rate=0.0,
    latency=0.0,
    seed=None,
    hang_rate=0.0,
)
"""The default of every option of :class:`FaultOptions`: no faults at all."""


def make_faults(**options: Unpack[FaultOptions]) -> Faults:
    """The :class:`Faults` that ``set_faults(**options)`` injects.

    An unknown option is a TypeError naming it and the known ones; a bad value a
    ValueError naming the option.
    """
    unknown = sorted(set(options) - set(DEFAULT_FAULT_OPTIONS))
    if unknown:
        known = ", ".join(DEFAULT_FAULT_OPTIONS)
        raise TypeError(f"unexpected fault option {unknown[0]!r}; the options are: {known}")
    given: dict[str, Any] = {**DEFAULT_FAULT_OPTIONS, **options}
    quota, burst = given["quota"], given["burst"]
    default: Quota | None = None
    quotas: dict[str, Quota] = {}
    if isinstance(quota, Mapping):
        for operation, spec in quota.items():
            rate, bucket = spec if isinstance(spec, tuple) else (spec, burst or max(1.0, spec))
            quotas[operation] = Quota(float(rate), float(bucket))
    elif quota is not None:
        default = Quota(float(quota), float(burst or max(1.0, quota)))
    denied = given["denied"]
    if isinstance(denied, str):
        raise ValueError(f"denied must be a collection of operation names, got {denied!r}")
    return Faults(
        quotas=quotas,
        default_quota=default,
        denied=frozenset(denied),
        throttle_error=given["throttle_error"],
        retry_after=given["retry_after"],
        error_rate=given["error_rate"],
        drop_rate=given["drop_rate"],
        latency=given["latency"],
        seed=given["seed"],
        hang_rate=given["hang_rate"],
    )


class Verdict(enum.Enum):
    """What a request meets at the door."""

    PASS = "pass"
    THROTTLE = "throttle"
    DENY = "deny"
    ERROR = "error"
    DROP = "drop"
    HANG = "hang"


# Where each verdict is counted in Counts (requests is index 0, counted for all).
_COUNT_INDEX = {
    Verdict.PASS: None,
    Verdict.THROTTLE: 1,
    Verdict.DENY: 2,
    Verdict.ERROR: 2,
    Verdict.DROP: 3,
    Verdict.HANG: 4,
}


@dataclass(frozen=True)
class Decision:
    """A verdict and, for an error answer, what the service would send."""

    verdict: Verdict
    status: int = 200
    code: str = ""
    message: str = ""
    retry_after: float | None = None

    @property
    def count_index(self) -> int | None:
        """The Counts field it adds to besides ``requests`` (None: none)."""
        return _COUNT_INDEX[self.verdict]


PASS = Decision(Verdict.PASS)
INTERNAL_FAILURE_MESSAGE = "We encountered an internal error. Try again."


def decide(faults: Faults, operation: str, *, within_quota: bool, roll: float) -> Decision:
    """What one request to ``operation`` meets: the one place both doubles ask.

    ``within_quota`` says whether the operation's quota had a token for it (True
    when it has no quota); ``roll`` is a uniform draw in [0, 1) that places it in
    the shares of dropped, hung and failed requests, in that order. A denied
    operation is refused before its quota is looked at.
    """
    if operation in faults.denied:
        return Decision(
            Verdict.DENY,
            400,
            "AccessDeniedException",
            f"User is not authorized to perform: transcribe:{operation}",
        )
    if not within_quota:
        return Decision(
            Verdict.THROTTLE, 400, faults.throttle_error, "Rate exceeded", faults.retry_after
        )
    if roll < faults.drop_rate:
        return Decision(Verdict.DROP)
    if roll < faults.drop_rate + faults.hang_rate:
        return Decision(Verdict.HANG)
    if roll < faults.drop_rate + faults.hang_rate + faults.error_rate:
        return Decision(Verdict.ERROR, 500, "InternalFailureException", INTERNAL_FAILURE_MESSAGE)
    return PASS


class Gate:
    """The state fault admission needs: a token bucket per operation, the random draws.

    Not thread-safe: the proxy calls it under its lock.
    """

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults if faults is not None else Faults()
        self._random = random.Random(self.faults.seed)
        self._buckets: dict[str, TokenBucket] = {}

    def admit(self, operation: str, now: float) -> Decision:
        """Decide one request at ``now`` (seconds, on the double's clock)."""
        faults = self.faults
        if operation in faults.denied:
            # Refused before the quota: a denied request takes no token and no draw.
            return decide(faults, operation, within_quota=True, roll=1.0)
        within = True
        quota = faults.quota_for(operation)
        if quota is not None:
            bucket = self._buckets.get(operation)
            if bucket is None or bucket.quota != quota:
                bucket = self._buckets[operation] = TokenBucket(quota, now)
            within = bucket.take(now)
        roll = self._random.random() if within else 1.0
        return decide(faults, operation, within_quota=within, roll=roll)


@dataclass(frozen=True)
class Counts:
    """How many requests a double saw, and what it did with them.

    ``errors`` counts denied requests and injected internal failures; ``hung`` the
    requests accepted and never answered (``hang_rate``).
    """

    requests: int = 0
    throttled: int = 0
    errors: int = 0
    dropped: int = 0
    hung: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.requests + other.requests,
            self.throttled + other.throttled,
            self.errors + other.errors,
            self.dropped + other.dropped,
            self.hung + other.hung,
        )


@dataclass(frozen=True)
class TrafficReport:
    """A snapshot of the proxy's counters.

    ``by_operation`` is keyed by operation name, ``by_job`` by ``(kind, name)`` where
    kind is a JobKind's value (``"standard"``, ``"medical"``, ...). Connections
    refused during an outage never reach the proxy, so they are not counted;
    ``outages`` says how many began.
    """

    by_operation: Mapping[str, Counts]
    by_job: Mapping[tuple[str, str], Counts]
    outages: int

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.by_operation.values():
            total = total + counts
        return total

    @property
    def by_kind(self) -> dict[JobKind, Counts]:
        """Counts of each kind's Get and List requests together (Starts apart)."""
        from ._service import WIRE

        totals: dict[JobKind, Counts] = {}
        for kind, wire in WIRE.items():
            total = Counts()
            for operation in (wire.get_operation, wire.list_operation):
                total = total + self.by_operation.get(operation, Counts())
            totals[kind] = total
        return totals

    def job(self, job: str | JobRef, kind: str = "standard") -> Counts:
        """Counts for one job: a JobRef, or a name and its kind."""
        if isinstance(job, JobRef):
            return self.by_job.get((job.kind.value, job.name), Counts())
        return self.by_job.get((str(kind), job), Counts())
