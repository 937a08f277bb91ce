"""Every kind of job a botocore waiter covers, and URIs that stay usable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import botocore.exceptions
import pytest

from transcribe_poller import JobKind, JobRef, Outcome, Poller, Sweep
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

pytestmark = pytest.mark.anyio


def test_job_refs_of_every_kind() -> None:
    """Each kind has a constructor, a `kind:name` spelling, and accepts its value."""
    assert JobRef.call_analytics("c").kind is JobKind.CALL_ANALYTICS
    assert JobRef.medical_scribe("s").kind is JobKind.MEDICAL_SCRIBE
    assert JobRef("c", "call-analytics") == JobRef.call_analytics("c")
    assert str(JobRef.medical_scribe("s")) == "medical-scribe:s"
    assert str(JobRef("plain")) == "plain"
    with pytest.raises(ValueError, match="'call-analytics' or 'medical-scribe'"):
        JobRef("x", "analytics")  # type: ignore[arg-type]


async def test_each_kind_ends_with_what_it_produces(fake: FakeTranscribe) -> None:
    """Call Analytics gives its (redacted) transcript; Medical Scribe its transcript and
    clinical document; failures carry their reasons; unknown names are NOT_FOUND."""
    fake.start_job("call-1", kind="call-analytics", duration=20, redaction="redacted")
    fake.start_job("call-2", kind="call-analytics", duration=25, fail_with="no channels")
    fake.start_job("visit-1", kind="medical-scribe", duration=30)
    fake.start_job("visit-2", kind="medical-scribe", duration=15, fail_with="too short")
    jobs = [
        JobRef.call_analytics("call-1"),
        JobRef.call_analytics("call-2"),
        JobRef.medical_scribe("visit-1"),
        JobRef.medical_scribe("visit-2"),
        JobRef.call_analytics("nobody"),
    ]
    async with Poller(fake) as poller:
        events = {str(e.job): e for e in await collect(poller, jobs)}
        stats = poller.statistics()
    call = events["call-analytics:call-1"]
    assert call.outcome is Outcome.COMPLETED
    assert call.redacted_transcript_uri is not None
    assert call.transcript_uri is None
    assert call.details["CallAnalyticsJobDetails"] == {"Skipped": []}
    assert events["call-analytics:call-2"].failure_reason == "no channels"
    visit = events["medical-scribe:visit-1"]
    assert visit.outcome is Outcome.COMPLETED
    assert visit.transcript_uri is not None
    assert visit.clinical_document_uri is not None
    assert visit.clinical_document_uri in visit.uris
    assert visit.to_dict()["clinical_document_uri"] == visit.clinical_document_uri
    assert visit.expires_at is None  # in the caller's bucket: not presigned
    assert events["medical-scribe:visit-2"].failure_reason == "too short"
    assert events["call-analytics:nobody"].outcome is Outcome.NOT_FOUND
    assert stats.kinds[JobKind.CALL_ANALYTICS].outcomes[Outcome.COMPLETED] == 1
    assert stats.kinds[JobKind.MEDICAL_SCRIBE].outcomes[Outcome.FAILED] == 1
    traffic = fake.traffic()
    assert traffic.job(JobRef.medical_scribe("visit-1")).requests == visit.polls


@pytest.mark.parametrize("kind", [JobKind.CALL_ANALYTICS, JobKind.MEDICAL_SCRIBE])
async def test_large_batches_of_each_kind_are_swept(fake: FakeTranscribe, kind: JobKind) -> None:
    """40 jobs of the new kinds are swept with their own List operation."""
    refs = [JobRef(f"b-{i:02d}", kind) for i in range(40)]
    for i, ref in enumerate(refs):
        fake.start_job(ref.name, kind=kind, duration=20 + i)
    async with Poller(fake) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert stats.sweeps > 0
    list_operation = {
        JobKind.CALL_ANALYTICS: "ListCallAnalyticsJobs",
        JobKind.MEDICAL_SCRIBE: "ListMedicalScribeJobs",
    }[kind]
    assert fake.traffic().by_operation[list_operation].requests == stats.list_requests
    assert stats.requests - stats.list_requests < 1.5 * len(refs)


async def test_an_event_older_than_its_uris_is_refreshed_with_one_get(
    fake: FakeTranscribe,
) -> None:
    """A presigned URI expires 900 s after its Get; refresh() gives fresh ones with one
    Get and keeps everything else."""
    fake.start_job("talk", duration=5, redaction="redacted_and_unredacted", subtitles=["vtt"])
    async with Poller(fake) as poller:
        event = await poller.wait("talk")
        assert event.expires_at is not None
        signed = event.expires_at - timedelta(seconds=900)
        await anyio.sleep(1000)  # the URIs are dead now
        gets = fake.traffic().job("talk").requests
        fresh = await poller.refresh(event)
    assert fake.traffic().job("talk").requests == gets + 1
    assert fresh.expires_at is not None
    assert fresh.expires_at - signed >= timedelta(seconds=900 + 1000)
    assert fresh.transcript_uri != event.transcript_uri
    assert fresh.redacted_transcript_uri != event.redacted_transcript_uri
    assert fresh.subtitle_uris != event.subtitle_uris
    assert (fresh.job, fresh.outcome, fresh.polls, fresh.waited) == (
        event.job,
        event.outcome,
        event.polls,
        event.waited,
    )


async def test_refresh_refuses_what_has_no_uris_and_raises_service_errors(
    fake: FakeTranscribe,
) -> None:
    """Only COMPLETED events are refreshed; a job gone since is an error raised."""
    fake.start_job("bad", duration=1, fail_with="corrupt")
    fake.start_job("gone", duration=1)
    async with Poller(fake) as poller:
        failed = await poller.wait("bad")
        done = await poller.wait("gone")
        with pytest.raises(ValueError, match="only a COMPLETED event"):
            await poller.refresh(failed)
        fake.reset()
        with pytest.raises(botocore.exceptions.ClientError, match="couldn't be found"):
            await poller.refresh(done)


async def test_refresh_retries_throttling(fake: FakeTranscribe) -> None:
    """A throttled refresh waits for the quota rather than failing."""
    fake.start_job("busy", duration=1)
    async with Poller(fake, sweep=Sweep(mode="never")) as poller:
        event = await poller.wait("busy")
        fake.set_faults(quota={"GetTranscriptionJob": (0.5, 1)})
        # The bucket starts full: the first refresh passes, the second is throttled.
        first = await poller.refresh(event)
        second = await poller.refresh(first)
    assert second.outcome is Outcome.COMPLETED
    assert fake.traffic().by_operation["GetTranscriptionJob"].throttled >= 1


async def test_a_client_without_a_kind_serves_the_others() -> None:
    """A client lacking the Call Analytics operations ends those jobs with ERROR naming
    the method; its standard jobs complete."""

    class OldClient(FakeTranscribe):
        def __getattribute__(self, name: str) -> Any:
            if "call_analytics" in name:
                raise AttributeError(name)
            return super().__getattribute__(name)

    old = OldClient()
    old.start_job("std", duration=2)
    async with Poller(old) as poller:
        events = {
            e.job.kind: e for e in await collect(poller, ["std", JobRef.call_analytics("ca")])
        }
    assert events[JobKind.STANDARD].outcome is Outcome.COMPLETED
    ca = events[JobKind.CALL_ANALYTICS]
    assert ca.outcome is Outcome.ERROR
    assert "get_call_analytics_job" in (ca.failure_reason or "")
