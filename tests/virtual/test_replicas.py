"""Several processes (here: pollers) sweeping one account share its List quota."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from transcribe_poller import Backoff, JobKind, JobRef, Outcome, Poller
from transcribe_poller._sweep import SweepPace
from transcribe_poller.testing import FakeTranscribe

from ._helpers import Stub, client_error, collect

pytestmark = pytest.mark.anyio


def start_replica_batch(fake: FakeTranscribe, replica: int, count: int) -> list[JobRef]:
    rng = random.Random(replica)
    refs = [JobRef(f"r{replica}-job-{i:03d}") for i in range(count)]
    for ref in refs:
        fake.start_job(ref.name, duration=rng.uniform(20, 120))
    return refs


async def run_replicas(fake: FakeTranscribe, replicas: int, jobs: int) -> list[list[Any]]:
    """Each replica: its own Poller and batch, all on one account, started together."""
    results: list[list[Any]] = [[] for _ in range(replicas)]

    async def replica(i: int, refs: list[JobRef]) -> None:
        backoff = Backoff(rng=random.Random(100 + i))
        async with Poller(fake, backoff=backoff) as poller:
            results[i] = await collect(poller, refs)

    batches = [start_replica_batch(fake, i, jobs) for i in range(replicas)]
    async with anyio.create_task_group() as tg:
        for i, refs in enumerate(batches):
            tg.start_soon(replica, i, refs)
    return results


async def test_replicas_space_their_sweeps_to_the_shared_list_quota(
    fake: FakeTranscribe,
) -> None:
    """Six replicas would list at 8 requests/s against a 5/s quota: their sweeps
    stretch, so few List requests are throttled, and no job is lost."""
    fake.set_faults(quota={"ListTranscriptionJobs": (5, 5), "GetTranscriptionJob": (30, 30)})
    results = await run_replicas(fake, replicas=6, jobs=30)
    assert all(len(events) == 30 for events in results)
    assert all(e.outcome is Outcome.COMPLETED for events in results for e in events)
    lists = fake.traffic().by_operation["ListTranscriptionJobs"]
    assert lists.throttled / lists.requests < 0.10
    for events in results:
        for event in events:
            script = fake.script(event.job.name)
            assert script.first_terminal_read_at is not None
            assert script.first_terminal_read_at - script.terminal_at < 15


def test_sweep_pace_is_aimd_on_the_sweep_rate() -> None:
    """The sweep rate (1 / interval) is halved per throttled sweep, down to a sixth of
    the base rate, and grows back by a tenth of the base rate per clean sweep (additive
    increase, multiplicative decrease); waits are jittered by 20% only while below the
    base rate."""
    pace = SweepPace(1.5, random.Random(1))
    waits = [pace.next(throttled=True) for _ in range(10)]
    assert pace.current == pytest.approx(9.0)  # the floor: six times the interval
    assert all(0.8 * 1.5 <= w <= 1.2 * 9.0 for w in waits)
    clean = 0
    while pace.current > 1.5:
        pace.next(throttled=False)
        clean += 1
    assert clean == 9  # additive: 1/6 + 9/10 of the base rate reaches it
    assert pace.current == 1.5
    assert pace.next(throttled=False) == 1.5  # back at the base: exact again
    pace.next(throttled=True)
    assert pace.current == pytest.approx(3.0)
    pace.next(throttled=False)
    assert pace.current == pytest.approx(1.5 / 0.6)  # a step of the base rate, not a ratio


async def test_a_page_throttled_at_full_pace_is_asked_for_again_within_the_interval(
    fake: FakeTranscribe,
) -> None:
    """A poller sweeping at its full pace meets one throttled List page: the page is
    asked for once more within an interval (not a halved pace's interval later), so
    that sweep completes; a page throttled again while the pace is cut is not."""
    refs = start_replica_batch(fake, 0, 10)
    calls: list[tuple[float, bool]] = []

    async def list_(params: dict[str, Any]) -> Any:
        now = anyio.current_time()
        # The first page asked for after 10 s, and every page from 30 s to 40 s.
        throttle = (now >= 10 and not any(t >= 10 for t, _ in calls)) or 30 <= now < 40
        calls.append((now, throttle))
        if throttle:
            raise client_error("ThrottlingException", 400, "Rate exceeded", "ListTranscriptionJobs")
        return await fake.list_transcription_jobs(**params)

    async with Poller(Stub(fake, list_=list_), backoff=Backoff(rng=random.Random(3))) as poller:
        events = await collect(poller, refs)
    assert len(events) == 10
    first = next(i for i, (t, throttled) in enumerate(calls) if throttled)
    assert calls[first + 1][0] - calls[first][0] <= 1.5  # asked for again within the interval
    assert not calls[first + 1][1]
    # From 30 s, once retried, then given up while the pace is halved again and again:
    # about 30 (and its retry), 33, 39 rather than a page every 1.5 s.
    starved = [t for t, _ in calls if 30 <= t < 40]
    assert 2 <= len(starved) <= 5


async def test_replicas_started_together_rarely_collide(fake: FakeTranscribe) -> None:
    """Four replicas starting at the same instant on a 5/s List quota: each starts
    within its first interval and lists QUEUED only while it must, so under 2% of
    List requests are throttled and every job is found."""
    fake.set_faults(quota={"ListTranscriptionJobs": (5, 5)})
    results = await run_replicas(fake, replicas=4, jobs=40)
    assert all(len(events) == 40 for events in results)
    lists = fake.traffic().by_operation["ListTranscriptionJobs"]
    assert lists.requests > 200  # sweeping the whole time, not given way to Gets
    assert lists.throttled / lists.requests < 0.02


async def test_one_process_alone_keeps_the_base_interval(fake: FakeTranscribe) -> None:
    """Without throttling a lone poller sweeps about every 1.5 s, as before."""
    refs = start_replica_batch(fake, 0, 30)
    async with Poller(fake) as poller:
        await collect(poller, refs)
        stats = poller.statistics()
    last_end = max(fake.script(r.name).terminal_at for r in refs)
    # Sweeping stops below five pending jobs, a little before the last one ends.
    assert stats.sweeps >= 0.8 * (last_end - 30) / 1.5
    assert stats.kinds[JobKind.STANDARD].pending == 0
