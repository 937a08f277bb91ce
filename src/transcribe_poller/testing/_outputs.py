"""Jobs' output objects in S3, for the test doubles: keys, content, and S3's events.

Every medical and Medical Scribe job writes its output into the caller's bucket,
and so do standard and Call Analytics jobs given one. The keys follow the
default layouts (no ``OutputKey``): ``NAME.json`` for a standard job (and
``redacted-NAME.json`` with redaction), ``medical/NAME.json`` for a medical one,
``analytics/NAME.json`` for Call Analytics, and ``NAME/transcript.json`` plus
``NAME/summary.json`` for Medical Scribe. Each job also writes the service's
write-access check object when it starts. An object lands a lead before the job's
status says COMPLETED, as the service writes first and marks the job done after;
a FAILED job writes no output.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote_plus

from .._jobs import JobKind
from .._s3events import WRITE_ACCESS_CHECK
from ._script import ScriptedJob


def check_lead(lead: object) -> tuple[float, float]:
    """``(shortest, longest)`` seconds an object lands before COMPLETED, else ValueError."""
    try:
        shortest, longest = (float(x) for x in lead)  # type: ignore[attr-defined]
        ok = 0 <= shortest <= longest and math.isfinite(longest)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"output_lead must be (shortest, longest) seconds, got {lead!r}")
    return shortest, longest


def writes_output(script: ScriptedJob) -> bool:
    """Whether the job writes into a bucket of the caller's (and so S3 may announce it)."""
    return script.output_bucket is not None


def output_keys(script: ScriptedJob) -> list[str]:
    """The keys of a COMPLETED job's output objects, in the order they are written."""
    name = script.name
    if script.kind is JobKind.MEDICAL_SCRIBE:
        return [f"{name}/transcript.json", f"{name}/summary.json"]
    if script.kind is JobKind.MEDICAL:
        return [f"medical/{name}.json"]
    prefix = "analytics/" if script.kind is JobKind.CALL_ANALYTICS else ""
    keys = []
    if script.redaction != "redacted":
        keys.append(f"{prefix}{name}.json")
    if script.redaction is not None:
        keys.append(f"{prefix}redacted-{name}.json")
    keys.extend(f"{name}.{fmt}" for fmt in script.subtitles)
    return keys


def check_key(script: ScriptedJob) -> str:
    """Where the job writes the write-access check object when it starts."""
    folder = "medical/" if script.kind is JobKind.MEDICAL else ""
    return f"{folder}{WRITE_ACCESS_CHECK}"


def content(script: ScriptedJob, key: str) -> bytes:
    """A transcript (or clinical note) of the service's shape for the object ``key``."""
    if key.endswith("summary.json"):
        body: dict[str, Any] = {
            "ClinicalDocumentation": {
                "Sections": [{"SectionName": "CHIEF_COMPLAINT", "Summary": []}]
            }
        }
    elif key.endswith((".vtt", ".srt")):
        return b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello.\n"
    else:
        body = {
            "jobName": script.name,
            "accountId": "123456789012",
            "status": "COMPLETED",
            "results": {
                "transcripts": [{"transcript": "Hello."}],
                "items": [
                    {
                        "start_time": "0.0",
                        "end_time": "0.5",
                        "alternatives": [{"confidence": "0.99", "content": "Hello"}],
                        "type": "pronunciation",
                    }
                ],
            },
        }
    return json.dumps(body).encode()


def eventbridge_event(bucket: str, key: str, region: str, at: str, event_id: str) -> str:
    """The "Object Created" event S3 sends to EventBridge, as a rule delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": at,
            "region": region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": key, "size": 1024},
                "request-id": event_id,
                "requester": "123456789012",
                "reason": "PutObject",
            },
        }
    )


def direct_notification(bucket: str, key: str, region: str, at: str) -> str:
    """S3's own notification to an SQS queue: a ``Records`` list, the key URL-encoded."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": region,
                    "eventTime": at,
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": quote_plus(key, safe="/"), "size": 1024},
                    },
                }
            ]
        }
    )
