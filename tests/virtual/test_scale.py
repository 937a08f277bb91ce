"""Cost per job independent of job length and backlog: long jobs, a queued backlog,
and the List budget."""

from __future__ import annotations

import collections
import random
from typing import Any

import anyio
import pytest

from transcribe_poller import JobRef, Outcome, Poller, Sweep
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

pytestmark = pytest.mark.anyio


async def start_batch(fake: FakeTranscribe, runs: list[float]) -> list[JobRef]:
    """Start jobs at 25/s, as the Start quota lets a batch; beyond the fake's cap
    they wait QUEUED, first in first out, then run for their time."""
    refs = []
    for i, run in enumerate(runs):
        refs.append(JobRef(f"fifo-{i:04d}"))
        fake.start_job(refs[-1].name, duration=run, queued_for=0)
        await anyio.sleep(0.04)
    return refs


def count_lists(fake: FakeTranscribe) -> collections.Counter[str]:
    """Count List requests by the status they ask for."""
    counts: collections.Counter[str] = collections.Counter()
    real_list = fake.list_transcription_jobs

    async def list_jobs(**params: Any) -> dict[str, Any]:
        counts[params["Status"]] += 1
        return await real_list(**params)

    fake.list_transcription_jobs = list_jobs  # type: ignore[method-assign]
    return counts


async def test_long_jobs_cost_one_get_each(fake: FakeTranscribe) -> None:
    """Jobs of one to three hours, shown unfinished by every sweep, are never read
    until a listing misses them: one Get per job, however long it runs."""
    rng = random.Random(7)
    refs = [JobRef(f"long-{i:02d}") for i in range(20)]
    for ref in refs:
        fake.start_job(ref.name, duration=rng.uniform(3600, 3 * 3600), queued_for=10)
    async with Poller(fake) as poller:
        events = await collect(poller, refs)
    assert all(e.outcome is Outcome.COMPLETED and e.polls == 1 for e in events)
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests == len(refs)


async def test_a_queued_backlog_is_not_listed_every_sweep() -> None:
    """300 jobs behind a cap of 25 (28 pages of 10 queued): the backlog is listed
    about once, then jobs are known queued until a later one is seen running."""
    fake = FakeTranscribe(concurrency=25)
    rng = random.Random(3)
    lists = count_lists(fake)
    refs = await start_batch(fake, [rng.uniform(60, 600) for _ in range(300)])
    async with Poller(fake, sweep=Sweep(page_size=10)) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests <= 1.05 * len(refs)
    # Every sweep lists IN_PROGRESS (three pages for 25 running jobs); QUEUED only
    # seldom: the first backlog listing and the rare job that ran between sweeps.
    assert lists["IN_PROGRESS"] >= stats.sweeps
    assert lists["QUEUED"] < 0.05 * lists["IN_PROGRESS"]
    for event in events:
        script = fake.script(event.job.name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at < 5


async def test_a_backlog_longer_than_the_old_page_limit_still_sweeps() -> None:
    """260 queued jobs take 26 pages of 10: more than the old limit of 20, within
    max_pages (100, enough for the service's 10,000), so sweeping never gives way to
    per-job Gets."""
    fake = FakeTranscribe(concurrency=40)
    lists = count_lists(fake)
    refs = await start_batch(fake, [120.0] * 300)
    async with Poller(fake, sweep=Sweep(page_size=10)) as poller:
        events = await collect(poller, refs)
    assert len(events) == len(refs)
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests <= 1.05 * len(refs)
    assert lists["QUEUED"] >= 26  # the backlog was listed whole at least once


async def test_lists_per_hour_stay_within_the_budget(fake: FakeTranscribe) -> None:
    """30 jobs running for an hour take three pages of 10 a sweep: sweeps slow to the
    List budget (1 request/s on average), not one every interval."""
    refs = [JobRef(f"budget-{i:03d}") for i in range(30)]
    for ref in refs:
        fake.start_job(ref.name, duration=3600, queued_for=0)
    lists = count_lists(fake)
    async with Poller(fake, sweep=Sweep(page_size=10)) as poller:
        events = await collect(poller, refs)
    elapsed = anyio.current_time()
    assert len(events) == 30
    budget = Sweep().list_budget
    total = sum(lists.values())
    # At most the budget over the run, plus the minute's burst it may save up and
    # the sweep under way at the end.
    assert total <= budget * elapsed + 60 * budget + 4
    assert total >= 0.9 * budget * 3600  # and it does sweep at that pace


async def test_the_tail_of_a_queue_that_ran_between_sweeps_is_found_soon() -> None:
    """Behind a cap of 1, the last job starts when the first ends and is over 0.1 s
    later: never seen running, and nothing created after it starts to show that it
    did. A short queue is looked for at every other sweep, so it is found within two
    intervals, not at its safety read (``stale_after``)."""
    fake = FakeTranscribe(concurrency=1)
    fake.start_job("first", duration=30, queued_for=0)
    await anyio.sleep(1)  # created later: FIFO inference applies
    fake.start_job("tail", duration=0.1, queued_for=0)
    async with Poller(fake, sweep=Sweep(mode="always")) as poller:
        events = await collect(poller, ["first", "tail"])
    assert [e.outcome for e in events] == [Outcome.COMPLETED] * 2
    tail = fake.script("tail")
    assert tail.first_terminal_read_at is not None
    # Two intervals, and the List pages' spacing (max_list_rate) within a sweep.
    assert tail.first_terminal_read_at - tail.terminal_at < 2 * Sweep().interval + 0.5


async def test_a_backlog_created_in_one_instant_is_found_as_soon() -> None:
    """600 jobs created in the same instant behind a cap of 50: creation times tie, so
    the frontier tells nothing about them; still each is reported within 3 s of its
    end (p95) and the backlog is not listed every sweep."""
    fake = FakeTranscribe(concurrency=50)
    rng = random.Random(5)
    lists = count_lists(fake)
    refs = [JobRef(f"tie-{i:03d}") for i in range(600)]
    for ref in refs:
        fake.start_job(ref.name, duration=rng.uniform(60, 600), queued_for=0)
    async with Poller(fake) as poller:
        seen: dict[str, float] = {}
        async with poller.watch(refs) as events:
            async for event in events:
                assert event.outcome is Outcome.COMPLETED
                seen[event.job.name] = anyio.current_time()
    late = sorted(at - fake.script(name).terminal_at for name, at in seen.items())
    p95 = late[int(0.95 * len(late))]
    print(f"tied creation times: p95 {p95:.2f} s, QUEUED listings {lists['QUEUED']}")
    assert p95 <= 3
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests <= 1.05 * len(refs)
