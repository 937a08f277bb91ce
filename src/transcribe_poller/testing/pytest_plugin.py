"""pytest fixtures for the test doubles, registered when transcribe-poller is installed.

The fixtures are synchronous: the local test bed runs in its own threads and the fake
needs no loop to be made, so they work the same under anyio's pytest plugin,
pytest-asyncio in any mode, or plain tests.

The plugin also warns when pytest-asyncio's auto mode takes over tests marked
``@pytest.mark.anyio``: they then run on asyncio in real time, whatever clock the
``anyio_backend`` fixture asks for.
"""

from __future__ import annotations

import warnings
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Say so when pytest-asyncio's auto mode runs the tests marked for anyio.

    In auto mode pytest-asyncio runs every coroutine test itself, those marked
    ``@pytest.mark.anyio`` included: on asyncio, in real time. A virtual clock asked
    for by ``anyio_backend`` (trio's ``MockClock``) is silently ignored, and a test
    that awaits a ten-minute job takes ten minutes.
    """
    if _asyncio_mode(config) != "auto":
        return
    taken = [item.nodeid for item in items if item.get_closest_marker("anyio")]
    if taken:
        warnings.warn(
            pytest.PytestWarning(
                f"pytest-asyncio in auto mode runs the {len(taken)} test(s) marked "
                f"@pytest.mark.anyio (first: {taken[0]}) on asyncio in real time: the "
                "anyio_backend fixture, and a virtual clock it gives, are ignored. Set "
                'asyncio_mode = "strict" in your pytest configuration and mark '
                "pytest-asyncio's own tests with @pytest.mark.asyncio."
            ),
            stacklevel=1,
        )


def _asyncio_mode(config: pytest.Config) -> str | None:
    """pytest-asyncio's mode (``auto``, ``strict``), or None when it is not in use."""
    if not config.pluginmanager.hasplugin("asyncio"):
        return None
    mode = config.getoption("asyncio_mode", None)
    if mode is None:
        try:
            mode = config.getini("asyncio_mode")
        except ValueError:  # a pytest-asyncio that registers no such setting
            return None
    return str(getattr(mode, "value", mode))
