"""Close moto 5.2's gaps in its Transcribe models, in-process, without forking moto.

moto's fake jobs advance one status step per read, and its Get answers leave out
fields the real service returns. This module changes two things, and only while the
test bed runs in this process:

* every Get answer gains what moto drops: ``FailureReason`` when FAILED,
  ``ContentRedaction`` when asked for, ``ContentIdentificationType`` for medical jobs,
  and, for a COMPLETED job that moto's time progression left bare, ``Transcript``,
  ``StartTime`` and ``CompletionTime``;
* a scripted job (see :class:`ScriptedJob`) takes its status from the wall clock
  instead of from the number of reads, can end FAILED, and carries the URIs its
  script asks for. Because moto's List filters and answers read the same ``status``
  property, Get and List always agree.

Jobs started through a plain client with no script keep moto's own progression.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

from moto.transcribe import models

from .._jobs import JobKind
from ._script import ScriptedJob, output_fields

_lock = threading.Lock()
_installed = False


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _apply_script(job: Any, script: ScriptedJob, status: str) -> None:
    """Set the moto job's fields to what the real service shows in ``status``."""
    job.output_location_type = "CUSTOMER_BUCKET" if script.output_bucket else "SERVICE_BUCKET"
    if status == "QUEUED":
        return
    job.start_time = _iso(script.in_progress_at)
    if status == "IN_PROGRESS":
        return
    job.completion_time = _iso(script.terminal_at)
    if status == "FAILED":
        job.failure_reason = script.failure_reason
        return
    account = getattr(job, "_account_id", "123456789012")
    fields = output_fields(script, job._region_name, account, signed_at=datetime.now(timezone.utc))
    job.transcript = fields["Transcript"]
    if "Subtitles" in fields:
        job.subtitles["SubtitleFileUris"] = fields["Subtitles"]["SubtitleFileUris"]


def _fill_bare_completion(job: Any) -> None:
    """moto's time progression reaches COMPLETED without the fields advance() sets."""
    now = datetime.now(tz=timezone.utc)
    if job.start_time is None:
        job.start_time = now
    if job.completion_time is None:
        job.completion_time = now
    if job.transcript is None:
        name = getattr(job, "transcription_job_name", None) or job.medical_transcription_job_name
        bucket = job._output_bucket_name or f"aws-transcribe-{job._region_name}-prod"
        job.transcript = {
            "TranscriptFileUri": f"https://s3.{job._region_name}.amazonaws.com/{bucket}/{name}.json"
        }


def _wrap_response_object(original: Any) -> Any:
    def response_object(self: Any, response_type: str) -> dict[str, Any]:
        script: ScriptedJob | None = getattr(self, "_script", None)
        if response_type != "GET":
            return original(self, response_type)  # type: ignore[no-any-return]
        status = self.status
        if script is not None:
            _apply_script(self, script, status)
            if status in ("COMPLETED", "FAILED") and script.first_terminal_read_at is None:
                script.first_terminal_read_at = time.time()
        elif status == "COMPLETED":
            _fill_bare_completion(self)
        answer: dict[str, Any] = original(self, response_type)
        body = next(iter(answer.values()))
        # moto reads the status again, and the clock may have moved it on meanwhile:
        # the answer says the status whose fields were set (COMPLETED with no URI,
        # otherwise, once in some thousands of reads).
        body["TranscriptionJobStatus"] = status
        if status == "FAILED" and self.failure_reason:
            body["FailureReason"] = self.failure_reason
        redaction = getattr(self, "content_redaction", None) or {}
        if redaction.get("RedactionOutput"):
            body["ContentRedaction"] = dict(redaction)
        if getattr(self, "_content_identification", False):
            body["ContentIdentificationType"] = "PHI"
        body["OutputLocationType"] = self.output_location_type
        return answer

    response_object.__wrapped__ = original  # type: ignore[attr-defined]
    return response_object


class _Scripted:
    """Mixed in ahead of moto's job class: the script, not the reads, moves status."""

    _script: ScriptedJob

    @property
    def status(self) -> str:
        return self._script.status()

    @status.setter
    def status(self, value: str) -> None:  # moto's setter; the script decides instead
        pass

    def advance(self) -> None:
        pass


class ScriptedTranscriptionJob(_Scripted, models.FakeTranscriptionJob):  # type: ignore[misc]
    pass


class ScriptedMedicalTranscriptionJob(  # type: ignore[misc]
    _Scripted, models.FakeMedicalTranscriptionJob
):
    pass


def install() -> None:
    """Patch moto's two job classes once per process; later calls do nothing."""
    global _installed
    with _lock:
        if _installed:
            return
        for cls in (models.FakeTranscriptionJob, models.FakeMedicalTranscriptionJob):
            cls.response_object = _wrap_response_object(cls.response_object)  # type: ignore[method-assign]
        _installed = True


def attach_script(job: Any, script: ScriptedJob) -> None:
    """Turn a job moto has just created into a scripted one."""
    job._script = script
    job._content_identification = script.content_identification
    job.__class__ = (
        ScriptedMedicalTranscriptionJob
        if script.kind is JobKind.MEDICAL
        else ScriptedTranscriptionJob
    )
