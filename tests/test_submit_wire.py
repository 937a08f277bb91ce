"""Submitting batches over the wire: real aiobotocore clients, Start requests through the
local bed's fault proxy. What only the wire shows: botocore's own checks of a Start
(ParamValidationError), the service's LimitExceededException and ConflictException
as HTTP 400 answers, 500s and dropped connections on Start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from transcribe_poller import Outcome, Poller, StartRefusedError
from transcribe_poller.testing import LocalTranscribe

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def small_account() -> Iterator[LocalTranscribe]:
    """A bed whose account runs two standard jobs at once, each for a second."""
    with LocalTranscribe(concurrency={"standard": 2}, run_time=1.0) as bed:
        yield bed


@pytest.fixture
def bed(small_account: LocalTranscribe) -> Iterator[LocalTranscribe]:
    small_account.reset()
    yield small_account
    small_account.reset()


def standard(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://media/{name}.wav"},
        "LanguageCode": "en-US",
        **extra,
    }


async def run(poller: Poller, requests: list[Any]) -> dict[str, Any]:
    with anyio.fail_after(60):
        async with poller.submit(requests) as events:
            return {event.job.name: event async for event in events}


async def test_the_accounts_cap_and_faults_never_reach_the_caller(bed: LocalTranscribe) -> None:
    """The account allows 2 (the poller assumes 250): its LimitExceededException
    answers, 500s and dropped connections on Start only delay the batch."""
    bed.set_faults(error_rate=0.2, drop_rate=0.1)
    async with bed.client(max_attempts=1) as client, Poller(client) as poller:
        events = await run(poller, [standard(f"w-{i}") for i in range(6)])
    assert {e.outcome for e in events.values()} == {Outcome.COMPLETED}
    assert len(events) == 6
    assert len(bed.scripts) == 6
    starts = bed.traffic().by_operation["StartTranscriptionJob"]
    assert starts.requests > 6  # some refused or faulted, retried


async def test_a_rerun_adopts_over_the_wire(bed: LocalTranscribe) -> None:
    """ConflictException arrives as the service sends it; the same media is adopted."""
    async with bed.client() as client, Poller(client) as poller:
        first = await run(poller, [standard("again-1"), standard("again-2")])
        again = await run(poller, [standard("again-1"), standard("again-2"), standard("new")])
    assert set(first) == {"again-1", "again-2"}
    assert {name: e.outcome for name, e in again.items()} == dict.fromkeys(
        ("again-1", "again-2", "new"), Outcome.COMPLETED
    )
    assert len(bed.scripts) == 3


async def test_botocore_refusing_a_request_is_that_jobs_error(bed: LocalTranscribe) -> None:
    async with bed.client() as client, Poller(client) as poller:
        events = await run(
            poller, [standard("typo", LanguageCode=3), standard("fine", MediaFormat="wav")]
        )
    assert events["fine"].outcome is Outcome.COMPLETED
    bad = events["typo"]
    assert bad.outcome is Outcome.ERROR
    assert isinstance(bad.error, StartRefusedError)
    assert "Invalid type for parameter LanguageCode" in str(bad.error)
