"""The scheduling logic on an in-memory client under a virtual clock.

Every test here runs on trio with ``trio.testing.MockClock(autojump_threshold=0)``
through anyio's pytest plugin: whenever every task waits, the clock jumps to the
next deadline, so a ten-minute schedule takes milliseconds and timings are exact
and repeatable. trio rather than asyncio with ``looptime``: the poller and
FakeTranscribe use anyio only, MockClock comes with trio itself, and running the
core on a second backend checks that nothing in it depends on asyncio.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio.testing

from transcribe_poller.testing import FakeTranscribe


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return "trio", {"clock": trio.testing.MockClock(autojump_threshold=0)}


@pytest.fixture
def fake() -> FakeTranscribe:
    return FakeTranscribe()
