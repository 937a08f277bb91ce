"""The script of a job on the local test bed, and the ground truth tests measure against."""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._jobs import JobKind, validate_job_name

REDACTION_MODES = ("redacted", "redacted_and_unredacted")


@dataclass
class ScriptedJob:
    """A job whose progress follows the wall clock rather than the number of reads.

    Status is QUEUED for ``queued_for`` seconds, then IN_PROGRESS until ``duration``
    seconds after ``started_at``, then ``outcome``. ``terminal_at`` is the wall-clock
    time (``time.time()``) from which every read answers the terminal status: the
    ground truth for detection latency. ``first_terminal_read_at`` is when a Get first
    returned it.
    """

    name: str
    kind: JobKind
    duration: float
    queued_for: float
    outcome: str = "COMPLETED"
    failure_reason: str | None = None
    redaction: str | None = None
    subtitles: tuple[str, ...] = ()
    content_identification: bool = False
    output_bucket: str | None = None
    started_at: float = field(default_factory=time.time)
    first_terminal_read_at: float | None = None
    # Part of the fake presigned URIs, so each job's are distinct.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def terminal_at(self) -> float:
        return self.started_at + self.duration

    def status_at(self, now: float) -> str:
        if now >= self.terminal_at:
            return self.outcome
        if now >= self.started_at + self.queued_for:
            return "IN_PROGRESS"
        return "QUEUED"

    def status(self) -> str:
        return self.status_at(time.time())


def default_bucket(kind: JobKind | str, output_bucket: str | None) -> str | None:
    """Medical and Medical Scribe output always goes to a bucket of the caller's."""
    if output_bucket is None and str(kind) in (JobKind.MEDICAL.value, JobKind.MEDICAL_SCRIBE.value):
        return "local-medical-output"
    return output_bucket


def check_duration(field_name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field_name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{field_name} must be finite and >= 0, got {value!r}")
    return float(value)


def make_script(
    name: str,
    *,
    kind: JobKind | str,
    duration: float,
    queued_for: float | None,
    fail_with: str | None,
    redaction: str | None,
    subtitles: tuple[str, ...] | list[str],
    content_identification: bool,
    output_bucket: str | None,
) -> ScriptedJob:
    """Check every field of a job script, naming the field and value that is wrong."""
    try:
        validate_job_name(name)
    except ValueError as exc:
        raise ValueError(f"name: {exc}") from None
    try:
        job_kind = JobKind(kind)
    except ValueError:
        kinds = ", ".join(repr(k.value) for k in JobKind)
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}") from None
    duration = check_duration("duration", duration)
    queued = duration / 4 if queued_for is None else check_duration("queued_for", queued_for)
    if queued > duration:
        raise ValueError(f"queued_for ({queued}) must not exceed duration ({duration})")
    if redaction is not None and redaction not in REDACTION_MODES:
        raise ValueError(f"redaction must be one of {REDACTION_MODES} or None, got {redaction!r}")
    if redaction is not None and job_kind in (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE):
        raise ValueError(
            f"redaction {redaction!r}: {job_kind.value} jobs have no redacted transcript"
        )
    if content_identification and job_kind is not JobKind.MEDICAL:
        raise ValueError("content_identification applies to medical jobs only")
    if fail_with is not None and (not isinstance(fail_with, str) or not fail_with):
        raise ValueError(f"fail_with must be a non-empty failure reason, got {fail_with!r}")
    subs = tuple(subtitles)
    for fmt in subs:
        if fmt not in ("vtt", "srt"):
            raise ValueError(f"subtitles must hold 'vtt' or 'srt', got {fmt!r}")
    if subs and job_kind is not JobKind.STANDARD:
        raise ValueError("subtitles apply to standard jobs only")
    return ScriptedJob(
        name=name,
        kind=job_kind,
        duration=duration,
        queued_for=queued,
        outcome="FAILED" if fail_with is not None else "COMPLETED",
        failure_reason=fail_with,
        redaction=redaction,
        subtitles=subs,
        content_identification=content_identification,
        output_bucket=output_bucket,
    )


def output_fields(
    script: ScriptedJob, region: str, account: str, *, signed_at: datetime
) -> dict[str, Any]:
    """Where a COMPLETED job's output is, as the service shows it.

    Without an output bucket the URIs are presigned service-bucket URIs, signed at
    ``signed_at`` for 900 s, each Get anew, as the service does; their query string
    stands in for a credential. Medical Scribe output (a transcript and a clinical
    document) always goes to the caller's bucket.
    """
    if script.kind is JobKind.MEDICAL_SCRIBE:
        base = f"https://s3.{region}.amazonaws.com/{script.output_bucket}/{script.name}"
        return {
            "MedicalScribeOutput": {
                "TranscriptFileUri": f"{base}/transcript.json",
                "ClinicalDocumentUri": f"{base}/summary.json",
            }
        }
    if script.output_bucket:
        prefix = f"https://s3.{region}.amazonaws.com/{script.output_bucket}/{script.name}"
        query = ""
    else:
        prefix = (
            f"https://s3.{region}.amazonaws.com/aws-transcribe-{region}-prod/"
            f"{account}/{script.name}/{script.token[:8]}/asrOutput"
        )
        stamp = signed_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        signature = hashlib.sha256(f"{script.token}{stamp}".encode()).hexdigest()
        query = (
            "?X-Amz-Security-Token=local-session-token&X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={stamp}&X-Amz-Expires=900&X-Amz-Signature={signature}"
        )
    head, _, tail = prefix.rpartition("/")
    transcript: dict[str, str] = {}
    if script.redaction != "redacted":
        transcript["TranscriptFileUri"] = f"{prefix}.json{query}"
    if script.redaction is not None:
        transcript["RedactedTranscriptFileUri"] = f"{head}/redacted-{tail}.json{query}"
    fields: dict[str, Any] = {"Transcript": transcript}
    if script.subtitles:
        fields["Subtitles"] = {
            "Formats": list(script.subtitles),
            "SubtitleFileUris": [f"{prefix}.{fmt}{query}" for fmt in script.subtitles],
        }
    return fields
