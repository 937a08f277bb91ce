"""FakeTranscribe as a service: Start operations, the account's cap, its date, its
listings and a request that never gets an answer."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import botocore.exceptions
import pytest

from transcribe_poller import JobRef
from transcribe_poller.testing import FakeTranscribe, _start

pytestmark = pytest.mark.anyio

ROLE = "arn:aws:iam::123456789012:role/transcribe-queue"
QUEUEING = {"AllowDeferredExecution": True, "DataAccessRoleArn": ROLE}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def standard(name: str, **extra: Any) -> dict[str, Any]:
    return {"TranscriptionJobName": name, "Media": {"MediaFileUri": f"s3://in/{name}.wav"}, **extra}


def code_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


async def test_start_answers_the_service_shape_and_runs_run_time() -> None:
    """A started job answers IN_PROGRESS with its request echoed, runs run_time
    seconds and completes with its transcript where OutputBucketName/OutputKey say."""
    clock = Clock()
    fake = FakeTranscribe(clock=clock, run_time=lambda job: 30.0 if job.name == "b" else 10.0)
    answer = await fake.start_transcription_job(
        **standard("a", LanguageCode="en-GB", OutputBucketName="out", OutputKey="calls/")
    )
    job = answer["TranscriptionJob"]
    assert job["TranscriptionJobName"] == "a"
    assert job["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert job["Media"] == {"MediaFileUri": "s3://in/a.wav"}
    assert job["LanguageCode"] == "en-GB"
    assert job["CreationTime"] == job["StartTime"]
    assert "Transcript" not in job
    await fake.start_transcription_job(**standard("b"))
    assert fake.script("a").terminal_at == 1010.0
    assert fake.script("b").terminal_at == 1030.0
    clock.now = 1010.0
    done = (await fake.get_transcription_job(TranscriptionJobName="a"))["TranscriptionJob"]
    assert done["TranscriptionJobStatus"] == "COMPLETED"
    assert done["Transcript"]["TranscriptFileUri"] == (
        "https://s3.us-east-1.amazonaws.com/out/calls/a.json"
    )
    assert fake.traffic().job("a").requests == 2


@pytest.mark.parametrize(
    ("key", "uri"),
    [
        ("my-transcript.json", "out/my-transcript.json"),
        ("my-transcript", "out/my-transcript/a.json"),
        ("test-files/my-transcript.json", "out/test-files/my-transcript.json"),
    ],
)
async def test_output_key_names_the_file_as_the_service_does(key: str, uri: str) -> None:
    """OutputKey is a file name when it ends in .json, a folder otherwise."""
    clock = Clock()
    fake = FakeTranscribe(clock=clock, run_time=0)
    await fake.start_transcription_job(**standard("a", OutputBucketName="out", OutputKey=key))
    job = (await fake.get_transcription_job(TranscriptionJobName="a"))["TranscriptionJob"]
    assert job["Transcript"]["TranscriptFileUri"].endswith(f".amazonaws.com/{uri}")


async def test_every_kind_can_be_started() -> None:
    """Medical, Call Analytics and Medical Scribe starts take their own required
    parameters and answer in their own shapes."""
    fake = FakeTranscribe(clock=Clock())
    media = {"MediaFileUri": "s3://in/x.wav"}
    medical = await fake.start_medical_transcription_job(
        MedicalTranscriptionJobName="m",
        LanguageCode="en-US",
        Media=media,
        OutputBucketName="phi",
        Specialty="PRIMARYCARE",
        Type="CONVERSATION",
        ContentIdentificationType="PHI",
    )
    assert medical["MedicalTranscriptionJob"]["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert medical["MedicalTranscriptionJob"]["Type"] == "CONVERSATION"
    assert medical["MedicalTranscriptionJob"]["ContentIdentificationType"] == "PHI"
    call = await fake.start_call_analytics_job(
        CallAnalyticsJobName="c",
        Media=media,
        OutputLocation="s3://calls/out/",
        Settings={"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}},
    )
    assert call["CallAnalyticsJob"]["CallAnalyticsJobStatus"] == "IN_PROGRESS"
    scribe = await fake.start_medical_scribe_job(
        MedicalScribeJobName="s",
        Media=media,
        OutputBucketName="notes",
        DataAccessRoleArn=ROLE,
        Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
    )
    assert scribe["MedicalScribeJob"]["MedicalScribeJobStatus"] == "IN_PROGRESS"
    assert fake.script("c", "call-analytics").output_key == "out/"
    assert fake.script("c", "call-analytics").redaction == "redacted"
    assert fake.script("s", "medical-scribe").output_bucket == "notes"


async def test_a_request_botocore_would_refuse_is_refused_before_sending() -> None:
    """Missing required parameters and unknown ones raise ParamValidationError, and
    nothing is counted, as with a real client."""
    fake = FakeTranscribe(clock=Clock())
    with pytest.raises(botocore.exceptions.ParamValidationError, match="Media"):
        await fake.start_transcription_job(TranscriptionJobName="a")
    with pytest.raises(botocore.exceptions.ParamValidationError, match="Specialty"):
        await fake.start_medical_transcription_job(
            MedicalTranscriptionJobName="m",
            LanguageCode="en-US",
            Media={"MediaFileUri": "s3://in/m.wav"},
            OutputBucketName="phi",
            Type="DICTATION",
        )
    with pytest.raises(botocore.exceptions.ParamValidationError, match="Colour"):
        await fake.start_transcription_job(**standard("a", Colour="blue"))
    assert fake.traffic().total.requests == 0


async def test_a_name_in_use_is_a_conflict() -> None:
    """Starting a job whose name the kind already holds is HTTP 400 ConflictException;
    a medical job of that name is another job."""
    fake = FakeTranscribe(clock=Clock())
    fake.start_job("a")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await fake.start_transcription_job(**standard("a"))
    assert code_of(caught) == ("ConflictException", 400)
    assert "already exists" in str(caught.value)
    with pytest.raises(ValueError, match="standard job named 'a' exists"):
        fake.start_job("a")
    fake.start_job("a", kind="medical")


async def test_over_the_cap_without_queueing_is_limit_exceeded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At the cap a start is refused, unless it asks for job queueing: then it waits
    QUEUED, up to the service's limit of queued jobs."""
    monkeypatch.setattr(_start, "MAX_QUEUED", 2)
    clock = Clock()
    fake = FakeTranscribe(clock=clock, concurrency={"standard": 1}, run_time=10)
    await fake.start_transcription_job(**standard("a"))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await fake.start_transcription_job(**standard("b"))
    assert code_of(caught) == ("LimitExceededException", 400)
    queued = await fake.start_transcription_job(**standard("b", JobExecutionSettings=QUEUEING))
    assert queued["TranscriptionJob"]["TranscriptionJobStatus"] == "QUEUED"
    assert "StartTime" not in queued["TranscriptionJob"]
    await fake.start_transcription_job(**standard("c", JobExecutionSettings=QUEUEING))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await fake.start_transcription_job(**standard("d", JobExecutionSettings=QUEUEING))
    assert code_of(caught) == ("LimitExceededException", 400)
    assert "queue" in str(caught.value)
    assert (fake.script("b").slot_at, fake.script("c").slot_at) == (1010.0, 1020.0)
    clock.now = 1010.0
    await fake.start_transcription_job(**standard("d", JobExecutionSettings=QUEUEING))
    assert fake.script("d").slot_at == 1030.0


async def test_medical_over_the_cap_cannot_queue() -> None:
    """Medical starts have no job queueing: over the cap they are refused."""
    fake = FakeTranscribe(clock=Clock(), concurrency={"medical": 1})
    fake.start_job("a", kind="medical", duration=100)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await fake.start_medical_transcription_job(
            MedicalTranscriptionJobName="b",
            LanguageCode="en-US",
            Media={"MediaFileUri": "s3://in/b.wav"},
            OutputBucketName="phi",
            Specialty="PRIMARYCARE",
            Type="DICTATION",
        )
    assert code_of(caught) == ("LimitExceededException", 400)


async def test_queueing_needs_a_role() -> None:
    """JobExecutionSettings without DataAccessRoleArn is a BadRequestException."""
    fake = FakeTranscribe(clock=Clock())
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await fake.start_transcription_job(
            **standard("a", JobExecutionSettings={"AllowDeferredExecution": True})
        )
    assert code_of(caught) == ("BadRequestException", 400)


async def test_the_clock_reads_as_today() -> None:
    """Times and presigned URIs show today's date: the fake's clock zero is when it
    was made, so a fresh URI is not expired."""
    clock = Clock()
    before = datetime.now(timezone.utc)
    fake = FakeTranscribe(clock=clock)
    fake.start_job("a", duration=60)
    clock.now += 60
    job = (await fake.get_transcription_job(TranscriptionJobName="a"))["TranscriptionJob"]
    created = job["CreationTime"]
    assert before - timedelta(seconds=5) <= created <= datetime.now(timezone.utc)
    assert job["CompletionTime"] - created == timedelta(seconds=60)
    stamp = job["Transcript"]["TranscriptFileUri"].split("X-Amz-Date=")[1][:16]
    signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs(signed - (created + timedelta(seconds=60))) < timedelta(seconds=1)


async def test_summaries_carry_the_service_fields() -> None:
    """List summaries hold CreationTime, StartTime once started, CompletionTime and
    FailureReason once ended, and no URIs."""
    clock = Clock()
    fake = FakeTranscribe(clock=clock, concurrency=1)
    fake.start_job("a", duration=10, queued_for=0, fail_with="bad audio")
    fake.start_job("b", duration=10, queued_for=0)
    summaries = (await fake.list_transcription_jobs(MaxResults=10))["TranscriptionJobSummaries"]
    # Started at the same time: by name, as the fake orders ties.
    assert [s["TranscriptionJobName"] for s in summaries] == ["a", "b"]
    running, waiting = summaries
    assert waiting["TranscriptionJobStatus"] == "QUEUED"
    assert "StartTime" not in waiting
    assert "CreationTime" in waiting
    assert running["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert "StartTime" in running
    clock.now += 10
    failed = (await fake.list_transcription_jobs(Status="FAILED"))["TranscriptionJobSummaries"]
    assert failed[0]["FailureReason"] == "bad audio"
    assert "CompletionTime" in failed[0]
    assert all("Transcript" not in s for s in summaries + failed)


async def test_pages_follow_each_other_while_jobs_change() -> None:
    """NextToken pages through a status newest first, with JobNameContains, and a job
    that changes status between pages does not shift the others."""
    clock = Clock()
    fake = FakeTranscribe(clock=clock, concurrency=None)
    for i in range(30):
        clock.now = 1000.0 + i
        fake.start_job(f"Job-{i:02d}", duration=100 + i, queued_for=0)
    first = await fake.list_transcription_jobs(Status="IN_PROGRESS", MaxResults=10)
    names = [s["TranscriptionJobName"] for s in first["TranscriptionJobSummaries"]]
    assert names == [f"Job-{i:02d}" for i in range(29, 19, -1)]
    clock.now = 1100.5  # Job-00 completes
    second = await fake.list_transcription_jobs(
        Status="IN_PROGRESS", MaxResults=10, NextToken=first["NextToken"]
    )
    names = [s["TranscriptionJobName"] for s in second["TranscriptionJobSummaries"]]
    assert names == [f"Job-{i:02d}" for i in range(19, 9, -1)]
    matching = await fake.list_transcription_jobs(JobNameContains="job-0", MaxResults=100)
    assert len(matching["TranscriptionJobSummaries"]) == 10
    with pytest.raises(botocore.exceptions.ClientError):
        await fake.list_transcription_jobs(MaxResults=101)


async def test_a_list_page_costs_about_the_page() -> None:
    """With 10,000 jobs held, a page of running jobs takes well under what sorting
    them all took (about 14 ms on this machine)."""
    clock = Clock()
    fake = FakeTranscribe(clock=clock, concurrency=None)
    for i in range(10_000):
        clock.now = float(i)
        fake.start_job(f"job-{i:05d}", duration=1000.0, queued_for=0)
    clock.now = 10_000.0
    await fake.list_transcription_jobs(Status="IN_PROGRESS", MaxResults=100)
    started = time.process_time()
    for _ in range(20):
        page = await fake.list_transcription_jobs(Status="IN_PROGRESS", MaxResults=100)
    per_page = (time.process_time() - started) / 20
    assert len(page["TranscriptionJobSummaries"]) == 100
    assert per_page < 0.005


async def test_a_hung_request_waits_until_cancelled() -> None:
    """hang_rate requests are accepted and never answered: only the caller's own
    timeout ends them, and they are counted as hung."""
    fake = FakeTranscribe(clock=Clock())
    fake.start_job("a")
    fake.set_faults(hang_rate=1.0)
    with anyio.move_on_after(0.2) as scope:
        await fake.get_transcription_job(TranscriptionJobName="a")
    assert scope.cancelled_caught
    counts = fake.traffic().job(JobRef("a"))
    assert (counts.requests, counts.hung) == (1, 1)
    fake.set_faults()
    await fake.get_transcription_job(TranscriptionJobName="a")


async def test_event_queue_is_enable_events_then_one_queue_per_replica() -> None:
    """event_queue's first queue is the one enable_events makes; each further call is
    another queue besides it (a replica's own)."""
    fake = FakeTranscribe(clock=Clock())
    queue = fake.event_queue(seed=1)
    assert queue is fake.events_queue
    assert queue.url == fake.events_queue_url
    other = fake.event_queue()
    assert other is not queue
    assert other.url == queue.url
    with pytest.raises(RuntimeError, match="enabled already"):
        fake.enable_events()
    async with fake.sqs_client() as sqs:
        assert sqs is queue
    async with fake.client(max_attempts=1) as client:
        assert client is fake
