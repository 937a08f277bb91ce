"""Sweeps: listing unfinished jobs to learn which of many have ended."""

from __future__ import annotations

import random

import anyio
import pytest
import structlog

from transcribe_poller import Backoff, JobRef, Outcome, Poller, Sweep
from transcribe_poller._sweep import shared_part
from transcribe_poller.testing import LocalTranscribe

from ._batch import check_event, start_batch

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.2, maximum=1.0)


async def watch_all(poller: Poller, jobs: list[JobRef]) -> dict[JobRef, object]:
    events = {}
    async with poller.watch(jobs) as stream:
        async for event in stream:
            assert event.job not in events, "one event per job"
            events[event.job] = event
    return events


def test_shared_part_is_the_longest_common_prefix_or_suffix() -> None:
    """JobNameContains comes from a prefix or suffix the names share, if long enough."""
    assert shared_part(["batch-7-a", "batch-7-bb", "batch-7-"]) == "batch-7-"
    assert shared_part(["a-nightly", "bb-nightly"]) == "-nightly"
    assert shared_part(["ab", "abc"]) is None  # too short to filter by
    assert shared_part(["x1", "y1"]) is None
    assert shared_part([]) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "sometimes"}, "mode"),
        ({"threshold": 0}, "threshold"),
        ({"page_size": 101}, "page_size"),
        ({"max_list_rate": 0}, "max_list_rate"),
        ({"interval": float("nan")}, "interval"),
    ],
)
def test_bad_sweep_settings(kwargs: dict[str, object], field: str) -> None:
    """Each bad Sweep setting raises ValueError naming it."""
    with pytest.raises(ValueError, match=field):
        Sweep(**kwargs)  # type: ignore[arg-type]


async def test_listing_that_races_with_completions_gives_right_events(
    local_transcribe: LocalTranscribe,
) -> None:
    """Jobs end while a sweep pages through them: every event is still right, and once."""
    expected = start_batch(local_transcribe, standard=120, medical=40, shortest=0.5, longest=3)
    sweep = Sweep(mode="always", page_size=10, max_list_rate=40, interval=0.2)
    async with (
        local_transcribe.client() as client,
        Poller(client, backoff=FAST, not_found_grace=1.0, sweep=sweep) as poller,
    ):
        events = await watch_all(poller, list(expected))
        stats = poller.statistics()
    assert set(events) == set(expected)
    for ref, event in events.items():
        check_event(event, expected[ref])  # type: ignore[arg-type]
    assert stats.sweeps > 0
    assert stats.list_pages > stats.sweeps  # several pages per sweep
    assert set(stats.rate_limits) == {
        "GetTranscriptionJob",
        "GetMedicalTranscriptionJob",
        "ListTranscriptionJobs",
        "ListMedicalTranscriptionJobs",
    }
    # Each finished job needs about one Get: hints are rarely wrong.
    gets = stats.requests - stats.list_requests
    assert gets < 2 * len(expected)


async def test_unwatched_jobs_in_the_account_cost_nothing(
    local_transcribe: LocalTranscribe,
) -> None:
    """300 other jobs run in the account: JobNameContains keeps them out of the listing,
    and none of them is ever read."""
    for i in range(300):
        local_transcribe.start_job(f"other-{i:03d}", duration=600, queued_for=0)
    rng = random.Random(2)
    watched = [JobRef(f"batch-{i:03d}") for i in range(40)]
    for ref in watched:
        local_transcribe.start_job(ref.name, duration=rng.uniform(0.5, 3))
    async with (
        local_transcribe.client() as client,
        Poller(client, backoff=FAST, sweep=Sweep(interval=0.5)) as poller,
    ):
        events = await watch_all(poller, watched)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events.values())  # type: ignore[attr-defined]
    traffic = local_transcribe.traffic()
    assert all(traffic.job(f"other-{i:03d}").requests == 0 for i in range(300))
    assert stats.sweeps > 0
    # One page of QUEUED and one of IN_PROGRESS per sweep: the 300 others are filtered out.
    assert stats.list_pages == pytest.approx(2 * stats.sweeps, abs=2)


async def test_paging_over_several_pages(local_transcribe: LocalTranscribe) -> None:
    """With 10 summaries a page, sweeps follow NextToken across pages and miss nothing."""
    rng = random.Random(4)
    watched = [JobRef(f"paged-{i:03d}") for i in range(60)]
    for ref in watched:
        local_transcribe.start_job(ref.name, duration=rng.uniform(1, 4), queued_for=0.5)
    sweep = Sweep(page_size=10, max_list_rate=50, interval=0.3)
    async with (
        local_transcribe.client() as client,
        Poller(client, backoff=FAST, sweep=sweep) as poller,
    ):
        events = await watch_all(poller, watched)
        stats = poller.statistics()
    assert set(events) == set(watched)
    assert stats.list_pages >= 3 * stats.sweeps / 2
    assert max(e.polls for e in events.values()) <= 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "quota",
    [
        {"ListTranscriptionJobs": (1, 1), "ListMedicalTranscriptionJobs": (1, 1)},
        {"GetTranscriptionJob": (8, 8), "GetMedicalTranscriptionJob": (8, 8)},
    ],
    ids=["list-throttled", "get-throttled"],
)
async def test_throttling_of_one_operation_loses_nothing(
    local_transcribe: LocalTranscribe, quota: dict[str, tuple[float, float]]
) -> None:
    """List throttled while Get is not, and the reverse: every job still gets its event."""
    expected = start_batch(local_transcribe, standard=60, medical=30, shortest=0.5, longest=3)
    local_transcribe.set_faults(quota=quota)  # type: ignore[arg-type]
    async with (
        local_transcribe.client() as client,
        Poller(client, backoff=FAST, not_found_grace=1.0, sweep=Sweep(interval=0.3)) as poller,
    ):
        events = await watch_all(poller, list(expected))
        stats = poller.statistics()
    assert set(events) == set(expected)
    for ref, event in events.items():
        check_event(event, expected[ref])  # type: ignore[arg-type]
    assert stats.throttled > 0
    assert stats.list_requests > 0


async def test_few_jobs_are_polled_one_by_one(local_transcribe: LocalTranscribe) -> None:
    """Below the threshold the poller never lists: per-job Gets are cheaper."""
    for i in range(5):
        local_transcribe.start_job(f"few-{i}", duration=0.5)
    async with local_transcribe.client() as client, Poller(client, backoff=FAST) as poller:
        events = await watch_all(poller, [JobRef(f"few-{i}") for i in range(5)])
        stats = poller.statistics()
    assert len(events) == 5
    assert stats.list_requests == 0
    assert "ListTranscriptionJobs" not in local_transcribe.traffic().by_operation


async def test_denied_list_falls_back_to_gets(local_transcribe: LocalTranscribe) -> None:
    """Without permission to List, the poller warns once and polls each job with Get."""
    rng = random.Random(9)
    watched = [JobRef(f"deny-{i:02d}") for i in range(30)]
    for ref in watched:
        local_transcribe.start_job(ref.name, duration=rng.uniform(0.5, 2))
    local_transcribe.set_faults(denied=["ListTranscriptionJobs"])
    with structlog.testing.capture_logs() as logs:
        async with (
            local_transcribe.client() as client,
            Poller(client, backoff=FAST, sweep=Sweep(mode="always")) as poller,
        ):
            events = await watch_all(poller, watched)
    assert all(e.outcome is Outcome.COMPLETED for e in events.values())  # type: ignore[attr-defined]
    warnings = [entry for entry in logs if entry["event"].startswith("sweeping stopped")]
    assert len(warnings) == 1
    assert "AccessDeniedException" in warnings[0]["reason"]
    assert local_transcribe.traffic().by_operation["ListTranscriptionJobs"].requests == 1


async def test_an_outage_pauses_sweeping_for_a_while_only(
    local_transcribe: LocalTranscribe,
) -> None:
    """Faults on List in a row make the poller fall back for a minute, not for good."""
    rng = random.Random(5)
    watched = [JobRef(f"blip-{i:02d}") for i in range(30)]
    for ref in watched:
        local_transcribe.start_job(ref.name, duration=rng.uniform(2, 4))
    with structlog.testing.capture_logs() as logs:
        async with (
            local_transcribe.client(max_attempts=1) as client,
            Poller(client, backoff=FAST, sweep=Sweep(mode="always"), max_faults=100) as poller,
            anyio.create_task_group() as tg,
        ):
            # Longer than the sweeper's retries of one List can last (at most 7 s).
            tg.start_soon(anyio.to_thread.run_sync, local_transcribe.outage, 10.0)
            events = await watch_all(poller, watched)
    assert all(e.outcome is Outcome.COMPLETED for e in events.values())  # type: ignore[attr-defined]
    warnings = [entry for entry in logs if entry["event"].startswith("sweeping stopped")]
    assert warnings
    assert all(entry["for_seconds"] == 60.0 for entry in warnings)


async def test_list_throttled_for_long_gives_way_to_gets(
    local_transcribe: LocalTranscribe,
) -> None:
    """With List starved by its quota, jobs are not left waiting for their stale read."""
    names = [f"starved-{i}" for i in range(12)]
    for name in names:
        local_transcribe.start_job(name, duration=1)
    local_transcribe.set_faults(quota={"ListTranscriptionJobs": (0.02, 1)})
    with structlog.testing.capture_logs() as logs:
        async with (
            local_transcribe.client() as client,
            Poller(client, backoff=FAST, sweep=Sweep(interval=0.3, stale_after=120)) as poller,
        ):
            events = await watch_all(poller, [JobRef(name) for name in names])
    assert all(e.outcome is Outcome.COMPLETED for e in events.values())  # type: ignore[attr-defined]
    # Ten intervals (3 s) of throttling, then Gets: far sooner than the 120 s stale read.
    assert max(e.waited for e in events.values()) < 15  # type: ignore[attr-defined]
    warnings = [entry for entry in logs if entry["event"].startswith("sweeping stopped")]
    assert warnings
    assert "List throttled" in warnings[0]["reason"]
