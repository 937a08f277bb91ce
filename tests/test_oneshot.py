"""The conveniences for scripts: open_poller and wait_for_jobs with their own client."""

from __future__ import annotations

import pytest

from transcribe_poller import JobRef, Outcome, wait_for_jobs
from transcribe_poller.testing import LocalTranscribe

pytestmark = pytest.mark.anyio


async def test_wait_for_jobs_returns_events_in_the_order_given(
    local_transcribe: LocalTranscribe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events come back in input order, one per distinct job, from the client it opened."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local_transcribe.start_job("late", duration=0.6)
    local_transcribe.start_job("early", kind="medical", duration=0.1, fail_with="silence")
    events = await wait_for_jobs(
        ["late", JobRef.medical("early"), "late"],
        region=local_transcribe.region,
        endpoint_url=local_transcribe.endpoint_url,
    )
    assert [(e.job.name, e.outcome) for e in events] == [
        ("late", Outcome.COMPLETED),
        ("early", Outcome.FAILED),
    ]
    assert events[1].failure_reason == "silence"
    assert await wait_for_jobs([]) == []
