"""Jobs' output objects in S3, for the test doubles: keys, content, and S3's events.

Every medical and Medical Scribe job writes its output into the caller's bucket,
and so do standard and Call Analytics jobs given one. The keys are those its
Get's URIs name (``_script.output_key``, which reads ``OutputKey``); by default
``NAME.json`` for a standard job (and
``redacted-NAME.json`` with redaction), ``medical/NAME.json`` for a medical one,
``analytics/NAME.json`` for Call Analytics, and ``NAME/transcript.json`` plus
``NAME/summary.json`` for Medical Scribe. Each job also writes the service's
write-access check object when it starts. An object lands a lead before the job's
status says COMPLETED, as the service writes first and marks the job done after;
a FAILED job writes no output. Each object holds the job's transcript in its
kind's shape (``_documents``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from .._jobs import JobKind, JobRef
from .._transcript import Transcript
from ._documents import Speech, clinical_document, transcript_document
from ._eventwire import direct_notification, object_created_event, seconds_range
from ._script import ScriptedJob, output_fields
from ._service import ACCOUNT_ID, WRITE_ACCESS_CHECK


def check_lead(lead: object) -> tuple[float, float]:
    """``(shortest, longest)`` seconds an object lands before COMPLETED, else ValueError."""
    return seconds_range("output_lead", lead)


def writes_output(script: ScriptedJob) -> bool:
    """Whether the job writes into a bucket of the caller's (and so S3 may announce it)."""
    return script.output_bucket is not None


def output_objects(script: ScriptedJob) -> dict[str, str]:
    """A COMPLETED job's objects in the caller's bucket, key to what each holds
    (:func:`role_of`), in the order they are written: the keys its Get's URIs name."""
    if script.output_bucket is None:
        return {}
    fields = output_fields(script, "us-east-1", ACCOUNT_ID, signed_at=_EPOCH)
    keys = [urlsplit(uri).path.lstrip("/").partition("/")[2] for uri in _uris(fields)]
    return {unquote(key): role_of(key) for key in keys}


def output_keys(script: ScriptedJob) -> list[str]:
    """The keys of a COMPLETED job's output objects, in the order they are written."""
    return list(output_objects(script))


def role_of(path: str) -> str:
    """What an output object holds, from its key or URI path: ``"summary"`` (a
    Medical Scribe clinical note), ``"srt"`` or ``"vtt"`` (subtitles),
    ``"redacted"`` or ``"transcript"``."""
    base = path.rsplit("/", 1)[-1]
    if base == "summary.json":
        return "summary"
    if base.endswith((".srt", ".vtt")):
        return base.rsplit(".", 1)[1]
    return "redacted" if base.startswith("redacted-") else "transcript"


def check_key(script: ScriptedJob) -> str:
    """Where the job writes the write-access check object when it starts."""
    folder = "medical/" if script.kind is JobKind.MEDICAL else ""
    return f"{folder}{WRITE_ACCESS_CHECK}"


def content(script: ScriptedJob, key: str) -> bytes:
    """The object ``key`` of the job: :func:`content_of` what the key holds."""
    return content_of(script, role_of(key))


def content_of(script: ScriptedJob, role: str) -> bytes:
    """A document of the service's shape (``_documents``) with the job's transcript:
    ``role`` as :func:`role_of` names it."""
    speech = Speech(script.transcript, speakers=script.speakers, channels=script.channels)
    if role == "summary":
        return _json(clinical_document(script.name, speech))
    document = transcript_document(
        script.kind, script.name, speech, redacted=role == "redacted", account=ACCOUNT_ID
    )
    if role in ("srt", "vtt"):
        read = Transcript.from_document(JobRef(script.name, script.kind), document)
        return (read.to_srt() if role == "srt" else read.to_vtt()).encode()
    return _json(document)


def _json(document: object) -> bytes:
    return json.dumps(document, indent=None, separators=(",", ":")).encode()


def _uris(fields: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for group in ("Transcript", "MedicalScribeOutput"):
        found.extend(fields.get(group, {}).values())
    found.extend(fields.get("Subtitles", {}).get("SubtitleFileUris", ()))
    return found


_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


# The event shapes live with the others; these names stay for whoever imported them here.
eventbridge_event = object_created_event

__all__ = [
    "check_key",
    "check_lead",
    "content",
    "content_of",
    "direct_notification",
    "eventbridge_event",
    "output_keys",
    "output_objects",
    "role_of",
    "writes_output",
]
