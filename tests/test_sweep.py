"""Sweeps against the local test bed: real List answers, NextToken paging, jobs ending
while a sweep pages through them. The sweep's logic is tested on a virtual clock in
tests/virtual/test_sweeping.py."""

from __future__ import annotations

import pytest

from transcribe_poller import Backoff, JobRef, Poller, Sweep
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


async def test_listing_that_races_with_completions_gives_right_events(
    local_transcribe: LocalTranscribe,
) -> None:
    """Jobs end while a sweep pages through them: every event is still right, and once."""
    expected = start_batch(local_transcribe, standard=60, medical=30, shortest=0.5, longest=2.5)
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
    # A Get and a List limit for each kind awaited (one unknown Call Analytics job).
    assert set(stats.rate_limits) == {
        "GetTranscriptionJob",
        "GetMedicalTranscriptionJob",
        "GetCallAnalyticsJob",
        "ListTranscriptionJobs",
        "ListMedicalTranscriptionJobs",
        "ListCallAnalyticsJobs",
    }
    # Each finished job needs about one Get: hints are rarely wrong.
    gets = stats.requests - stats.list_requests
    assert gets < 2 * len(expected)
