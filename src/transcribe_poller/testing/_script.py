"""The script of a job on a test double, and the ground truth tests measure against."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from .._jobs import JobKind, validate_job_name

REDACTION_MODES = ("redacted", "redacted_and_unredacted")
MAX_SPEAKERS = 30  # the service's MaxSpeakerLabels


def default_transcript(name: str) -> str:
    """What a job's recording says when nobody scripted it."""
    return f"This is the transcript of job {name}."


def normal_text(text: str) -> str:
    """A transcript's text as the doubles keep it: words separated by single spaces."""
    return " ".join(text.split())


@dataclass
class ScriptedJob:
    """A job whose progress follows a clock rather than the number of reads.

    ``started_at`` is when the job was started (its CreationTime). The job then
    waits for a slot under the account's concurrency cap (see ``concurrency`` on
    either test double); ``slot_at`` is when it gets one (None: at ``started_at``,
    as for a script no account placed). From its slot the script runs: QUEUED for
    ``queued_for`` seconds, then IN_PROGRESS until ``duration`` seconds after the
    slot, then ``outcome``. A job waiting for a slot reads QUEUED.

    ``terminal_at`` is the time from which every read answers the terminal status:
    the ground truth for detection latency. It is known from the start, even while
    the job waits for its slot: the queue is first in, first out and every script's
    duration is fixed when it starts, so the jobs started before it decide its slot.
    ``first_terminal_read_at`` is when a Get first returned the terminal status.
    Times are on the double's clock, which ``now()`` reads on either:
    ``time.time()`` for LocalTranscribe, the fake's ``clock`` for FakeTranscribe.
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
    slot_at: float | None = None
    # OutputKey (or the key part of a Call Analytics OutputLocation): see output_key().
    output_key: str | None = None
    media_uri: str | None = None
    language_code: str = "en-US"
    # Request fields a Get echoes back (Settings, Specialty, Tags, ...), for jobs
    # started through the API.
    echo: Mapping[str, Any] = field(default_factory=dict)
    # What the recording says (words separated by single spaces), and how the job
    # was asked to label it: speaker labels (0: none) or channels (0: none).
    transcript: str = ""
    speakers: int = 0
    channels: int = 0

    @property
    def runs_from(self) -> float:
        """When the job got its slot and its script began."""
        return self.started_at if self.slot_at is None else self.slot_at

    @property
    def in_progress_at(self) -> float:
        """When it first reads IN_PROGRESS (its StartTime)."""
        return self.runs_from + self.queued_for

    @property
    def terminal_at(self) -> float:
        return self.runs_from + self.duration

    def status_at(self, now: float) -> str:
        if now >= self.terminal_at:
            return self.outcome
        if now >= self.in_progress_at:
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


@dataclass(frozen=True)
class JobSpec:
    """A scripted job, declared once: what ``start_job`` of either double takes.

    The fields are ``start_job``'s keyword arguments with their defaults (see
    ``LocalTranscribe.start_job``); building one checks every field and raises
    ValueError naming the field and the value that is wrong. ``queued_for`` None
    means a quarter of ``duration``; ``output_bucket`` None means the service's
    bucket, except for medical and Medical Scribe jobs whose output always goes to
    a bucket of the caller's.
    """

    name: str
    kind: JobKind | str = JobKind.STANDARD
    duration: float = 1.0
    queued_for: float | None = None
    fail_with: str | None = None
    redaction: str | None = None
    subtitles: Iterable[str] = ()
    content_identification: bool = False
    output_bucket: str | None = None
    transcript: str | None = None
    speakers: int = 0
    channels: int = 0

    def __post_init__(self) -> None:
        try:
            validate_job_name(self.name)
        except ValueError as exc:
            raise ValueError(f"name: {exc}") from None
        try:
            job_kind = JobKind(self.kind)
        except ValueError:
            kinds = ", ".join(repr(k.value) for k in JobKind)
            raise ValueError(f"kind must be one of {kinds}, got {self.kind!r}") from None
        duration = check_duration("duration", self.duration)
        queued = (
            duration / 4
            if self.queued_for is None
            else check_duration("queued_for", self.queued_for)
        )
        if queued > duration:
            raise ValueError(f"queued_for ({queued}) must not exceed duration ({duration})")
        redaction = self.redaction
        if redaction is not None and redaction not in REDACTION_MODES:
            raise ValueError(
                f"redaction must be one of {REDACTION_MODES} or None, got {redaction!r}"
            )
        if redaction is not None and job_kind in (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE):
            raise ValueError(
                f"redaction {redaction!r}: {job_kind.value} jobs have no redacted transcript"
            )
        if self.content_identification and job_kind is not JobKind.MEDICAL:
            raise ValueError("content_identification applies to medical jobs only")
        fail_with = self.fail_with
        if fail_with is not None and (not isinstance(fail_with, str) or not fail_with):
            raise ValueError(f"fail_with must be a non-empty failure reason, got {fail_with!r}")
        if isinstance(self.subtitles, str):
            raise ValueError(f"subtitles must be a list such as ['vtt'], got {self.subtitles!r}")
        subs = tuple(self.subtitles)
        for fmt in subs:
            if fmt not in ("vtt", "srt"):
                raise ValueError(f"subtitles must hold 'vtt' or 'srt', got {fmt!r}")
        if subs and job_kind is not JobKind.STANDARD:
            raise ValueError("subtitles apply to standard jobs only")
        transcript = self.transcript
        if transcript is not None and not isinstance(transcript, str):
            raise ValueError(f"transcript must be a text, got {transcript!r}")
        labels = _labels(job_kind, self.speakers, self.channels)
        object.__setattr__(self, "speakers", labels[0])
        object.__setattr__(self, "channels", labels[1])
        object.__setattr__(self, "kind", job_kind)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "queued_for", queued)
        object.__setattr__(self, "subtitles", subs)
        object.__setattr__(self, "output_bucket", default_bucket(job_kind, self.output_bucket))

    def script(self, started_at: float) -> ScriptedJob:
        """A fresh script of this job, started at ``started_at``."""
        assert self.queued_for is not None  # set by __post_init__
        return ScriptedJob(
            name=self.name,
            kind=JobKind(self.kind),
            duration=float(self.duration),
            queued_for=self.queued_for,
            outcome="FAILED" if self.fail_with is not None else "COMPLETED",
            failure_reason=self.fail_with,
            redaction=self.redaction,
            subtitles=tuple(self.subtitles),
            content_identification=self.content_identification,
            output_bucket=self.output_bucket,
            started_at=started_at,
            transcript=normal_text(
                default_transcript(self.name) if self.transcript is None else self.transcript
            ),
            speakers=self.speakers,
            channels=self.channels,
        )


def _labels(kind: JobKind, speakers: object, channels: object) -> tuple[int, int]:
    """``(speakers, channels)`` checked: speaker labels or channel identification, for
    standard and medical jobs (Call Analytics and Medical Scribe label their
    participants' roles themselves)."""
    for field_name, value in (("speakers", speakers), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{field_name} must be a whole number, got {value!r}")
    assert isinstance(speakers, int)
    assert isinstance(channels, int)
    if speakers and not 2 <= speakers <= MAX_SPEAKERS:
        raise ValueError(f"speakers must be 0 or from 2 to {MAX_SPEAKERS}, got {speakers}")
    if channels not in (0, 2):
        raise ValueError(f"channels must be 0 or 2, got {channels}")
    if speakers and channels:
        raise ValueError("speakers and channels: a job labels speakers or channels, not both")
    if (speakers or channels) and kind not in (JobKind.STANDARD, JobKind.MEDICAL):
        raise ValueError(
            f"speakers and channels apply to standard and medical jobs; {kind.value} jobs "
            "label their participants' roles"
        )
    return speakers, channels


# start_job's keyword arguments and their defaults, read off JobSpec.
SPEC_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {f.name: f.default for f in dataclasses.fields(JobSpec) if f.name != "name"}
)


def output_key(script: ScriptedJob) -> str | None:
    """The S3 key of the job's transcript in the caller's bucket; None in the service's.

    As the service names it: ``NAME.json`` by default (``medical/NAME.json`` for a
    medical job, ``analytics/NAME.json`` for Call Analytics); an ``OutputKey``
    ending in ``.json`` is the file's key, one ending in ``/`` a folder, any other a
    folder too (``key/NAME.json``). Medical Scribe writes ``NAME/transcript.json``.
    """
    if not script.output_bucket:
        return None
    if script.kind is JobKind.MEDICAL_SCRIBE:
        return f"{script.name}/transcript.json"
    key = script.output_key or ""
    if not key:
        folder = {JobKind.MEDICAL: "medical/", JobKind.CALL_ANALYTICS: "analytics/"}
        return f"{folder.get(script.kind, '')}{script.name}.json"
    if key.endswith(".json"):
        return key
    return f"{key.rstrip('/')}/{script.name}.json"


def signature(script: ScriptedJob, stamp: str) -> str:
    """The stand-in signature of a presigned URI of ``script`` signed at ``stamp``:
    the doubles serve a URI only if it matches."""
    return hashlib.sha256(f"{script.token}{stamp}".encode()).hexdigest()


def output_fields(
    script: ScriptedJob,
    region: str,
    account: str,
    *,
    signed_at: datetime,
    service_host: str | None = None,
) -> dict[str, Any]:
    """Where a COMPLETED job's output is, as the service shows it.

    Without an output bucket the URIs are presigned service-bucket URIs, signed at
    ``signed_at`` for 900 s, each Get anew, as the service does; their query string
    stands in for a credential. ``service_host`` is where they point (by default
    S3's host in ``region``; the local bed's own URL, which serves them). Medical
    Scribe output (a transcript and a clinical document) always goes to the
    caller's bucket.
    """
    if script.kind is JobKind.MEDICAL_SCRIBE:
        base = f"https://s3.{region}.amazonaws.com/{script.output_bucket}/{script.name}"
        return {
            "MedicalScribeOutput": {
                "TranscriptFileUri": f"{base}/transcript.json",
                "ClinicalDocumentUri": f"{base}/summary.json",
            }
        }
    key = output_key(script)
    if key is not None:
        prefix = f"https://s3.{region}.amazonaws.com/{script.output_bucket}/{key[: -len('.json')]}"
        query = ""
    else:
        host = service_host or f"https://s3.{region}.amazonaws.com"
        prefix = (
            f"{host}/aws-transcribe-{region}-prod/"
            f"{account}/{script.name}/{script.token[:8]}/asrOutput"
        )
        stamp = signed_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        query = (
            "?X-Amz-Security-Token=local-session-token&X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={stamp}&X-Amz-Expires=900&X-Amz-Signature={signature(script, stamp)}"
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
