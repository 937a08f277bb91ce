"""Cost per job independent of job length and backlog: long jobs, a queued backlog,
and the List budget."""

from __future__ import annotations

import collections
import heapq
import random
from typing import Any

import anyio
import pytest

from transcribe_poller import JobRef, Outcome, Poller, Sweep
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

pytestmark = pytest.mark.anyio


async def start_fifo(fake: FakeTranscribe, runs: list[float], cap: int) -> list[JobRef]:
    """Start jobs at 25/s behind a concurrency cap, first in first out, as the
    service queues them: each waits QUEUED for a slot, then runs for its time."""
    ends: list[float] = []
    refs = []
    for i, run in enumerate(runs):
        now = anyio.current_time()
        start = now if len(ends) < cap else max(now, heapq.heappop(ends))
        heapq.heappush(ends, start + run)
        refs.append(JobRef(f"fifo-{i:04d}"))
        fake.start_job(refs[-1].name, duration=start - now + run, queued_for=start - now)
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


async def test_a_queued_backlog_is_not_listed_every_sweep(fake: FakeTranscribe) -> None:
    """600 jobs behind a cap of 50: the backlog (six pages) is listed about once,
    then jobs are known queued until a later one is seen running; one Get each."""
    rng = random.Random(3)
    lists = count_lists(fake)
    runs = [rng.uniform(60, 600) for _ in range(600)]
    refs = await start_fifo(fake, runs, cap=50)
    async with Poller(fake) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests <= 1.05 * len(refs)
    # Every sweep lists IN_PROGRESS (one page for 50 running jobs); QUEUED only
    # seldom: the first backlog listing and the rare job that ran between sweeps.
    assert lists["IN_PROGRESS"] >= stats.sweeps
    assert lists["QUEUED"] < 0.05 * lists["IN_PROGRESS"]
    for event in events:
        script = fake.script(event.job.name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at < 5


async def test_a_backlog_longer_than_the_old_page_limit_still_sweeps(
    fake: FakeTranscribe,
) -> None:
    """2,500 queued jobs take 25 pages: more than 20, less than max_pages (100), so
    sweeping never gives way to per-job Gets."""
    lists = count_lists(fake)
    refs = await start_fifo(fake, [120.0] * 2600, cap=100)
    async with Poller(fake) as poller:
        events = await collect(poller, refs)
    assert len(events) == len(refs)
    assert fake.traffic().by_operation["GetTranscriptionJob"].requests <= 1.05 * len(refs)
    assert lists["QUEUED"] >= 25  # the backlog was listed whole at least once


async def test_lists_per_hour_stay_within_the_budget(fake: FakeTranscribe) -> None:
    """300 jobs running for two hours take three pages a sweep: sweeps slow to the
    List budget (1 request/s on average), not one every interval."""
    refs = [JobRef(f"budget-{i:03d}") for i in range(300)]
    for ref in refs:
        fake.start_job(ref.name, duration=7200, queued_for=0)
    lists = count_lists(fake)
    async with Poller(fake) as poller:
        events = await collect(poller, refs)
    elapsed = anyio.current_time()
    assert len(events) == 300
    budget = Sweep().list_budget
    total = sum(lists.values())
    # At most the budget over the run, plus the minute's burst it may save up and
    # the sweep under way at the end.
    assert total <= budget * elapsed + 60 * budget + 4
    assert total >= 0.9 * budget * 7200  # and it does sweep at that pace
