"""The testing kit under pytest-asyncio, as many users write their tests.

pytest-asyncio runs here in strict mode beside anyio's plugin; the local test bed
fixtures are synchronous, so they serve either.
"""

from __future__ import annotations

import pytest

from transcribe_poller import Outcome, Poller
from transcribe_poller.testing import LocalTranscribe


@pytest.mark.asyncio
async def test_poller_under_pytest_asyncio(local_transcribe: LocalTranscribe) -> None:
    """A pytest-asyncio test awaits a scripted job through the fixture."""
    local_transcribe.start_job("under-asyncio", duration=0.2, redaction="redacted")
    async with local_transcribe.client() as client, Poller(client) as poller:
        event = await poller.wait("under-asyncio")
    assert event.outcome is Outcome.COMPLETED
    assert event.redacted_transcript_uri is not None
