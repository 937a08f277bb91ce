"""The testing kit under pytest-asyncio, as many users write their tests.

pytest-asyncio runs here in strict mode beside anyio's plugin; the local test bed
fixtures are synchronous, so they serve either.
"""

from __future__ import annotations

import pytest

from transcribe_poller import Backoff, Outcome, Poller
from transcribe_poller.testing import FakeTranscribe, LocalTranscribe


@pytest.mark.asyncio
async def test_poller_under_pytest_asyncio(local_transcribe: LocalTranscribe) -> None:
    """A pytest-asyncio test awaits a scripted job through the fixture."""
    local_transcribe.start_job("under-asyncio", duration=0.2, redaction="redacted")
    async with local_transcribe.client() as client, Poller(client) as poller:
        event = await poller.wait("under-asyncio")
    assert event.outcome is Outcome.COMPLETED
    assert event.redacted_transcript_uri is not None


@pytest.mark.asyncio
async def test_fake_under_pytest_asyncio(fake_transcribe: FakeTranscribe) -> None:
    """The in-memory fake serves a pytest-asyncio test through its fixture."""
    fake_transcribe.start_job("fast", duration=0.05, fail_with="bad audio")
    async with Poller(fake_transcribe, backoff=Backoff(initial=0.02, maximum=0.05)) as poller:
        event = await poller.wait("fast")
    assert event.outcome is Outcome.FAILED
    assert event.failure_reason == "bad audio"
    assert fake_transcribe.traffic().job("fast").requests == event.polls
