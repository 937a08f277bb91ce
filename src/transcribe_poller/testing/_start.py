"""Start requests of every kind, answered as the service answers them, for both doubles.

The request is checked as botocore's own client checks it before sending (its
service model, its ParamValidationError), then as the service does (the job's
name, job queueing needs a role). What the request asks for (output location,
redaction, subtitles, settings) becomes the job's script and what its Get answers
echo. :func:`start` then places the job in the account as the service would: a
name in use is ConflictException, a kind at its cap LimitExceededException unless
the request asks for job queueing. FakeTranscribe calls it in memory, the local
test bed for each Start request that reaches it: one behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .._jobs import JobKind, JobRef
from ._account import MAX_QUEUED, Account
from ._answers import client_error
from ._script import ScriptedJob, check_duration, default_transcript
from ._service import (
    CONFLICT_MESSAGE,
    JOB_NAME,
    LIMIT_MESSAGE,
    QUEUE_FULL_MESSAGE,
    WIRE,
    members,
    validate,
)

START_OPERATIONS: Mapping[JobKind, str] = {
    kind: wire.start_operation for kind, wire in WIRE.items()
}
DEFAULT_RUN_TIME = 5.0  # seconds a job started through the API runs, by default
RunTime: TypeAlias = float | Callable[[JobRef], float]
"""How long a job started through a Start operation runs: seconds, or a function of
the job's :class:`JobRef` giving them."""
RunTimeOf = Callable[[JobRef], float]


def run_time_of(run_time: RunTime) -> RunTimeOf:
    """``run_time`` as a function of the job, each answer checked (ValueError)."""
    if not callable(run_time):
        check_duration("run_time", run_time)

    def of(job: JobRef) -> float:
        seconds = run_time(job) if callable(run_time) else run_time
        return check_duration(f"run_time of {job}", seconds)

    return of


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
    speakers: int = 0
    channels: int = 0

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
            transcript=default_transcript(self.name),
            speakers=self.speakers,
            channels=self.channels,
        )


def read_start(kind: JobKind, params: Mapping[str, Any]) -> StartRequest:
    """Check a Start request as botocore's client and the service would.

    Raises botocore's ParamValidationError for what the client refuses before
    sending (a missing or unknown parameter, a wrong type), and a ClientError
    BadRequestException for what the service refuses.
    """
    wire = WIRE[kind]
    operation = wire.start_operation
    validate(operation, params)
    name = params[wire.name_field]
    if not JOB_NAME.fullmatch(name):
        raise client_error(
            operation,
            400,
            "BadRequestException",
            f"1 validation error detected: Value '{name}' at '{wire.name_field}' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "^[0-9a-zA-Z._-]+",
        )
    job_members = members(operation, wire.job_field)
    echo = {key: value for key, value in params.items() if key in job_members}
    echo.pop(wire.name_field, None)
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
        **_labels(kind, params.get("Settings") or {}),
    )


def _labels(kind: JobKind, settings: Mapping[str, Any]) -> dict[str, int]:
    """The speaker labels or channels a standard or medical request's Settings ask for
    (the other kinds label their participants' roles)."""
    if kind not in (JobKind.STANDARD, JobKind.MEDICAL):
        return {}
    if settings.get("ShowSpeakerLabels"):
        return {"speakers": int(settings.get("MaxSpeakerLabels") or 2)}
    if settings.get("ChannelIdentification"):
        return {"channels": 2}
    return {}


def start(
    account: Account, request: StartRequest, now: float, run_time_of: RunTimeOf
) -> ScriptedJob:
    """Place the job ``request`` asks for in ``account`` at ``now``, as the service
    would, and return its script; or raise the ClientError the service answers:
    ConflictException for a name the kind holds, LimitExceededException at the
    kind's cap unless the request may wait (up to the limit of queued jobs)."""
    kind = request.kind
    operation = START_OPERATIONS[kind]
    if (kind, request.name) in account:
        raise client_error(operation, 400, "ConflictException", CONFLICT_MESSAGE)
    if account.at_cap(kind, now):
        _, waiting = account.load(kind, now)
        if not request.deferrable:
            raise client_error(
                operation, 400, "LimitExceededException", LIMIT_MESSAGE.format(kind=kind.value)
            )
        if waiting >= MAX_QUEUED:
            raise client_error(
                operation,
                400,
                "LimitExceededException",
                QUEUE_FULL_MESSAGE.format(kind=kind.value, limit=MAX_QUEUED),
            )
    script = request.script(now, run_time_of(JobRef(request.name, kind)))
    account.add(script)
    return script


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
