"""What the fault proxy injects, and what it counted."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

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
    connection dropped without an answer; ``latency`` seconds are added to each.
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
        if self.error_rate + self.drop_rate > 1.0:
            raise ValueError("error_rate + drop_rate must not exceed 1")
        if not (math.isfinite(self.latency) and self.latency >= 0):
            raise ValueError(f"latency must be finite and >= 0, got {self.latency!r}")
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and self.retry_after >= 0
        ):
            raise ValueError(f"retry_after must be finite and >= 0, got {self.retry_after!r}")

    def quota_for(self, operation: str) -> Quota | None:
        return self.quotas.get(operation, self.default_quota)


@dataclass(frozen=True)
class Counts:
    """How many requests the proxy saw, and what it did with them."""

    requests: int = 0
    throttled: int = 0
    errors: int = 0
    dropped: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.requests + other.requests,
            self.throttled + other.throttled,
            self.errors + other.errors,
            self.dropped + other.dropped,
        )


@dataclass(frozen=True)
class TrafficReport:
    """A snapshot of the proxy's counters.

    ``by_operation`` is keyed by operation name, ``by_job`` by ``(kind, name)`` where
    kind is ``"standard"`` or ``"medical"``. Connections refused during an outage
    never reach the proxy, so they are not counted; ``outages`` says how many began.
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

    def job(self, name: str, kind: str = "standard") -> Counts:
        return self.by_job.get((str(kind), name), Counts())
