"""One request of a batch to start: its kind, name and media, checked. Pure, no I/O.

A request is the parameters of its kind's Start operation with botocore's names;
the kind follows from the name key (``TranscriptionJobName``,
``MedicalTranscriptionJobName``, ``CallAnalyticsJobName``,
``MedicalScribeJobName``). What only the service can judge (the other parameters'
values) is left to botocore's own checks and to the service's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._classify import shown
from ._events import CompletionEvent, Outcome
from ._exceptions import StartRefusedError
from ._jobs import JobKind, JobRef, validate_job_name
from ._kinds import KINDS

NAME_KEYS: Mapping[str, JobKind] = {spec.name_field: kind for kind, spec in KINDS.items()}


@dataclass(frozen=True, slots=True, eq=False)  # hashed as itself
class StartRequest:
    """A request read: its job, its parameters as given, its media, and whether it
    asks the service to queue it (job queueing) rather than take a slot."""

    job: JobRef
    params: Mapping[str, Any]
    media: str
    deferred: bool


def read_request(request: object, index: int) -> StartRequest | CompletionEvent:
    """``request`` (the ``index``-th of its batch, from 1) read, or the ERROR event
    that says what is wrong with it."""
    placeholder = JobRef(f"request-{index}")
    if not isinstance(request, Mapping):
        return refused(
            placeholder, f"request {index} is {shown(request)}, not a dict of Start parameters"
        )
    named = [key for key in NAME_KEYS if key in request]
    if not named:
        keys = ", ".join(NAME_KEYS)
        return refused(placeholder, f"request {index} names no job: it needs one of {keys}")
    if len(named) > 1:
        return refused(placeholder, f"request {index} names two jobs: {named[0]} and {named[1]}")
    key = named[0]
    kind = NAME_KEYS[key]
    try:
        name = validate_job_name(request[key])
    except ValueError as error:
        return refused(JobRef(f"request-{index}", kind), f"{key}: {error}")
    job = JobRef(name, kind)
    media = request.get("Media")
    uri = media.get("MediaFileUri") if isinstance(media, Mapping) else None
    if not isinstance(uri, str) or not uri:
        return refused(job, "the request has no Media.MediaFileUri")
    return StartRequest(job, request, uri, deferred=_deferred(kind, request))


def _deferred(kind: JobKind, request: Mapping[str, Any]) -> bool:
    """Whether the request asks for job queueing: the service then queues it over
    the cap instead of refusing it."""
    if kind is JobKind.STANDARD:
        settings = request.get("JobExecutionSettings")
        return isinstance(settings, Mapping) and bool(settings.get("AllowDeferredExecution"))
    if kind is JobKind.CALL_ANALYTICS:
        return bool(request.get("DataAccessRoleArn"))
    return False


def refused(job: JobRef, reason: str, cause: BaseException | None = None) -> CompletionEvent:
    """The ERROR event of a job that was not started."""
    error = StartRefusedError(job, reason)
    error.__cause__ = cause
    return CompletionEvent(job=job, outcome=Outcome.ERROR, error=error)
