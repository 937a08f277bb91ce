"""A user's own service on FakeTranscribe: it starts jobs and awaits them, behind the
account's concurrency cap, in virtual time."""

from __future__ import annotations

import anyio
import pytest

from transcribe_poller import CompletionEvent, JobRef, Outcome, Poller
from transcribe_poller.testing import FakeTranscribe

pytestmark = pytest.mark.anyio

ROLE = "arn:aws:iam::123456789012:role/transcribe-queue"


async def transcribe(client: FakeTranscribe, poller: Poller, name: str) -> CompletionEvent:
    """What a service would write: start a job (queued if the account is busy), await it."""
    await client.start_transcription_job(
        TranscriptionJobName=name,
        Media={"MediaFileUri": f"s3://uploads/{name}.mp3"},
        LanguageCode="en-US",
        JobExecutionSettings={"AllowDeferredExecution": True, "DataAccessRoleArn": ROLE},
    )
    return await poller.wait(name)


async def test_a_service_that_starts_and_awaits_its_jobs_runs_on_the_fake() -> None:
    """Six jobs of 60 s behind a cap of two run two at a time, first in, first out:
    each ends at the real end of its script and the poller sees every one."""
    fake = FakeTranscribe(concurrency=2, run_time=60)
    began = anyio.current_time()
    events: dict[str, CompletionEvent] = {}
    async with Poller(fake) as poller:

        async def one(name: str) -> None:
            events[name] = await transcribe(fake, poller, name)

        async with anyio.create_task_group() as group:
            for i in range(6):
                group.start_soon(one, f"call-{i}")
                await anyio.sleep(1)  # arrivals a second apart, so the order is known
    assert all(event.outcome is Outcome.COMPLETED for event in events.values())
    ends = [fake.script(f"call-{i}").terminal_at - began for i in range(6)]
    assert ends == [60, 61, 120, 121, 180, 181]
    for i in range(6):
        script = fake.script(f"call-{i}")
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at < 10
    assert fake.traffic().by_operation["StartTranscriptionJob"].requests == 6
    assert events["call-5"].job == JobRef("call-5")
