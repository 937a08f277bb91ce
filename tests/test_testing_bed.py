"""The local test bed: scripted jobs behave like the real service, read by real clients."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from botocore.exceptions import ClientError

from transcribe_poller import JobKind
from transcribe_poller.testing import LocalTranscribe

pytestmark = pytest.mark.anyio


async def sleep_until(wall_time: float) -> None:
    await anyio.sleep(max(0.0, wall_time - time.time()) + 0.02)


async def test_scripted_job_moves_through_statuses_on_the_wall_clock(
    local_transcribe: LocalTranscribe,
) -> None:
    """QUEUED, then IN_PROGRESS after queued_for, then COMPLETED after duration."""
    script = local_transcribe.start_job("timed", duration=3.0, queued_for=1.5)
    async with local_transcribe.client() as client:
        seen = [(await client.get_transcription_job(TranscriptionJobName="timed"))]
        await sleep_until(script.started_at + 1.5)
        seen.append(await client.get_transcription_job(TranscriptionJobName="timed"))
        await sleep_until(script.terminal_at)
        seen.append(await client.get_transcription_job(TranscriptionJobName="timed"))
    statuses = [answer["TranscriptionJob"]["TranscriptionJobStatus"] for answer in seen]
    assert statuses == ["QUEUED", "IN_PROGRESS", "COMPLETED"]
    done = seen[-1]["TranscriptionJob"]
    # Presigned, and served by the bed itself on 127.0.0.1.
    assert done["Transcript"]["TranscriptFileUri"].startswith(f"{local_transcribe.endpoint_url}/")
    assert "RedactedTranscriptFileUri" not in done["Transcript"]
    assert done["StartTime"] <= done["CompletionTime"]
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at >= script.terminal_at


async def test_reads_do_not_advance_a_scripted_job(local_transcribe: LocalTranscribe) -> None:
    """Unlike moto's own jobs, reading a scripted job many times does not move it."""
    local_transcribe.start_job("slow", duration=600)
    async with local_transcribe.client() as client:
        for _ in range(4):
            answer = await client.get_transcription_job(TranscriptionJobName="slow")
            assert answer["TranscriptionJob"]["TranscriptionJobStatus"] == "QUEUED"


async def test_failed_job_reports_its_reason_in_get_and_list(
    local_transcribe: LocalTranscribe,
) -> None:
    """A job scripted to fail answers FAILED with the FailureReason and no transcript."""
    reason = "The media format provided does not match the detected media format."
    local_transcribe.start_job("broken", duration=0, fail_with=reason)
    async with local_transcribe.client() as client:
        job = (await client.get_transcription_job(TranscriptionJobName="broken"))[
            "TranscriptionJob"
        ]
        listed = await client.list_transcription_jobs(Status="FAILED")
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == reason
    assert "Transcript" not in job
    [summary] = listed["TranscriptionJobSummaries"]
    assert (summary["TranscriptionJobName"], summary["FailureReason"]) == ("broken", reason)


@pytest.mark.parametrize(
    ("mode", "keys"),
    [
        ("redacted", {"RedactedTranscriptFileUri"}),
        ("redacted_and_unredacted", {"RedactedTranscriptFileUri", "TranscriptFileUri"}),
    ],
)
async def test_redaction_modes_shape_the_transcript(
    local_transcribe: LocalTranscribe, mode: str, keys: set[str]
) -> None:
    """`redacted` yields only the redacted URI; `redacted_and_unredacted` yields both."""
    local_transcribe.start_job("pii", duration=0, redaction=mode, subtitles=["vtt", "srt"])
    async with local_transcribe.client() as client:
        job = (await client.get_transcription_job(TranscriptionJobName="pii"))["TranscriptionJob"]
    assert set(job["Transcript"]) == keys
    assert job["ContentRedaction"] == {"RedactionType": "PII", "RedactionOutput": mode}
    assert "redacted-" in job["Transcript"]["RedactedTranscriptFileUri"]
    uris = job["Subtitles"]["SubtitleFileUris"]
    assert [uri.split("?")[0].rsplit(".", 1)[1] for uri in uris] == ["vtt", "srt"]
    # Service-bucket URIs are presigned: the query string is the credential.
    assert "X-Amz-Signature=" in job["Transcript"]["RedactedTranscriptFileUri"]


async def test_medical_job_with_content_identification(local_transcribe: LocalTranscribe) -> None:
    """A medical job shares a name with a standard one and reports PHI identification."""
    local_transcribe.start_job("visit", duration=600)
    local_transcribe.start_job("visit", kind="medical", duration=0, content_identification=True)
    async with local_transcribe.client() as client:
        medical = (await client.get_medical_transcription_job(MedicalTranscriptionJobName="visit"))[
            "MedicalTranscriptionJob"
        ]
        standard = (await client.get_transcription_job(TranscriptionJobName="visit"))[
            "TranscriptionJob"
        ]
    assert medical["TranscriptionJobStatus"] == "COMPLETED"
    assert medical["ContentIdentificationType"] == "PHI"
    assert set(medical["Transcript"]) == {"TranscriptFileUri"}
    assert standard["TranscriptionJobStatus"] == "QUEUED"


@pytest.mark.parametrize("medical", [False, True])
async def test_unknown_job_is_a_bad_request_that_says_not_found(
    local_transcribe: LocalTranscribe, medical: bool
) -> None:
    """An unknown name gets HTTP 400 BadRequestException "couldn't be found", as AWS answers."""
    async with local_transcribe.client(max_attempts=1) as client:
        get = (
            client.get_medical_transcription_job(MedicalTranscriptionJobName="nope")
            if medical
            else client.get_transcription_job(TranscriptionJobName="nope")
        )
        with pytest.raises(ClientError) as caught:
            await get
    error = caught.value.response
    assert error["Error"]["Code"] == "BadRequestException"
    assert "couldn't be found" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_a_job_started_through_a_client_is_the_beds(
    local_transcribe: LocalTranscribe,
) -> None:
    """A Start through the bed's endpoint is answered from the bed's account, as
    FakeTranscribe answers it: the job runs run_time seconds and has a script."""
    async with local_transcribe.client(max_attempts=1) as client:
        answer = await client.start_transcription_job(
            TranscriptionJobName="started",
            LanguageCode="en-US",
            Media={"MediaFileUri": "s3://bucket/started.wav"},
        )
        job = (await client.get_transcription_job(TranscriptionJobName="started"))[
            "TranscriptionJob"
        ]
    assert answer["TranscriptionJob"]["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert job["TranscriptionJobStatus"] == "IN_PROGRESS"
    script = local_transcribe.script("started")
    assert script.terminal_at == script.started_at + 5.0  # the default run_time
    assert script.media_uri == "s3://bucket/started.wav"


async def test_get_and_list_agree(local_transcribe: LocalTranscribe) -> None:
    """Listing by each status returns exactly the jobs whose Get shows that status."""
    plan = {
        "q-1": {"duration": 600, "queued_for": 600},
        "q-2": {"duration": 600, "queued_for": 600},
        "p-1": {"duration": 600, "queued_for": 0},
        "c-1": {"duration": 0},
        "c-2": {"duration": 0},
        "f-1": {"duration": 0, "fail_with": "no audio"},
    }
    for name, script in plan.items():
        local_transcribe.start_job(name, **script)  # type: ignore[arg-type]
    async with local_transcribe.client() as client:
        by_get = {}
        for name in plan:
            job = (await client.get_transcription_job(TranscriptionJobName=name))[
                "TranscriptionJob"
            ]
            by_get[name] = job["TranscriptionJobStatus"]
        by_list = {}
        for status in ("QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"):
            page = await client.list_transcription_jobs(Status=status)  # type: ignore[arg-type]
            for summary in page["TranscriptionJobSummaries"]:
                by_list[summary["TranscriptionJobName"]] = summary["TranscriptionJobStatus"]
    assert by_get == by_list
    assert sorted(by_get.values()) == sorted(
        ["QUEUED", "QUEUED", "IN_PROGRESS", "COMPLETED", "COMPLETED", "FAILED"]
    )


@contextlib.asynccontextmanager
async def moto_client(bed: LocalTranscribe) -> AsyncIterator[Any]:
    """A client of moto itself, past the proxy: its jobs are moto's own."""
    from aiobotocore.session import get_session

    async with get_session().create_client("transcribe", **bed.sqs_client_kwargs()) as client:
        yield client


async def test_motos_own_jobs_keep_motos_progression(local_transcribe: LocalTranscribe) -> None:
    """A job started at moto's own URL is moto's: read through the bed (no script
    holds it), it moves one status per read, as moto does."""
    async with moto_client(local_transcribe) as moto:
        await moto.start_transcription_job(
            TranscriptionJobName="plain",
            LanguageCode="en-US",
            Media={"MediaFileUri": "s3://bucket/plain.wav"},
        )
    async with local_transcribe.client() as client:
        statuses = []
        for _ in range(3):
            job = (await client.get_transcription_job(TranscriptionJobName="plain"))[
                "TranscriptionJob"
            ]
            statuses.append(job["TranscriptionJobStatus"])
    assert statuses == ["QUEUED", "IN_PROGRESS", "COMPLETED"]
    assert "TranscriptFileUri" in job["Transcript"]


async def test_time_progression_keeps_transcript_and_timestamps(
    local_transcribe: LocalTranscribe,
) -> None:
    """moto's time progression reaches COMPLETED bare; the test bed fills the fields in."""
    local_transcribe.set_time_progression(0)
    async with moto_client(local_transcribe) as moto:
        await moto.start_transcription_job(
            TranscriptionJobName="timed-plain",
            LanguageCode="en-US",
            Media={"MediaFileUri": "s3://bucket/a.wav"},
        )
    async with local_transcribe.client() as client:
        job: dict[str, object] = {}
        for _ in range(4):  # one step per read at most, whatever the time
            job = dict(
                (await client.get_transcription_job(TranscriptionJobName="timed-plain"))[
                    "TranscriptionJob"
                ]
            )
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert {"Transcript", "StartTime", "CompletionTime"} <= set(job)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("name", {"name": ""}),
        ("name", {"name": "x" * 201}),
        ("name", {"name": "has space"}),
        ("duration", {"duration": -1}),
        ("duration", {"duration": math.nan}),
        ("duration", {"duration": math.inf}),
        ("kind", {"kind": "dental"}),
        ("redaction", {"redaction": "blurred"}),
        ("queued_for", {"queued_for": -0.5}),
    ],
)
def test_bad_scripts_raise_value_error_naming_the_field(
    local_transcribe: LocalTranscribe, field: str, kwargs: dict[str, object]
) -> None:
    """Each bad field gives a ValueError whose message names the field and the value."""
    arguments: dict[str, object] = {"name": "ok", "duration": 1.0, **kwargs}
    with pytest.raises(ValueError, match=field) as caught:
        local_transcribe.start_job(**arguments)  # type: ignore[arg-type]
    assert repr(kwargs[field])[:20].strip("'") in str(caught.value) or field == "name"
    assert local_transcribe.scripts == {}


def test_life_cycle_errors_are_clear() -> None:
    """Starting twice, or using a stopped test bed, raises at once instead of hanging."""
    bed = LocalTranscribe(region="eu-west-1")
    with pytest.raises(RuntimeError, match="not started"):
        _ = bed.endpoint_url
    with bed:
        with pytest.raises(RuntimeError, match="already running"):
            bed.start()
        assert bed.endpoint_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError, match="was stopped"):
        bed.start_job("late")
    with pytest.raises(RuntimeError, match="was stopped"):
        bed.start()
    bed.stop()  # stopping again is harmless


async def test_the_kinds_moto_lacks_are_served_by_the_bed(
    local_transcribe: LocalTranscribe,
) -> None:
    """Call Analytics and Medical Scribe jobs answer Get and List through a real client,
    in the service's shapes, with Get and List agreeing and unknown names not found."""
    local_transcribe.start_job("call-1", kind="call-analytics", duration=0, redaction="redacted")
    local_transcribe.start_job("call-2", kind="call-analytics", duration=600, queued_for=0)
    local_transcribe.start_job("visit-1", kind="medical-scribe", duration=0, fail_with="silent")
    async with local_transcribe.client() as client:
        call = (await client.get_call_analytics_job(CallAnalyticsJobName="call-1"))[
            "CallAnalyticsJob"
        ]
        visit = (await client.get_medical_scribe_job(MedicalScribeJobName="visit-1"))[
            "MedicalScribeJob"
        ]
        running = await client.list_call_analytics_jobs(Status="IN_PROGRESS")
        done = await client.list_call_analytics_jobs(Status="COMPLETED", JobNameContains="CALL")
        scribes = await client.list_medical_scribe_jobs()
        with pytest.raises(ClientError) as missing:
            await client.get_medical_scribe_job(MedicalScribeJobName="nobody")
    assert call["CallAnalyticsJobStatus"] == "COMPLETED"
    assert "X-Amz-Expires=900" in call["Transcript"]["RedactedTranscriptFileUri"]
    assert call["CompletionTime"].tzinfo is not None  # a real timestamp on the wire
    assert visit["MedicalScribeJobStatus"] == "FAILED"
    assert visit["FailureReason"] == "silent"
    assert [s["CallAnalyticsJobName"] for s in running["CallAnalyticsJobSummaries"]] == ["call-2"]
    assert [s["CallAnalyticsJobName"] for s in done["CallAnalyticsJobSummaries"]] == ["call-1"]
    assert [s["MedicalScribeJobName"] for s in scribes["MedicalScribeJobSummaries"]] == ["visit-1"]
    assert missing.value.response["Error"]["Code"] == "BadRequestException"
    assert "couldn't be found" in missing.value.response["Error"]["Message"]
    traffic = local_transcribe.traffic()
    assert traffic.by_operation["GetCallAnalyticsJob"].requests == 1
    assert traffic.job("call-1", "call-analytics").requests == 1


async def test_the_account_cap_holds_jobs_queued_by_the_wall_clock() -> None:
    """With a cap of one, a second job waits QUEUED (moto's kinds and the bed's own)
    for the first one's slot, and both Get and List say so."""
    with LocalTranscribe(
        region="eu-west-2", concurrency={"standard": 1, "call-analytics": 1}
    ) as bed:
        assert bed.concurrency[JobKind.STANDARD] == 1
        assert bed.concurrency[JobKind.MEDICAL] == 250
        for kind in ("standard", "call-analytics"):
            first = bed.start_job("first", kind=kind, duration=60, queued_for=0)
            second = bed.start_job("second", kind=kind, duration=10, queued_for=0)
            assert second.slot_at == first.terminal_at
            assert second.terminal_at == first.terminal_at + 10
        async with bed.client() as client:
            job = (await client.get_transcription_job(TranscriptionJobName="second"))[
                "TranscriptionJob"
            ]
            assert job["TranscriptionJobStatus"] == "QUEUED"
            listed = await client.list_transcription_jobs(Status="QUEUED")
            assert [s["TranscriptionJobName"] for s in listed["TranscriptionJobSummaries"]] == [
                "second"
            ]
            call = await client.get_call_analytics_job(CallAnalyticsJobName="second")
            assert call["CallAnalyticsJob"]["CallAnalyticsJobStatus"] == "QUEUED"
            running = await client.list_call_analytics_jobs(Status="IN_PROGRESS")
            assert [s["CallAnalyticsJobName"] for s in running["CallAnalyticsJobSummaries"]] == [
                "first"
            ]
