"""Start requests of every kind, read as the service reads them, into job scripts.

The request is checked as botocore's own client checks it before sending (its
service model, its ParamValidationError), then as the service does (job queueing
needs a role). What the request asks for (output location, redaction, subtitles,
settings) becomes the job's script and what its Get answers echo.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import botocore.validate

from .._jobs import JobKind, validate_job_name
from .._kinds import KINDS
from ._answers import client_error
from ._script import ScriptedJob

START_OPERATIONS: Mapping[JobKind, str] = {
    JobKind.STANDARD: "StartTranscriptionJob",
    JobKind.MEDICAL: "StartMedicalTranscriptionJob",
    JobKind.CALL_ANALYTICS: "StartCallAnalyticsJob",
    JobKind.MEDICAL_SCRIBE: "StartMedicalScribeJob",
}
CONFLICT_MESSAGE = "The requested job name already exists. Use a different job name."
LIMIT_MESSAGE = (
    "You have reached your limit of concurrent {kind} jobs. Wait for a job to finish, "
    "or turn on job queueing, and try your request again."
)
QUEUE_FULL_MESSAGE = (
    "Your queue of {kind} jobs is full ({limit} jobs). Wait for jobs to start and try "
    "your request again."
)


@functools.cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("transcribe")


@dataclass(frozen=True)
class StartRequest:
    """A Start request of one kind, checked."""

    kind: JobKind
    name: str
    deferrable: bool  # may wait QUEUED when the kind is at its cap
    media_uri: str
    language_code: str
    output_bucket: str | None
    output_key: str | None
    redaction: str | None
    subtitles: tuple[str, ...]
    content_identification: bool
    echo: Mapping[str, Any] = field(default_factory=dict)

    def script(self, started_at: float, duration: float) -> ScriptedJob:
        """The job's script: it runs ``duration`` seconds from its slot, IN_PROGRESS
        from the start (the service answers a started job IN_PROGRESS)."""
        return ScriptedJob(
            name=self.name,
            kind=self.kind,
            duration=duration,
            queued_for=0.0,
            redaction=self.redaction,
            subtitles=self.subtitles,
            content_identification=self.content_identification,
            output_bucket=self.output_bucket,
            started_at=started_at,
            output_key=self.output_key,
            media_uri=self.media_uri,
            language_code=self.language_code,
            echo=self.echo,
        )


def read_start(kind: JobKind, params: Mapping[str, Any]) -> StartRequest:
    """Check a Start request as botocore's client and the service would.

    Raises botocore's ParamValidationError for what the client refuses before
    sending (a missing or unknown parameter, a wrong type), and a ClientError
    BadRequestException for what the service refuses.
    """
    operation = START_OPERATIONS[kind]
    model = _service_model().operation_model(operation)
    botocore.validate.validate_parameters(dict(params), model.input_shape)
    spec = KINDS[kind]
    name = params[spec.name_field]
    try:
        validate_job_name(name)
    except ValueError as error:
        raise client_error(operation, 400, "BadRequestException", str(error)) from None
    job_members = model.output_shape.members[spec.job_field].members
    echo = {key: value for key, value in params.items() if key in job_members}
    echo.pop(spec.name_field, None)
    bucket: str | None = params.get("OutputBucketName")
    key: str | None = params.get("OutputKey")
    redaction: str | None = None
    deferrable = False
    if kind is JobKind.STANDARD:
        redaction = (params.get("ContentRedaction") or {}).get("RedactionOutput")
        execution = params.get("JobExecutionSettings")
        if execution is not None:
            if "AllowDeferredExecution" not in execution or "DataAccessRoleArn" not in execution:
                raise client_error(
                    operation,
                    400,
                    "BadRequestException",
                    "JobExecutionSettings needs both AllowDeferredExecution and DataAccessRoleArn.",
                )
            deferrable = bool(execution["AllowDeferredExecution"])
    elif kind is JobKind.CALL_ANALYTICS:
        settings = params.get("Settings") or {}
        redaction = (settings.get("ContentRedaction") or {}).get("RedactionOutput")
        # The service queues Call Analytics jobs when the request names a role.
        deferrable = "DataAccessRoleArn" in params
        bucket, key = _s3_location(operation, params.get("OutputLocation"))
    return StartRequest(
        kind=kind,
        name=name,
        deferrable=deferrable,
        media_uri=params["Media"].get("MediaFileUri", ""),
        language_code=params.get("LanguageCode", "en-US"),
        output_bucket=bucket,
        output_key=key,
        redaction=redaction,
        subtitles=tuple((params.get("Subtitles") or {}).get("Formats", ())),
        content_identification=params.get("ContentIdentificationType") == "PHI",
        echo=echo,
    )


def _s3_location(operation: str, uri: str | None) -> tuple[str | None, str | None]:
    """(bucket, key) of ``s3://bucket[/key]``; (None, None) for the service's bucket."""
    if uri is None:
        return None, None
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise client_error(
            operation, 400, "BadRequestException", f"OutputLocation must be an S3 URI: {uri!r}"
        )
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key or None
