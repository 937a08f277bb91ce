"""pytest fixtures for the test doubles, registered when transcribe-poller is installed.

The fixtures are synchronous: the local test bed runs in its own threads and the fake
needs no loop to be made, so they work the same under anyio's pytest plugin,
pytest-asyncio in any mode, or plain tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._bed import LocalTranscribe
    from ._fake import FakeTranscribe


@pytest.fixture
def fake_transcribe() -> FakeTranscribe:
    """A fresh in-memory Transcribe client: no sockets, jobs on the event loop's clock."""
    from ._fake import FakeTranscribe

    return FakeTranscribe()


@pytest.fixture(scope="session")
def local_transcribe_server() -> Iterator[LocalTranscribe]:
    """One local Transcribe for the whole test session."""
    from ._bed import LocalTranscribe

    with LocalTranscribe() as bed:
        yield bed


@pytest.fixture
def local_transcribe(local_transcribe_server: LocalTranscribe) -> Iterator[LocalTranscribe]:
    """The session's local Transcribe, with no jobs, faults or counts left from before."""
    local_transcribe_server.reset()
    yield local_transcribe_server
    local_transcribe_server.reset()


@pytest.fixture
def local_transcribe_events(local_transcribe: LocalTranscribe) -> LocalTranscribe:
    """``local_transcribe`` with job state events on: every standard and Call Analytics
    job's end reaches the SQS queue at ``events_queue_url`` (read it with
    ``sqs_client()``). The reset after the test turns them off."""
    local_transcribe.enable_events()
    return local_transcribe
