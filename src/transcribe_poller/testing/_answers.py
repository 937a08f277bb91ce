"""Get, List and Start answers for scripted jobs, as the service gives them, for any kind.

Both doubles answer every scripted job from here: FakeTranscribe in memory, the
local test bed for each request that reaches it over HTTP. An answer holds only
the fields botocore's model gives its shape (a real client drops any other), so a
double answers the same in memory as on the wire.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import botocore.exceptions

from .._jobs import JobKind
from ._account import Account, Key
from ._script import ScriptedJob, output_fields
from ._service import ACCOUNT_ID, NOT_FOUND_MESSAGE, STATUSES, KindWire, members

At = Callable[[float], datetime]


def _common(spec: KindWire, script: ScriptedJob, status: str, at: At) -> dict[str, Any]:
    """What a Get answer and a List summary share: name, status, times, outcome."""
    job: dict[str, Any] = {
        spec.name_field: script.name,
        spec.status_field: status,
        "LanguageCode": script.language_code,
        "CreationTime": at(script.started_at),
    }
    if status != "QUEUED":
        job["StartTime"] = at(script.in_progress_at)
    if status in ("COMPLETED", "FAILED"):
        job["CompletionTime"] = at(script.terminal_at)
    if status == "FAILED":
        job["FailureReason"] = script.failure_reason
    if spec.kind is JobKind.MEDICAL:
        job["Specialty"] = script.echo.get("Specialty", "PRIMARYCARE")
        job["Type"] = script.echo.get("Type", "DICTATION")
    if spec.kind is JobKind.CALL_ANALYTICS:
        job["CallAnalyticsJobDetails"] = {"Skipped": []}
    if script.redaction and spec.kind is JobKind.STANDARD:
        job["ContentRedaction"] = {"RedactionType": "PII", "RedactionOutput": script.redaction}
    if script.content_identification:
        job["ContentIdentificationType"] = "PHI"
    return job


def describe_job(
    spec: KindWire,
    script: ScriptedJob,
    status: str,
    *,
    at: At,
    now: float,
    region: str,
    service_host: str | None = None,
) -> dict[str, Any]:
    """The job dict of a Get (or Start) answer; ``at`` turns the clock into datetimes;
    ``service_host`` serves the presigned URIs (see ``output_fields``)."""
    job = {**script.echo, **_common(spec, script, status, at)}
    media = script.media_uri or f"s3://local-media/{script.name}.wav"
    job["Media"] = {**job.get("Media", {}), "MediaFileUri": media}
    if spec.kind in (JobKind.STANDARD, JobKind.MEDICAL):
        job.setdefault("MediaFormat", "wav")
    if script.redaction and spec.kind is JobKind.CALL_ANALYTICS:
        settings = dict(job.get("Settings", {}))
        settings.setdefault(
            "ContentRedaction", {"RedactionType": "PII", "RedactionOutput": script.redaction}
        )
        job["Settings"] = settings
    if status == "COMPLETED":
        job.update(
            output_fields(script, region, ACCOUNT_ID, signed_at=at(now), service_host=service_host)
        )
    known = members(spec.get_operation, spec.job_field)
    return {key: value for key, value in job.items() if key in known}


def read_job(
    spec: KindWire,
    script: ScriptedJob,
    *,
    at: At,
    now: float,
    region: str,
    service_host: str | None = None,
) -> dict[str, Any]:
    """A Get answer of ``script``'s job at ``now``; the first terminal read is noted
    (``first_terminal_read_at``, the ground truth of detection latency)."""
    status = script.status_at(now)
    if status in ("COMPLETED", "FAILED") and script.first_terminal_read_at is None:
        script.first_terminal_read_at = now
    job = describe_job(
        spec, script, status, at=at, now=now, region=region, service_host=service_host
    )
    return {spec.job_field: job}


def summary(spec: KindWire, script: ScriptedJob, status: str, *, at: At) -> dict[str, Any]:
    """A List answer's summary of one job: the summary shape's fields, no URIs."""
    job = _common(spec, script, status, at)
    if spec.kind in (JobKind.STANDARD, JobKind.MEDICAL):
        job["OutputLocationType"] = "CUSTOMER_BUCKET" if script.output_bucket else "SERVICE_BUCKET"
    known = members(spec.list_operation, spec.summaries_field)
    return {key: value for key, value in job.items() if key in known}


def list_page(
    spec: KindWire,
    account: Account,
    *,
    at: At,
    now: float,
    Status: str | None = None,
    JobNameContains: str | None = None,
    NextToken: str | None = None,
    MaxResults: int = 5,
) -> dict[str, Any]:
    """One page of a List answer: newest first, filtered as the service filters.

    The token is the last key returned, so jobs that change status between pages do
    not shift the others (the service's tokens are opaque; moto's are offsets).
    A page of one status costs about the page: the account keeps each status's jobs
    in order.
    """
    if (
        isinstance(MaxResults, bool)
        or not isinstance(MaxResults, int)
        or not (1 <= MaxResults <= 100)
    ):
        raise client_error(
            spec.list_operation,
            400,
            "ValidationException",
            f"1 validation error detected: Value '{MaxResults}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value between 1 and 100",
        )
    if Status is not None and Status not in STATUSES:
        raise client_error(
            spec.list_operation,
            400,
            "ValidationException",
            f"1 validation error detected: Value '{Status}' at 'status' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(STATUSES)}]",
        )
    contains = JobNameContains.lower() if JobNameContains else None
    after = _decode(NextToken, spec) if NextToken else None
    page: list[dict[str, Any]] = []
    last: Key | None = None
    more = False
    for key, script, status in account.listing(spec.kind, now, status=Status, after=after):
        if contains is not None and contains not in script.name.lower():
            continue
        if len(page) == MaxResults:
            more = True
            break
        page.append(summary(spec, script, status, at=at))
        last = key
    answer: dict[str, Any] = {spec.summaries_field: page}
    if Status is not None:
        answer["Status"] = Status
    if more and last is not None:
        answer["NextToken"] = base64.urlsafe_b64encode(json.dumps(last).encode()).decode()
    return answer


def client_error(
    operation: str, status: int, code: str, message: str, retry_after: float | None = None
) -> botocore.exceptions.ClientError:
    """The exception botocore raises for such an answer."""
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "RequestId": "local-request",
                "HostId": "",
                "HTTPStatusCode": status,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
            },
        },
        operation,
    )


def not_found(spec: KindWire) -> botocore.exceptions.ClientError:
    """The error the service answers a Get of a name it does not know."""
    # What the service answers for an unknown name: 400 BadRequestException.
    return client_error(spec.get_operation, 400, "BadRequestException", NOT_FOUND_MESSAGE)


def _decode(token: str, spec: KindWire) -> Key:
    try:
        started, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(started), str(name)
    except (ValueError, TypeError) as error:
        raise client_error(
            spec.list_operation, 400, "BadRequestException", "The NextToken is not valid."
        ) from error


def to_wire(answer: Mapping[str, Any]) -> bytes:
    """An answer as the service's JSON protocol sends it: datetimes as epoch seconds."""
    return json.dumps(
        answer, default=lambda v: v.timestamp() if isinstance(v, datetime) else str(v)
    ).encode()
