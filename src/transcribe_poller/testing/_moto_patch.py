"""Close moto 5.2's gaps in its own Transcribe jobs, in-process, without forking moto.

The local test bed answers every scripted job itself (``_answers``); moto answers
only for jobs of its own, started at its own URL, which advance one status step
per read (or by the time, see ``LocalTranscribe.set_time_progression``). Their Get
answers leave out fields the real service returns; while the test bed runs in
this process, every such answer gains what moto drops: ``FailureReason`` when
FAILED, ``ContentRedaction`` when asked for and, for a COMPLETED job that moto's
time progression left bare, ``Transcript``, ``StartTime`` and ``CompletionTime``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from moto.transcribe import models

_lock = threading.Lock()
_installed = False


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
        if response_type != "GET":
            return original(self, response_type)  # type: ignore[no-any-return]
        status = self.status
        if status == "COMPLETED":
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
        return answer

    response_object.__wrapped__ = original  # type: ignore[attr-defined]
    return response_object


def install() -> None:
    """Patch moto's two job classes once per process; later calls do nothing."""
    global _installed
    with _lock:
        if _installed:
            return
        for cls in (models.FakeTranscriptionJob, models.FakeMedicalTranscriptionJob):
            cls.response_object = _wrap_response_object(cls.response_object)  # type: ignore[method-assign]
        _installed = True
