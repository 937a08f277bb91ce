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
from typing import Any

from .._jobs import JobKind
from ._eventwire import direct_notification, object_created_event, seconds_range
from ._script import ScriptedJob
from ._service import ACCOUNT_ID, WRITE_ACCESS_CHECK


def check_lead(lead: object) -> tuple[float, float]:
    """``(shortest, longest)`` seconds an object lands before COMPLETED, else ValueError."""
    return seconds_range("output_lead", lead)


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
            "accountId": ACCOUNT_ID,
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


# The event shapes live with the others; these names stay for whoever imported them here.
eventbridge_event = object_created_event

__all__ = [
    "check_key",
    "check_lead",
    "content",
    "direct_notification",
    "eventbridge_event",
    "output_keys",
    "writes_output",
]
