"""Several processes (here: pollers) sweeping one account share its List quota."""

from __future__ import annotations

import random
from typing import Any

import anyio
import pytest

from transcribe_poller import Backoff, JobKind, JobRef, Outcome, Poller
from transcribe_poller._sweep import SweepPace
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

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


def test_sweep_pace_stretches_when_throttled_and_recovers_gradually() -> None:
    """The interval grows by three quarters per throttled sweep up to six-fold, and
    shrinks by 4% per clean one; waits are jittered by 20% only while stretched."""
    pace = SweepPace(1.5, random.Random(1))
    waits = [pace.next(throttled=True) for _ in range(10)]
    assert pace.current == pytest.approx(9.0)
    assert all(0.8 * 1.5 <= w <= 1.2 * 9.0 for w in waits)
    clean = 0
    while pace.current > 1.5:
        pace.next(throttled=False)
        clean += 1
    assert 40 <= clean <= 48  # gradual: 0.96**44 * 6 is about 1
    assert pace.current == 1.5
    assert pace.next(throttled=False) == 1.5  # back at the base: exact again


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
