"""Backoff delays: bounds, growth and jitter, with a seeded random source."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from transcribe_poller import Backoff


def test_bound_grows_exponentially_up_to_the_maximum() -> None:
    """bound(n) = min(maximum, initial * multiplier**n), even for huge n."""
    backoff = Backoff(initial=0.5, maximum=10, multiplier=2)
    assert [backoff.bound(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff.bound(10_000) == 10


def test_no_jitter_waits_the_bound() -> None:
    """jitter='none' waits exactly the bound."""
    backoff = Backoff(initial=1, maximum=5, jitter="none")
    assert [backoff.delay(n) for n in range(4)] == [1, 2, 4, 5]


def test_full_jitter_stays_within_bounds_and_spreads() -> None:
    """Full jitter is uniform in [0, bound]: never above it, and widely spread."""
    backoff = Backoff(initial=1, maximum=8, rng=random.Random(7))
    for attempt in range(6):
        delays = [backoff.delay(attempt) for _ in range(2000)]
        bound = backoff.bound(attempt)
        assert all(0 <= d <= bound for d in delays)
        assert statistics.mean(delays) == pytest.approx(bound / 2, rel=0.08)
        # Uniform on [0, b] has a standard deviation of b / sqrt(12).
        assert statistics.pstdev(delays) == pytest.approx(bound / math.sqrt(12), rel=0.08)


def test_seeded_backoffs_are_reproducible() -> None:
    """The same seed gives the same delays."""
    first = Backoff(rng=random.Random(42))
    second = Backoff(rng=random.Random(42))
    assert [first.delay(n) for n in range(10)] == [second.delay(n) for n in range(10)]


def test_decorrelated_jitter_is_bounded_by_initial_and_maximum() -> None:
    """Decorrelated jitter draws from [initial, 3 * previous], capped at maximum."""
    backoff = Backoff(initial=0.5, maximum=6, jitter="decorrelated", rng=random.Random(3))
    previous = None
    delays = []
    for attempt in range(200):
        delay = backoff.delay(attempt, previous)
        low = 0.5
        high = min(6.0, 3 * max(previous or 0.5, 0.5))
        assert low <= delay <= high
        delays.append(delay)
        previous = delay
    assert max(delays) > 4  # it does grow towards the cap


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0}, "initial"),
        ({"maximum": math.inf}, "maximum"),
        ({"initial": 5, "maximum": 1}, "maximum"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": "equal"}, "jitter"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, object], message: str) -> None:
    """Each bad setting raises ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rng": None}, "Backoff.rng"), ({"jitter": 5}, "Backoff.jitter")],
)
def test_wrong_types_raise_type_error(kwargs: dict[str, object], match: str) -> None:
    """A wrong type (rng=None, a jitter that is not a str) is a TypeError naming the field."""
    with pytest.raises(TypeError, match=match):
        Backoff(**kwargs)  # type: ignore[arg-type]
