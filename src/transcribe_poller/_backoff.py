"""Delays between two polls of one job."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

from . import _check

Jitter = Literal["full", "decorrelated", "none"]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter, so jobs started together never poll in step.

    The bound for poll ``attempt`` (0 for the first delay) is
    ``min(maximum, initial * multiplier ** attempt)``. With ``jitter="full"`` (the
    default) the delay is uniform between 0 and that bound; ``"decorrelated"`` draws
    uniformly between ``initial`` and three times the previous delay, capped at
    ``maximum``; ``"none"`` waits the bound itself. Pass ``rng`` (a
    ``random.Random``) to make the delays reproducible.
    """

    initial: float = 1.0
    maximum: float = 20.0
    multiplier: float = 2.0
    jitter: Jitter = "full"
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "multiplier"):
            _check.number(f"Backoff.{name}", getattr(self, name))
        if self.maximum < self.initial:
            raise ValueError(
                f"Backoff.maximum ({self.maximum}) must not be below initial ({self.initial})"
            )
        if self.multiplier < 1:
            raise ValueError(f"Backoff.multiplier must be >= 1, got {self.multiplier!r}")
        if not callable(getattr(self.rng, "uniform", None)):
            raise TypeError(f"Backoff.rng must be a random.Random, got {self.rng!r}")
        if not isinstance(self.jitter, str):
            raise TypeError(f"Backoff.jitter must be a str, got {self.jitter!r}")
        if self.jitter not in ("full", "decorrelated", "none"):
            raise ValueError(
                f"Backoff.jitter must be 'full', 'decorrelated' or 'none', got {self.jitter!r}"
            )

    def bound(self, attempt: int) -> float:
        """The largest delay after ``attempt`` polls."""
        # Compare exponents rather than computing a power that may overflow.
        if attempt * math.log(self.multiplier) >= math.log(self.maximum / self.initial):
            return self.maximum
        return min(self.maximum, self.initial * self.multiplier**attempt)

    def delay(self, attempt: int, previous: float | None = None) -> float:
        """The delay before the next poll; ``previous`` is the last delay, if any."""
        if self.jitter == "none":
            return self.bound(attempt)
        if self.jitter == "full":
            return self.rng.uniform(0.0, self.bound(attempt))
        last = self.initial if previous is None else max(previous, self.initial)
        return min(self.maximum, self.rng.uniform(self.initial, last * 3.0))
