"""The behavioural contract of the test doubles, as checks in trio's ``check_*`` style.

Each ``check_*`` takes a double (FakeTranscribe or LocalTranscribe, see
``tests/test_contract.py``) and asserts one area of behaviour through the double's
own client: what it answers, how it fails, what it delivers. A check knows
nothing of which double it runs on; where the local test bed is allowed to differ
(moto's documented gaps in the events it delivers), the check says so in place.

Every wire name below is a literal written for these checks: neither the doubles'
table (``testing/_service.py``) nor the core's (``_kinds.KINDS``) is read here, so
a wrong entry in either is caught.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
import botocore.exceptions
import pytest

from transcribe_poller import JobKind, JobRef
from transcribe_poller.testing import Counts, TranscribeDouble

REGION = "eu-west-1"
# The caps the doubles under test are made with: small ones, for the cap's checks.
CAPS = {"call-analytics": 2, "medical": 1}
RUN_TIME = 0.4  # seconds a job started through a Start operation runs
ROLE = "arn:aws:iam::123456789012:role/transcribe-queue"
ACCOUNT = "123456789012"
NOT_FOUND = "The requested job couldn't be found. Check the job name and try your request again."
ISO_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True, eq=False)  # one object per kind, hashed as itself
class Kind:
    """One kind as the service spells it, pinned by hand."""

    kind: str
    start: str
    get: str
    list: str
    start_operation: str
    get_operation: str
    list_operation: str
    name: str
    job: str
    status: str
    summaries: str
    event: tuple[str, str, str] | None  # detail-type, name field, status field
    required: Mapping[str, Any]  # a Start request's other required parameters


MEDIA = {"MediaFileUri": "s3://contract-media/audio.wav"}
KINDS: Mapping[str, Kind] = {
    "standard": Kind(
        kind="standard",
        start="start_transcription_job",
        get="get_transcription_job",
        list="list_transcription_jobs",
        start_operation="StartTranscriptionJob",
        get_operation="GetTranscriptionJob",
        list_operation="ListTranscriptionJobs",
        name="TranscriptionJobName",
        job="TranscriptionJob",
        status="TranscriptionJobStatus",
        summaries="TranscriptionJobSummaries",
        event=("Transcribe Job State Change", "TranscriptionJobName", "TranscriptionJobStatus"),
        required={"Media": MEDIA},
    ),
    "medical": Kind(
        kind="medical",
        start="start_medical_transcription_job",
        get="get_medical_transcription_job",
        list="list_medical_transcription_jobs",
        start_operation="StartMedicalTranscriptionJob",
        get_operation="GetMedicalTranscriptionJob",
        list_operation="ListMedicalTranscriptionJobs",
        name="MedicalTranscriptionJobName",
        job="MedicalTranscriptionJob",
        status="TranscriptionJobStatus",
        summaries="MedicalTranscriptionJobSummaries",
        event=None,
        required={
            "Media": MEDIA,
            "LanguageCode": "en-US",
            "OutputBucketName": "contract-phi",
            "Specialty": "PRIMARYCARE",
            "Type": "CONVERSATION",
        },
    ),
    "call-analytics": Kind(
        kind="call-analytics",
        start="start_call_analytics_job",
        get="get_call_analytics_job",
        list="list_call_analytics_jobs",
        start_operation="StartCallAnalyticsJob",
        get_operation="GetCallAnalyticsJob",
        list_operation="ListCallAnalyticsJobs",
        name="CallAnalyticsJobName",
        job="CallAnalyticsJob",
        status="CallAnalyticsJobStatus",
        summaries="CallAnalyticsJobSummaries",
        event=("Call Analytics Job State Change", "JobName", "JobStatus"),
        required={"Media": MEDIA},
    ),
    "medical-scribe": Kind(
        kind="medical-scribe",
        start="start_medical_scribe_job",
        get="get_medical_scribe_job",
        list="list_medical_scribe_jobs",
        start_operation="StartMedicalScribeJob",
        get_operation="GetMedicalScribeJob",
        list_operation="ListMedicalScribeJobs",
        name="MedicalScribeJobName",
        job="MedicalScribeJob",
        status="MedicalScribeJobStatus",
        summaries="MedicalScribeJobSummaries",
        event=None,
        required={
            "Media": MEDIA,
            "OutputBucketName": "contract-notes",
            "DataAccessRoleArn": ROLE,
            "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
        },
    ),
}
STANDARD, MEDICAL = KINDS["standard"], KINDS["medical"]
CALL, SCRIBE = KINDS["call-analytics"], KINDS["medical-scribe"]


# -- helpers ------------------------------------------------------------------------


async def get(client: Any, kind: Kind, name: str) -> dict[str, Any]:
    """The job of a Get of ``name``, read under the kind's literal fields."""
    answer = await getattr(client, kind.get)(**{kind.name: name})
    job: dict[str, Any] = answer[kind.job]
    return job


async def listing(client: Any, kind: Kind, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = dict(await getattr(client, kind.list)(**params))
    answer.pop("ResponseMetadata", None)
    return answer


def names(page: Mapping[str, Any], kind: Kind) -> list[str]:
    return [summary[kind.name] for summary in page[kind.summaries]]


async def start(client: Any, kind: Kind, name: str, **extra: Any) -> dict[str, Any]:
    """A Start of ``kind`` with its required parameters; the job it answers."""
    answer = await getattr(client, kind.start)(**{kind.name: name, **kind.required, **extra})
    job: dict[str, Any] = answer[kind.job]
    return job


async def client_error(call: Awaitable[Any]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the ClientError ``call`` must raise."""
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await call
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


async def until(double: TranscribeDouble, when: float) -> None:
    """Sleep until the double's clock reads ``when``, and a little more. The checks
    wait seconds at most: a longer wait means the clocks disagree."""
    wait = when - double.now()
    assert wait < 5, f"{wait} s to wait: now() and the scripts' times disagree"
    await anyio.sleep(max(0.0, wait) + 0.03)


def model_members(operation: str, field: str) -> set[str]:
    """What botocore's model lets ``field`` of ``operation``'s answer hold."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("transcribe")
    shape = model.operation_model(operation).output_shape.members[field]
    if shape.type_name == "list":
        shape = shape.member
    return set(shape.members)


async def receive_all(
    double: TranscribeDouble, count: int, *, within: float = 5.0
) -> list[dict[str, Any]]:
    """The bodies of the next ``count`` messages of the events queue (decoded), then
    none more for a moment: fails if more or fewer come."""
    bodies: list[dict[str, Any]] = []
    url = double.events_queue_url  # type: ignore[attr-defined]
    async with double.sqs_client() as sqs:
        with anyio.fail_after(within):
            while len(bodies) < count:
                answer = await sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
                bodies += [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        await anyio.sleep(0.2)
        answer = await sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        extra = [json.loads(m["Body"]) for m in answer.get("Messages", [])]
    assert (len(bodies), extra) == (count, []), bodies
    return bodies


# -- Get --------------------------------------------------------------------------


async def check_get_follows_the_clock_for_every_kind(double: TranscribeDouble) -> None:
    """Every kind reads QUEUED, IN_PROGRESS after queued_for, then COMPLETED at its
    duration, under its own literal fields, with times in order and the first
    terminal read noted."""
    seen: dict[str, list[dict[str, Any]]] = {kind.kind: [] for kind in KINDS.values()}
    async with double.client(max_attempts=1) as client:
        await listing(client, STANDARD)  # a client's first call may be slow: not a read
        scripts = {
            kind: double.start_job(
                f"clock-{kind.kind}", kind=kind.kind, duration=0.6, queued_for=0.3
            )
            for kind in KINDS.values()
        }
        began = min(s.started_at for s in scripts.values())
        for at in (None, 0.3, 0.6):
            if at is not None:
                await until(double, began + at)
            for kind, script in scripts.items():
                seen[kind.kind].append(await get(client, kind, script.name))
    for kind, script in scripts.items():
        queued, running, done = seen[kind.kind]
        assert [queued[kind.status], running[kind.status], done[kind.status]] == [
            "QUEUED",
            "IN_PROGRESS",
            "COMPLETED",
        ], kind.kind
        assert done[kind.name] == script.name
        assert "StartTime" not in queued
        assert "CompletionTime" not in running
        assert isinstance(done["CreationTime"], datetime)
        assert done["CreationTime"].tzinfo
        assert done["CreationTime"] <= done["StartTime"] <= done["CompletionTime"], kind.kind
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at >= script.terminal_at


async def check_a_failed_job_says_why(double: TranscribeDouble) -> None:
    """A job scripted to fail reads FAILED with its FailureReason, in Get and in
    List, and carries no output URI, whatever its kind."""
    reason = "The media format provided does not match the detected media format."
    for kind in KINDS.values():
        double.start_job("broken", kind=kind.kind, duration=0, fail_with=reason)
    async with double.client(max_attempts=1) as client:
        for kind in KINDS.values():
            job = await get(client, kind, "broken")
            assert (job[kind.status], job["FailureReason"]) == ("FAILED", reason), kind.kind
            assert "Transcript" not in job
            assert "MedicalScribeOutput" not in job
            [summary] = (await listing(client, kind, Status="FAILED"))[kind.summaries]
            assert (summary[kind.name], summary["FailureReason"]) == ("broken", reason)


async def check_an_unknown_name_is_not_found(double: TranscribeDouble) -> None:
    """A Get of a name no job has is HTTP 400 BadRequestException "couldn't be
    found", for every kind, as the service answers; a job of one kind is not one of
    another."""
    double.start_job("only-standard", duration=0)
    async with double.client(max_attempts=1) as client:
        for kind in KINDS.values():
            name = "nobody" if kind is STANDARD else "only-standard"
            error = await client_error(getattr(client, kind.get)(**{kind.name: name}))
            assert error == ("BadRequestException", 400, NOT_FOUND), kind.kind


async def check_answers_hold_only_the_models_fields(double: TranscribeDouble) -> None:
    """Start, Get and List answers hold only what botocore's model gives their
    shapes (a real client drops the rest), and summaries never carry a URI."""
    for kind in KINDS.values():
        double.start_job("shaped", kind=kind.kind, duration=0)
    async with double.client(max_attempts=1) as client:
        for kind in KINDS.values():
            job = await get(client, kind, "shaped")
            assert set(job) <= model_members(kind.get_operation, kind.job), kind.kind
            started = await start(client, kind, f"shaped-{kind.kind}")
            assert set(started) <= model_members(kind.start_operation, kind.job), kind.kind
            page = await listing(client, kind)
            assert set(page) <= {kind.summaries, "NextToken", "Status"}
            for summary in page[kind.summaries]:
                assert set(summary) <= model_members(kind.list_operation, kind.summaries)
                assert "Transcript" not in summary
                assert "MedicalScribeOutput" not in summary


# -- output -------------------------------------------------------------------------


async def check_output_uris_are_where_the_service_puts_them(double: TranscribeDouble) -> None:
    """Service-bucket URIs are presigned for 900 s (redacted, both, subtitles);
    medical output is in the caller's bucket, with PHI identified; Medical Scribe
    gives a transcript and a clinical document; an OutputKey folder names the file."""
    double.start_job("redacted", duration=0, redaction="redacted", subtitles=["vtt", "srt"])
    double.start_job("both", duration=0, redaction="redacted_and_unredacted")
    double.start_job("visit", kind="medical", duration=0, content_identification=True)
    double.start_job("notes", kind="medical-scribe", duration=0, output_bucket="clinic")
    async with double.client(max_attempts=1) as client:
        redacted = await get(client, STANDARD, "redacted")
        both = await get(client, STANDARD, "both")
        visit = await get(client, MEDICAL, "visit")
        notes = await get(client, SCRIBE, "notes")
        await start(client, STANDARD, "keyed", OutputBucketName="out", OutputKey="calls/")
        await until(double, double.script("keyed").terminal_at)
        keyed = await get(client, STANDARD, "keyed")
    assert set(redacted["Transcript"]) == {"RedactedTranscriptFileUri"}
    assert redacted["ContentRedaction"] == {"RedactionType": "PII", "RedactionOutput": "redacted"}
    uri = redacted["Transcript"]["RedactedTranscriptFileUri"]
    # In the service's bucket, served by S3 (the fake, in memory) or by the bed itself.
    host = urlsplit(uri).netloc
    assert host == f"s3.{REGION}.amazonaws.com" or host.startswith("127.0.0.1:"), uri
    assert urlsplit(uri).path.startswith(f"/aws-transcribe-{REGION}-prod/")
    assert "redacted-" in uri
    assert "X-Amz-Expires=900" in uri
    assert "X-Amz-Signature=" in uri
    formats = [u.split("?")[0].rsplit(".", 1)[1] for u in redacted["Subtitles"]["SubtitleFileUris"]]
    assert formats == ["vtt", "srt"]
    assert set(both["Transcript"]) == {"TranscriptFileUri", "RedactedTranscriptFileUri"}
    assert visit["ContentIdentificationType"] == "PHI"
    assert visit["Transcript"] == {
        "TranscriptFileUri": (
            f"https://s3.{REGION}.amazonaws.com/local-medical-output/medical/visit.json"
        )
    }
    base = f"https://s3.{REGION}.amazonaws.com/clinic/notes"
    assert notes["MedicalScribeOutput"] == {
        "TranscriptFileUri": f"{base}/transcript.json",
        "ClinicalDocumentUri": f"{base}/summary.json",
    }
    assert keyed["Transcript"] == {
        "TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/out/calls/keyed.json"
    }


# -- List -------------------------------------------------------------------------


async def check_list_is_newest_first(double: TranscribeDouble) -> None:
    """A List answers newest first by creation time, whatever the names' order."""
    for name in ("b-oldest", "c-middle", "a-newest"):
        double.start_job(name, duration=600)
        await anyio.sleep(0.005)
    async with double.client(max_attempts=1) as client:
        page = await listing(client, STANDARD)
    assert names(page, STANDARD) == ["a-newest", "c-middle", "b-oldest"]


async def check_list_pages_follow_each_other(double: TranscribeDouble) -> None:
    """Pages of MaxResults jobs chain by NextToken through every job once; the last
    page has no token; without MaxResults a page holds 5 jobs."""
    expected = [f"job-{i}" for i in range(7)]
    for name in expected:
        double.start_job(name, kind="call-analytics", duration=600, queued_for=0)
        await anyio.sleep(0.002)
    seen: list[str] = []
    async with double.client(max_attempts=1) as client:
        first = await listing(client, CALL)
        token: str | None = None
        sizes = []
        while True:
            params: dict[str, Any] = {"MaxResults": 3}
            if token is not None:
                params["NextToken"] = token
            page = await listing(client, CALL, **params)
            sizes.append(len(page[CALL.summaries]))
            seen += names(page, CALL)
            token = page.get("NextToken")
            if token is None:
                break
    assert len(first[CALL.summaries]) == 5
    assert "NextToken" in first
    assert sizes == [3, 3, 1]
    assert seen == expected[::-1]


async def check_list_filters_by_status_and_name(double: TranscribeDouble) -> None:
    """Status keeps the jobs in that status (and is echoed); JobNameContains matches
    case-insensitively, as on AWS; the two combine."""
    double.start_job("call-done", duration=0)
    double.start_job("Recall-done", duration=0)
    double.start_job("call-running", duration=600, queued_for=0)
    double.start_job("other-done", duration=0)
    async with double.client(max_attempts=1) as client:
        done = await listing(client, STANDARD, Status="COMPLETED")
        calls = await listing(client, STANDARD, JobNameContains="CALL")
        both = await listing(client, STANDARD, Status="COMPLETED", JobNameContains="call")
        running = await listing(client, STANDARD, Status="IN_PROGRESS")
        empty = await listing(client, MEDICAL, Status="COMPLETED")
    assert done["Status"] == "COMPLETED"
    assert sorted(names(done, STANDARD)) == ["Recall-done", "call-done", "other-done"]
    assert sorted(names(calls, STANDARD)) == ["Recall-done", "call-done", "call-running"]
    assert sorted(names(both, STANDARD)) == ["Recall-done", "call-done"]
    assert names(running, STANDARD) == ["call-running"]
    assert running[STANDARD.summaries][0]["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert empty[MEDICAL.summaries] == []


async def check_get_and_list_agree(double: TranscribeDouble) -> None:
    """Listing by each status returns exactly the jobs whose Get shows that status."""
    plan: dict[str, dict[str, Any]] = {
        "q-1": {"duration": 600, "queued_for": 600},
        "p-1": {"duration": 600, "queued_for": 0},
        "c-1": {"duration": 0},
        "f-1": {"duration": 0, "fail_with": "no audio"},
    }
    for name, script in plan.items():
        double.start_job(name, kind="medical-scribe", **script)
    async with double.client(max_attempts=1) as client:
        by_get = {name: (await get(client, SCRIBE, name))[SCRIBE.status] for name in plan}
        by_list = {}
        for status in ("QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"):
            for summary in (await listing(client, SCRIBE, Status=status))[SCRIBE.summaries]:
                by_list[summary[SCRIBE.name]] = summary[SCRIBE.status]
    assert (
        by_get
        == by_list
        == {
            "q-1": "QUEUED",
            "p-1": "IN_PROGRESS",
            "c-1": "COMPLETED",
            "f-1": "FAILED",
        }
    )


# -- Start --------------------------------------------------------------------------


async def check_start_answers_and_runs_run_time(double: TranscribeDouble) -> None:
    """A Start of each kind answers the job IN_PROGRESS with its request echoed, and
    the job runs run_time seconds: a script like any other, Get agreeing."""
    async with double.client(max_attempts=1) as client:
        for kind in KINDS.values():
            job = await start(client, kind, "started")
            assert (job[kind.name], job[kind.status]) == ("started", "IN_PROGRESS"), kind.kind
            assert job["Media"] == MEDIA
            script = double.script("started", kind.kind)
            assert script.terminal_at == pytest.approx(script.started_at + RUN_TIME)
            assert script.started_at <= double.now()
        await until(double, double.script("started", "medical-scribe").terminal_at)
        for kind in KINDS.values():
            job = await get(client, kind, "started")
            assert job[kind.status] == "COMPLETED", kind.kind
    assert set(double.scripts) == {(JobKind(kind), "started") for kind in KINDS}


async def check_a_name_in_use_is_one_error(double: TranscribeDouble) -> None:
    """A Start with a name its kind holds is a ClientError ConflictException (HTTP
    400), whether start_job or a Start made the first; start_job then raises
    ValueError; a job of another kind may have that name."""
    double.start_job("taken", duration=600)
    async with double.client(max_attempts=1) as client:
        code, status, _ = await client_error(start(client, STANDARD, "taken"))
        assert (code, status) == ("ConflictException", 400)
        await start(client, CALL, "via-api")
        code, status, _ = await client_error(start(client, CALL, "via-api"))
        assert (code, status) == ("ConflictException", 400)
        await start(client, MEDICAL, "taken")  # another kind, another job
    with pytest.raises(ValueError, match="standard job named 'taken' exists"):
        double.start_job("taken")
    with pytest.raises(ValueError, match="call-analytics job named 'via-api' exists"):
        double.start_job("via-api", kind="call-analytics")


async def check_bad_requests_are_refused_alike(double: TranscribeDouble) -> None:
    """What botocore refuses before sending is its ParamValidationError, for Start,
    Get and List alike; what the service refuses is HTTP 400 (a name it does not
    allow or queueing without a role: BadRequestException; a status it does not
    know: ValidationException; a token it never gave: BadRequestException).
    Nothing is started."""
    refused = botocore.exceptions.ParamValidationError
    async with double.client(max_attempts=1) as client:
        with pytest.raises(refused, match="Media"):
            await client.start_transcription_job(TranscriptionJobName="no-media")
        with pytest.raises(refused, match="Colour"):
            await start(client, STANDARD, "odd", Colour="blue")
        with pytest.raises(refused, match="TranscriptionJobName"):
            await client.get_transcription_job()
        with pytest.raises(refused, match="Colour"):
            await client.get_call_analytics_job(CallAnalyticsJobName="x", Colour="blue")
        with pytest.raises(refused, match="MaxResults"):
            await listing(client, SCRIBE, MaxResults=0)
        code, status, _ = await client_error(start(client, STANDARD, "has space"))
        assert (code, status) == ("BadRequestException", 400)
        execution = {"AllowDeferredExecution": True}
        code, status, _ = await client_error(
            start(client, STANDARD, "no-role", JobExecutionSettings=execution)
        )
        assert (code, status) == ("BadRequestException", 400)
        code, status, _ = await client_error(listing(client, MEDICAL, Status="DONE"))
        assert (code, status) == ("ValidationException", 400)
        code, status, _ = await client_error(listing(client, CALL, NextToken="not-a-token"))
        assert (code, status) == ("BadRequestException", 400)
    assert dict(double.scripts) == {}


async def check_the_concurrency_cap(double: TranscribeDouble) -> None:
    """At its kind's cap a Start is LimitExceededException unless it may queue (a
    role, for Call Analytics); a queued job reads QUEUED in Get and List and takes
    the slot of the first job to end; medical Starts cannot queue."""
    assert double.concurrency[JobKind.CALL_ANALYTICS] == 2
    assert double.concurrency[JobKind.MEDICAL] == 1
    assert double.concurrency[JobKind.STANDARD] == 250
    first = double.start_job("first", kind="call-analytics", duration=30, queued_for=0)
    double.start_job("second", kind="call-analytics", duration=60, queued_for=0)
    double.start_job("visit", kind="medical", duration=30)
    async with double.client(max_attempts=1) as client:
        code, status, _ = await client_error(start(client, CALL, "refused"))
        assert (code, status) == ("LimitExceededException", 400)
        queued = await start(client, CALL, "waiting", DataAccessRoleArn=ROLE)
        assert queued[CALL.status] == "QUEUED"
        assert "StartTime" not in queued
        assert (await get(client, CALL, "waiting"))[CALL.status] == "QUEUED"
        page = await listing(client, CALL, Status="QUEUED")
        code, status, _ = await client_error(start(client, MEDICAL, "second-visit"))
        assert (code, status) == ("LimitExceededException", 400)
    assert names(page, CALL) == ["waiting"]
    assert double.script("waiting", "call-analytics").slot_at == first.terminal_at
    # start_job queues too (as with job queueing on): behind "waiting", first out.
    scripted = double.start_job("scripted", kind="call-analytics", duration=1, queued_for=0)
    assert scripted.slot_at == double.script("waiting", "call-analytics").terminal_at
    with pytest.raises(KeyError):
        double.script("refused", "call-analytics")


# -- faults -------------------------------------------------------------------------


async def check_denied_operations(double: TranscribeDouble) -> None:
    """A denied operation is HTTP 400 AccessDeniedException, others pass, and the
    refusal is counted as an error of that operation and job."""
    double.start_job("a", duration=0)
    faults = double.set_faults(denied=["GetTranscriptionJob"])
    assert double.faults == faults
    assert faults.denied == {"GetTranscriptionJob"}
    async with double.client(max_attempts=1) as client:
        code, status, message = await client_error(get(client, STANDARD, "a"))
        await listing(client, STANDARD)
    assert (code, status) == ("AccessDeniedException", 400)
    assert "transcribe:GetTranscriptionJob" in message
    report = double.traffic()
    assert report.by_operation["GetTranscriptionJob"] == Counts(requests=1, errors=1)
    assert report.by_operation["ListTranscriptionJobs"] == Counts(requests=1)
    assert report.job("a") == Counts(requests=1, errors=1)


async def check_quotas_throttle(double: TranscribeDouble) -> None:
    """Past an operation's quota the answer is HTTP 400 throttle_error ("Rate
    exceeded") with Retry-After when asked; other operations are not limited."""
    double.start_job("a", duration=0)
    double.set_faults(quota={"GetTranscriptionJob": (0.01, 1)}, retry_after=2)
    async with double.client(max_attempts=1) as client:
        await get(client, STANDARD, "a")
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            await get(client, STANDARD, "a")
        for _ in range(3):
            await listing(client, STANDARD)
        double.set_faults(quota=0.01, throttle_error="ThrottlingException")
        await listing(client, STANDARD)
        code, status, _ = await client_error(listing(client, STANDARD))
    response = caught.value.response
    assert response["Error"] == {"Code": "LimitExceededException", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
    assert (code, status) == ("ThrottlingException", 400)
    report = double.traffic()
    assert report.by_operation["GetTranscriptionJob"] == Counts(requests=2, throttled=1)
    assert report.by_operation["ListTranscriptionJobs"] == Counts(requests=5, throttled=1)


async def check_failures_drops_hangs_and_latency(double: TranscribeDouble) -> None:
    """error_rate answers HTTP 500 InternalFailureException, drop_rate closes the
    connection unanswered (ConnectionClosedError), hang_rate never answers, and
    latency delays every answer; each is counted as such."""
    double.start_job("a", duration=0)
    async with double.client(max_attempts=1) as client:
        double.set_faults(error_rate=1.0)
        code, status, _ = await client_error(get(client, STANDARD, "a"))
        assert (code, status) == ("InternalFailureException", 500)
        double.set_faults(drop_rate=1.0)
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            await get(client, STANDARD, "a")
        double.set_faults(hang_rate=1.0)
        with anyio.move_on_after(0.3) as waited:
            await get(client, STANDARD, "a")
        assert waited.cancelled_caught
        double.set_faults(latency=0.2)
        began = time.monotonic()
        await get(client, STANDARD, "a")
        assert time.monotonic() - began >= 0.2
    assert double.traffic().job("a") == Counts(requests=4, errors=1, dropped=1, hung=1)


async def check_an_outage_refuses_then_recovers(double: TranscribeDouble) -> None:
    """During an outage a new request cannot connect (EndpointConnectionError) and is
    not counted; afterwards requests succeed; outages counts it. A negative length
    is a ValueError."""
    double.start_job("a", duration=0)
    with pytest.raises(ValueError, match="seconds"):
        double.outage(-1)
    double.outage(0.5)
    ends = time.monotonic() + 0.5
    async with double.client(max_attempts=1) as client:
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            await get(client, STANDARD, "a")
    await anyio.sleep(max(0.0, ends - time.monotonic()) + 0.05)
    async with double.client(max_attempts=1) as client:
        with anyio.fail_after(5):
            while True:  # the local bed listens again within moments
                try:
                    job = await get(client, STANDARD, "a")
                    break
                except botocore.exceptions.EndpointConnectionError:
                    await anyio.sleep(0.05)
    assert job[STANDARD.status] == "COMPLETED"
    report = double.traffic()
    assert report.outages == 1
    assert report.job("a").requests >= 1
    assert report.total.errors == 0


async def check_bad_faults_are_refused_alike(double: TranscribeDouble) -> None:
    """A bad fault value is a ValueError naming it, leaving the faults as they were;
    an unknown option a TypeError naming it; set_faults() clears them."""
    before = double.set_faults(quota=7, error_rate=0.1)
    for options, field in (
        ({"error_rate": 1.5}, "error_rate"),
        ({"drop_rate": -0.1}, "drop_rate"),
        ({"quota": 0}, "rate"),
        ({"throttle_error": "SlowDown"}, "throttle_error"),
        ({"error_rate": 0.6, "hang_rate": 0.6}, "error_rate"),
        ({"denied": "GetTranscriptionJob"}, "denied"),
    ):
        with pytest.raises(ValueError, match=field):
            double.set_faults(**options)  # type: ignore[arg-type]
        assert double.faults == before
    with pytest.raises(TypeError, match="'errors'"):
        double.set_faults(errors=1.0)  # type: ignore[call-arg]
    assert double.set_faults() == double.faults
    assert double.faults.default_quota is None
    assert double.faults.error_rate == 0


# -- the account ----------------------------------------------------------------------


async def check_scripts_are_the_ground_truth(double: TranscribeDouble) -> None:
    """script() and scripts give every job's script, on the double's clock; an
    unknown job is a KeyError; bad scripts are ValueErrors naming the field."""
    before = double.now()
    script = double.start_job("truth", kind="medical", duration=2, queued_for=0.5)
    assert before <= script.started_at <= double.now()
    assert script.terminal_at == script.started_at + 2
    assert double.script("truth", JobKind.MEDICAL) is script
    assert double.scripts == {(JobKind.MEDICAL, "truth"): script}
    with pytest.raises(KeyError):
        double.script("truth")  # the standard kind holds no such job
    for options, field in (
        ({"name": "has space"}, "name"),
        ({"duration": -1}, "duration"),
        ({"duration": math.inf}, "duration"),
        ({"kind": "dental"}, "kind"),
        ({"redaction": "blurred"}, "redaction"),
        ({"queued_for": 3.0}, "queued_for"),
    ):
        arguments: dict[str, Any] = {"name": "ok", "duration": 1.0, **options}
        with pytest.raises(ValueError, match=field):
            double.start_job(**arguments)
    assert len(double.scripts) == 1


async def check_reset_forgets_everything(double: TranscribeDouble) -> None:
    """reset() forgets jobs, faults, counts and outages, and turns events off."""
    double.start_job("gone", duration=0)
    double.enable_events()
    async with double.client(max_attempts=1) as client:
        await get(client, STANDARD, "gone")
    double.set_faults(error_rate=1.0)
    double.reset()
    assert dict(double.scripts) == {}
    assert double.faults.error_rate == 0
    assert double.traffic().total == Counts()
    assert double.traffic().outages == 0
    with pytest.raises(RuntimeError, match="not enabled"):
        _ = double.events_queue_url  # type: ignore[attr-defined]
    async with double.client(max_attempts=1) as client:
        code, _, _ = await client_error(get(client, STANDARD, "gone"))
    assert code == "BadRequestException"
    double.reset_traffic()
    assert double.traffic().by_operation == {}


# -- events -------------------------------------------------------------------------


def check_event_body(body: Mapping[str, Any], kind: Kind, name: str, status: str) -> None:
    """The whole event JSON an EventBridge rule delivers, field by field."""
    assert kind.event is not None
    detail_type, name_field, status_field = kind.event
    assert body["source"] == "aws.transcribe"
    assert body["detail-type"] == detail_type
    assert body["detail"][name_field] == name
    assert body["detail"][status_field] == status
    assert (body["version"], body["region"], body["resources"]) == ("0", REGION, [])
    assert ISO_SECOND.fullmatch(body["time"]), body["time"]
    assert isinstance(body["id"], str)
    assert body["id"]
    # moto's EventBridge leaves "account" out of what it delivers (DESIGN.md).
    assert body.get("account", ACCOUNT) == ACCOUNT


async def check_job_ends_send_their_events(double: TranscribeDouble) -> None:
    """Once events are on, each standard and Call Analytics job that ends (scripted,
    or started through a Start) sends one event of its kind's shape (FailureReason
    when FAILED); medical and Medical Scribe jobs, and a job that ended before,
    send none."""
    double.start_job("ended-before", duration=0)
    url = double.enable_events()
    assert url == double.events_queue_url  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="enabled already"):
        double.enable_events()
    double.start_job("std-ok", duration=0.2)
    double.start_job("call-failed", kind="call-analytics", duration=0.2, fail_with="No audio.")
    double.start_job("visit", kind="medical", duration=0.1)
    double.start_job("scribe", kind="medical-scribe", duration=0.1)
    async with double.client(max_attempts=1) as client:
        await start(client, STANDARD, "std-api")  # runs RUN_TIME seconds
        await start(client, SCRIBE, "scribe-api")
    bodies = await receive_all(double, 3)
    by_name = {body["detail"].get("TranscriptionJobName"): body for body in bodies}
    check_event_body(by_name["std-ok"], STANDARD, "std-ok", "COMPLETED")
    check_event_body(by_name["std-api"], STANDARD, "std-api", "COMPLETED")
    by_type = {body["detail-type"]: body for body in bodies}
    failed = by_type["Call Analytics Job State Change"]
    check_event_body(failed, CALL, "call-failed", "FAILED")
    assert failed["detail"] == {
        "JobName": "call-failed",
        "JobStatus": "FAILED",
        "FailureReason": "No audio.",
    }


async def check_events_are_best_effort(double: TranscribeDouble) -> None:
    """With duplicate=1 every event comes twice; with loss=1 none comes."""
    double.enable_events(duplicate=1.0, delay=(0.0, 0.1), seed=7)
    double.start_job("twice", duration=0.1)
    bodies = await receive_all(double, 2)
    assert [body["detail"]["TranscriptionJobName"] for body in bodies] == ["twice", "twice"]
    double.reset()
    double.enable_events(loss=1.0)
    double.start_job("lost", duration=0.1)
    await receive_all(double, 0)


async def check_bad_event_options_are_refused_alike(double: TranscribeDouble) -> None:
    """A bad event option is a ValueError naming it, an unknown one a TypeError, and
    events stay off; the queue's URL before enable_events is a RuntimeError."""
    for options, field in (
        ({"loss": 1.5}, "loss"),
        ({"duplicate": -0.1}, "duplicate"),
        ({"delay": (2.0, 1.0)}, "delay"),
        ({"output_lead": (0.0, math.inf)}, "output_lead"),
    ):
        with pytest.raises(ValueError, match=field):
            double.enable_events(**options)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'lost'"):
        double.enable_events(lost=0.5)  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="not enabled"):
        _ = double.events_queue_url  # type: ignore[attr-defined]


async def check_output_objects_are_announced(double: TranscribeDouble) -> None:
    """With output_events, each job writing to a bucket of the caller's announces its
    objects as S3 "Object Created" events: the write-access check object when it
    starts, then its output by the kind's layout; a FAILED job only the check."""
    double.enable_events(output_events=True, output_lead=(0.0, 0.0))
    double.start_job("visit", kind="medical", duration=0.2)
    double.start_job("notes", kind="medical-scribe", duration=0.2, output_bucket="clinic")
    double.start_job("broken", kind="medical", duration=0.1, fail_with="No audio.")
    double.start_job("standard-in-service-bucket", duration=0.1)
    bodies = await receive_all(double, 6 + 1)  # + the standard job's state event
    objects = sorted(
        (body["detail"]["bucket"]["name"], body["detail"]["object"]["key"])
        for body in bodies
        if body["source"] == "aws.s3"
    )
    assert objects == [
        ("clinic", ".write_access_check_file.temp"),
        ("clinic", "notes/summary.json"),
        ("clinic", "notes/transcript.json"),
        ("local-medical-output", "medical/.write_access_check_file.temp"),
        ("local-medical-output", "medical/.write_access_check_file.temp"),
        ("local-medical-output", "medical/visit.json"),
    ]
    for body in bodies:
        if body["source"] == "aws.s3":
            assert (body["detail-type"], body["region"]) == ("Object Created", REGION)


# -- transcripts ------------------------------------------------------------------------

TEXT = "Hello, this is Anna. My account is 4417 1234? Thanks, goodbye!"
SENTENCES = ["Hello, this is Anna.", "My account is 4417 1234?", "Thanks, goodbye!"]


async def check_transcripts_hold_the_text_for_every_kind(double: TranscribeDouble) -> None:
    """Every kind's output, fetched through a Poller (presigned URIs over HTTP, S3
    GetObject for the caller's buckets), holds the text the job was started with,
    sentence by sentence in time order, spoken by the speakers, channels or roles the
    kind labels; its subtitles parse with two subtitle libraries; a Medical Scribe
    job's clinical note has its sections; redaction puts [PII] for digits."""
    import srt
    import webvtt

    from transcribe_poller import Poller

    double.start_job("std", duration=0.3, transcript=TEXT, speakers=2, subtitles=["srt", "vtt"])
    double.start_job("med", kind="medical", duration=0.3, transcript=TEXT, channels=2)
    double.start_job(
        "call",
        kind="call-analytics",
        duration=0.3,
        transcript=TEXT,
        redaction="redacted_and_unredacted",
    )
    double.start_job("scribe", kind="medical-scribe", duration=0.3, transcript=TEXT)
    refs = [
        JobRef("std"),
        JobRef.medical("med"),
        JobRef("call", JobKind.CALL_ANALYTICS),
        JobRef("scribe", JobKind.MEDICAL_SCRIBE),
    ]
    speakers = {
        "std": ["spk_0", "spk_1", "spk_0"],
        "med": ["ch_0", "ch_1", "ch_0"],
        "call": ["AGENT", "CUSTOMER", "AGENT"],
        "scribe": ["CLINICIAN_0", "PATIENT_0", "CLINICIAN_0"],
    }
    async with (
        double.client() as client,
        double.s3_client() as s3,
        Poller(client, s3=s3) as poller,
    ):
        with anyio.fail_after(20):
            async with poller.watch(refs) as events:
                async for event in events:
                    name = event.job.name
                    read = await poller.fetch_transcript(event, redacted=False)
                    assert read.text == TEXT, name
                    assert [s.text for s in read.segments] == SENTENCES, name
                    assert [s.speaker for s in read.segments] == speakers[name], name
                    starts = [s.start for s in read.segments]
                    assert starts == sorted(starts), name
                    assert all(s.start < s.end for s in read.segments), name
                    subtitles = list(srt.parse(read.to_srt()))
                    assert [sub.content.split(": ")[-1] for sub in subtitles] == SENTENCES
                    captions = webvtt.from_string(read.to_vtt())
                    assert [c.text for c in captions] == SENTENCES, name
                    if name == "std":
                        assert set(read.subtitles) == {"srt", "vtt"}  # the job's own files
                    if name == "call":
                        redacted = await poller.fetch_transcript(event)
                        assert redacted.text == TEXT.replace("4417 1234", "[PII] [PII]")
                        assert {s.sentiment for s in redacted.segments} <= {
                            "POSITIVE",
                            "NEUTRAL",
                            "NEGATIVE",
                            "MIXED",
                        }
                    if name == "scribe":
                        note = await poller.fetch_clinical_document(event)
                        assert note.sections[0].name == "CHIEF_COMPLAINT"
                        assert note.sections[0].summaries == (SENTENCES[0],)
        assert poller.statistics().downloads == 4 + 2 + 1 + 1  # + subtitles, redacted, note


async def check_an_expired_uri_is_renewed_with_one_get(double: TranscribeDouble) -> None:
    """A presigned URI signed 20 minutes ago is refused (403, "Request has expired");
    a fetch renews it with exactly one Get and succeeds. A URI the double did not
    sign is refused too, and a second refusal after the renewal is an error."""
    import dataclasses
    from datetime import timedelta, timezone

    from transcribe_poller import JobRef, Poller
    from transcribe_poller.testing._script import signature

    double.start_job("old", duration=0.2, transcript=TEXT)
    async with double.client() as client, Poller(client) as poller:
        with anyio.fail_after(20):
            event = await poller.wait("old")
            script = double.script("old")
            stamp = (datetime.now(timezone.utc) - timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
            assert event.transcript_uri is not None
            uri = re.sub(r"X-Amz-Date=\w+", f"X-Amz-Date={stamp}", event.transcript_uri)
            uri = re.sub(r"X-Amz-Signature=\w+", f"X-Amz-Signature={signature(script, stamp)}", uri)
            expired = dataclasses.replace(event, transcript_uri=uri)
            gets = double.traffic().job(JobRef("old")).requests
            read = await poller.fetch_transcript(expired)
            assert read.text == TEXT
            assert double.traffic().job(JobRef("old")).requests == gets + 1
            assert poller.statistics().download_refreshes == 1


async def check_caller_bucket_output_is_an_s3_object(double: TranscribeDouble) -> None:
    """A medical job's output is an object of the caller's bucket at the key its URI
    names, read with GetObject; once deleted, a fetch says it is gone, naming the
    job and the object."""
    from transcribe_poller import JobRef, Poller, TranscriptUnavailableError

    double.start_job("visit", kind="medical", duration=0.2, transcript=TEXT)
    async with (
        double.client() as client,
        double.s3_client() as s3,
        Poller(client, s3=s3) as poller,
    ):
        with anyio.fail_after(20):
            event = await poller.wait(JobRef.medical("visit"))
            answer = await s3.get_object(Bucket="local-medical-output", Key="medical/visit.json")
            async with answer["Body"] as body:
                document = json.loads(await body.read())
            assert document["results"]["transcripts"] == [{"transcript": TEXT}]
            code, status, _ = await client_error(
                s3.get_object(Bucket="local-medical-output", Key="medical/nobody.json")
            )
            assert (code, status) == ("NoSuchKey", 404)
            await s3.delete_object(Bucket="local-medical-output", Key="medical/visit.json")
            with pytest.raises(TranscriptUnavailableError) as caught:
                await poller.fetch_transcript(event)
    message = str(caught.value)
    assert "medical:visit" in message
    assert "s3://local-medical-output/medical/visit.json" in message
    assert "gone" in message


CHECKS: list[Callable[[TranscribeDouble], Awaitable[None]]] = [
    check_get_follows_the_clock_for_every_kind,
    check_a_failed_job_says_why,
    check_an_unknown_name_is_not_found,
    check_answers_hold_only_the_models_fields,
    check_output_uris_are_where_the_service_puts_them,
    check_list_is_newest_first,
    check_list_pages_follow_each_other,
    check_list_filters_by_status_and_name,
    check_get_and_list_agree,
    check_start_answers_and_runs_run_time,
    check_a_name_in_use_is_one_error,
    check_bad_requests_are_refused_alike,
    check_the_concurrency_cap,
    check_denied_operations,
    check_quotas_throttle,
    check_failures_drops_hangs_and_latency,
    check_an_outage_refuses_then_recovers,
    check_bad_faults_are_refused_alike,
    check_scripts_are_the_ground_truth,
    check_reset_forgets_everything,
    check_job_ends_send_their_events,
    check_events_are_best_effort,
    check_bad_event_options_are_refused_alike,
    check_output_objects_are_announced,
    check_transcripts_hold_the_text_for_every_kind,
    check_an_expired_uri_is_renewed_with_one_get,
    check_caller_bucket_output_is_an_s3_object,
]
