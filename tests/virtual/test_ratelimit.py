"""The shared rate limit: pacing, cuts on throttling, recovery over time (virtual clock)."""

from __future__ import annotations

import itertools

import anyio
import anyio.lowlevel
import pytest

from transcribe_poller._ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_throttle_cuts_once_per_round_trip() -> None:
    """Answers to requests sent before the last cut do not cut again."""
    clock = FakeClock()
    limiter = RateLimiter(20, decrease=0.5, clock=clock)
    assert limiter.on_throttle(sent_at=99.9) is True
    assert limiter.rate == 10
    assert limiter.on_throttle(sent_at=99.95) is False  # in flight before the cut
    assert limiter.rate == 10
    clock.now += 0.001
    assert limiter.on_throttle(sent_at=100.0005) is True  # sent after the cut
    assert limiter.rate == pytest.approx(5, rel=0.01)


def test_rate_recovers_within_seconds_and_has_a_floor() -> None:
    """From half of max_rate back to max_rate in `recovery` seconds; never below min_rate."""
    clock = FakeClock()
    limiter = RateLimiter(20, decrease=0.5, recovery=5, min_rate=1, clock=clock)
    limiter.on_throttle(sent_at=clock.now)
    clock.now += 2.5
    assert limiter.rate == pytest.approx(15)
    clock.now += 2.5
    assert limiter.rate == pytest.approx(20)
    clock.now += 60
    assert limiter.rate == 20  # never above max_rate
    for _ in range(20):
        clock.now += 0.001
        limiter.on_throttle(sent_at=clock.now)
    assert limiter.rate == pytest.approx(1, abs=0.05)


@pytest.mark.anyio
async def test_acquire_paces_requests() -> None:
    """Ten acquisitions at 50/s are exactly 20 ms apart."""
    limiter = RateLimiter(50)
    times = [await limiter.acquire() for _ in range(10)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.02] * 9)


@pytest.mark.anyio
async def test_waiters_are_served_first_come_first_served() -> None:
    """Five tasks queueing for turns get them in the order they asked, one interval apart."""
    limiter = RateLimiter(10)
    await limiter.acquire()
    order: list[tuple[int, float]] = []

    async def take(i: int) -> None:
        order.append((i, await limiter.acquire()))

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(take, i)
            await anyio.lowlevel.checkpoint()
    assert [i for i, _ in order] == [0, 1, 2, 3, 4]
    assert [t for _, t in order] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5], abs=1e-6)


@pytest.mark.anyio
async def test_a_cut_reaches_a_request_already_waiting() -> None:
    """A request sleeping towards its turn at 0.1 s is held to 2 s when a cut to the
    floor of 0.5/s comes."""
    limiter = RateLimiter(10, decrease=0.1, min_rate=0.5)
    first = await limiter.acquire()
    taken: list[float] = []

    async def waiter() -> None:
        taken.append(await limiter.acquire())

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.sleep(0.05)  # virtual time: the waiter now sleeps towards 0.1 s
        assert taken == []
        limiter.on_throttle(sent_at=first)  # now 0.5 request/s, the floor
    assert taken[0] - first == pytest.approx(2.0, abs=0.01)


@pytest.mark.anyio
async def test_retry_after_pauses_everyone() -> None:
    """A Retry-After hint holds every request, waiting or new, until it has passed."""
    limiter = RateLimiter(100)
    first = await limiter.acquire()
    limiter.on_throttle(sent_at=first - 1, retry_after=0.5)
    second = await limiter.acquire()
    assert second - first == pytest.approx(0.5)


def test_bad_rate_is_rejected() -> None:
    """max_rate must be a positive, finite number."""
    with pytest.raises(ValueError, match="max_rate"):
        RateLimiter(0)


def test_a_cut_starts_from_the_rate_really_sent() -> None:
    """A limiter allowing 25/s but sending 4/s is cut below 4/s on a throttle: other
    processes share the quota, and a cut from 25/s would change nothing."""
    clock = FakeClock()
    limiter = RateLimiter(25, decrease=0.5, clock=clock)
    for _ in range(12):  # 4 sends a second for 3 s
        clock.now += 0.25
        assert limiter._take_if_due() is not None
    limiter.on_throttle(sent_at=clock.now)
    assert limiter.rate == pytest.approx(2.0, rel=0.15)


@pytest.mark.parametrize("max_rate", [0.01, 0.05, 0.19, 0.5, 25.0])
def test_a_cut_never_lifts_the_rate_above_a_small_limit(max_rate: float) -> None:
    """Any positive limit is honoured: throttles cut below it, never raise it to a floor."""
    clock = FakeClock()
    limiter = RateLimiter(max_rate, clock=clock)
    for _ in range(20):
        clock.now += 1000
        limiter.on_throttle(sent_at=clock.now)
        assert 0 < limiter.rate < max_rate
    clock.now += 0.001
    assert limiter.rate <= max_rate


@pytest.mark.anyio
async def test_a_limit_of_one_request_in_twenty_seconds_is_kept_after_a_throttle() -> None:
    """max_rate 0.05 with a throttle: never more than one request per 20 s on average
    (the limit), where the old floor of 0.2/s let one through every 5 s."""
    limiter = RateLimiter(0.05)
    first = await limiter.acquire()
    limiter.on_throttle(first)
    sent = [await limiter.acquire() for _ in range(5)]
    for count, at in enumerate(sent, start=1):
        assert at - first >= 20 * count
