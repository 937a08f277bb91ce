"""The testing kit under pytest-asyncio, as many users write their tests.

pytest-asyncio runs here in strict mode beside anyio's plugin; the local test bed
fixtures are synchronous, so they serve either.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from transcribe_poller import Backoff, JobRef, Outcome, Poller
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


@pytest.mark.asyncio
async def test_transcripts_under_pytest_asyncio(
    local_transcribe: LocalTranscribe, fake_transcribe: FakeTranscribe
) -> None:
    """Download code tested end to end under pytest-asyncio, on both doubles: a
    presigned URI over HTTP on 127.0.0.1, a medical job's output through moto's S3,
    and the fake's in memory."""
    text = "Please take one tablet daily."
    local_transcribe.start_job("note", duration=0.2, transcript=text)
    local_transcribe.start_job("visit", kind="medical", duration=0.2, transcript=text)
    async with (
        local_transcribe.client() as client,
        local_transcribe.s3_client() as s3,
        Poller(client, s3=s3) as poller,
    ):
        note = await poller.fetch_transcript(await poller.wait("note"))
        visit = await poller.fetch_transcript(await poller.wait(JobRef.medical("visit")))
    assert note.text == visit.text == text
    fake_transcribe.start_job("fake-note", duration=0.05, transcript=text, speakers=2)
    async with Poller(fake_transcribe, backoff=Backoff(initial=0.02, maximum=0.05)) as poller:
        read = await poller.fetch_transcript(await poller.wait("fake-note"))
    assert read.text == text
    assert read.segments[0].speaker == "spk_0"


VIRTUAL_CLOCK_TEST = """
import anyio
import pytest
import trio.testing


@pytest.fixture
def anyio_backend():
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.mark.anyio
async def test_a_long_wait():
    await anyio.sleep(0)
"""


@pytest.mark.parametrize(("mode", "warned"), [("auto", True), ("strict", False)])
def test_auto_mode_taking_anyio_tests_is_named(tmp_path: Path, mode: str, warned: bool) -> None:
    """In pytest-asyncio's auto mode, the plugin warns that tests marked for anyio run
    in real time, and names the fix; in strict mode it says nothing."""
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nasyncio_mode = {mode}\n")
    (tmp_path / "test_virtual.py").write_text(VIRTUAL_CLOCK_TEST)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_virtual.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    said = "pytest-asyncio in auto mode runs the 1 test(s) marked @pytest.mark.anyio" in done.stdout
    assert said is warned, done.stdout
    assert ('asyncio_mode = "strict"' in done.stdout) is warned
