"""Get and List answers for scripted jobs, as the service gives them, for any kind.

FakeTranscribe answers every kind from here. LocalTranscribe answers from here the
kinds moto does not implement (Call Analytics, Medical Scribe); moto, patched,
answers the others. Both ends agree because both read the same scripts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import botocore.exceptions

from .._jobs import JobKind
from .._kinds import KindSpec
from ._script import ScriptedJob, output_fields

NOT_FOUND_MESSAGE = (
    "The requested job couldn't be found. Check the job name and try your request again."
)
ACCOUNT_ID = "123456789012"


def describe_job(
    spec: KindSpec,
    script: ScriptedJob,
    status: str,
    *,
    at: Callable[[float], datetime],
    now: float,
    region: str,
) -> dict[str, Any]:
    """The job dict of a Get answer; ``at`` turns the script's clock into datetimes."""
    job: dict[str, Any] = {
        spec.name_field: script.name,
        spec.status_field: status,
        "LanguageCode": "en-US",
        "Media": {"MediaFileUri": f"s3://local-media/{script.name}.wav"},
        "CreationTime": at(script.started_at),
    }
    if spec.kind in (JobKind.STANDARD, JobKind.MEDICAL):
        job["MediaFormat"] = "wav"
        job["OutputLocationType"] = "CUSTOMER_BUCKET" if script.output_bucket else "SERVICE_BUCKET"
    if spec.kind is JobKind.CALL_ANALYTICS:
        job["CallAnalyticsJobDetails"] = {"Skipped": []}
    if script.redaction:
        job["ContentRedaction"] = {"RedactionType": "PII", "RedactionOutput": script.redaction}
    if script.content_identification:
        job["ContentIdentificationType"] = "PHI"
    if status != "QUEUED":
        job["StartTime"] = at(script.started_at + script.queued_for)
    if status in ("COMPLETED", "FAILED"):
        job["CompletionTime"] = at(script.terminal_at)
    if status == "FAILED":
        job["FailureReason"] = script.failure_reason
    elif status == "COMPLETED":
        job.update(output_fields(script, region, ACCOUNT_ID, signed_at=at(now)))
    return job


def list_page(
    spec: KindSpec,
    scripts: Iterable[ScriptedJob],
    *,
    at: Callable[[float], datetime],
    now: float,
    Status: str | None = None,
    JobNameContains: str | None = None,
    NextToken: str | None = None,
    MaxResults: int = 100,
) -> dict[str, Any]:
    """One page of a List answer: newest first, filtered as the service filters.

    The token is the last key returned, so jobs that change status between pages do
    not shift the others (the service's tokens are opaque; moto's are offsets).
    """
    contains = JobNameContains.lower() if JobNameContains else None
    rows = sorted(
        ((-script.started_at, script.name), script, script.status_at(now))
        for script in scripts
        if script.kind is spec.kind
    )
    after = _decode(NextToken, spec) if NextToken else None
    page: list[dict[str, Any]] = []
    last: tuple[float, str] | None = None
    more = False
    for key, script, status in rows:
        if Status is not None and status != Status:
            continue
        if contains is not None and contains not in script.name.lower():
            continue
        if after is not None and key <= after:
            continue
        if len(page) == MaxResults:
            more = True
            break
        page.append(
            {
                spec.name_field: script.name,
                spec.status_field: status,
                "CreationTime": at(script.started_at),
                "LanguageCode": "en-US",
            }
        )
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


def not_found(spec: KindSpec) -> botocore.exceptions.ClientError:
    # What the service answers for an unknown name: 400 BadRequestException.
    return client_error(spec.get_operation, 400, "BadRequestException", NOT_FOUND_MESSAGE)


def _decode(token: str, spec: KindSpec) -> tuple[float, str]:
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
