"""Reading one queue message, purely: the hints it gives, or why it gives none.

A message body is one of three things: a Transcribe event ("Transcribe Job State
Change", "Call Analytics Job State Change"), an S3 "Object Created" event routed
by EventBridge, or S3's own notification (a ``Records`` list). :func:`read_body`
turns any body into the :class:`Hint` s it gives (a job that may have ended, or
whose output object appeared) or a short reason to drop it. It does no I/O, reads
no clock and holds no state: the consumer (``_queue``) receives, hands each hint to
the scheduler of its kind, and deletes.

A hint is never an event: the Get it prompts decides. So a forged, repeated, late
or malformed message costs at most a Get, never a wrong event.
"""

from __future__ import annotations

import itertools
import json
import reprlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._jobs import JobKind, JobRef, validate_job_name
from ._kinds import TERMINAL_STATUSES
from ._s3events import S3_SOURCE, OutputNames, OutputObject, default_output_names, objects_in

SOURCE = "aws.transcribe"
# detail-type: (kind, name field, status field) in the event's detail.
DETAIL_TYPES: Mapping[str, tuple[JobKind, str, str]] = {
    "Transcribe Job State Change": (
        JobKind.STANDARD,
        "TranscriptionJobName",
        "TranscriptionJobStatus",
    ),
    "Call Analytics Job State Change": (JobKind.CALL_ANALYTICS, "JobName", "JobStatus"),
}
# Names taken from one object: a hook answering more is cut there.
MAX_NAMES_PER_OBJECT = 32


@dataclass(frozen=True, slots=True)
class Hint:
    """Job ``job`` may have ended; ``output``: its output object appeared (its status
    may lag the object for a moment)."""

    job: JobRef
    output: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """What one body gives: its hints, and whether it is done with whoever reads it
    (a state change short of an end is nobody's business)."""

    hints: list[Hint] = field(default_factory=list)
    done: bool = False


def read_body(
    body: object,
    *,
    output_kinds: Collection[JobKind] = (),
    output_names: OutputNames | None = None,
) -> Reading | str:
    """The hints a message body gives, or why it gives none (a short reason).

    ``output_kinds`` are the kinds whose output objects reach the queue, in the
    order their hints should come; ``output_names`` the queue's hook, if any (see
    :class:`EventBridgeQueue`). An exception the hook raises is let through.
    """
    event = decode_body(body)
    if isinstance(event, str):
        return event
    if "Records" in event or event.get("source") == S3_SOURCE:
        objects = objects_in(event)
        if isinstance(objects, str):
            return objects
        hints = [
            Hint(job, output=True)
            for obj in objects
            for job in jobs_of(obj, output_kinds, output_names)
        ]
        return Reading(hints)
    notice = notice_in(event)
    if isinstance(notice, str):
        return notice
    if notice.status not in TERMINAL_STATUSES:
        return Reading(done=True)
    return Reading([Hint(notice.job)])


def jobs_of(
    obj: OutputObject, kinds: Collection[JobKind], hook: OutputNames | None
) -> list[JobRef]:
    """The jobs, among ``kinds``, whose output the object may be."""
    if hook is None:
        # Each kind's own layout: a medical object never hints a Medical Scribe job of
        # the same name, nor the other way round.
        return [
            JobRef(name, kind)
            for kind in kinds
            for name in default_output_names(obj.bucket, obj.key, kind)
        ]
    found: list[JobRef] = []
    # A hook yielding without end is cut: a message's worth of names at most.
    for job in itertools.islice(hook(obj.bucket, obj.key), MAX_NAMES_PER_OBJECT):
        if isinstance(job, JobRef):
            if job.kind in kinds:
                found.append(job)
        elif isinstance(job, str):
            # A bare name says no kind: a job of that name of any kind may own it.
            found.extend(_refs(job, kinds))
    return found


def _refs(name: str, kinds: Collection[JobKind]) -> list[JobRef]:
    try:
        return [JobRef(validate_job_name(name), kind) for kind in kinds]
    except ValueError:
        return []  # not a name the service allows: no job of ours has it


@dataclass(frozen=True, slots=True)
class Notice:
    """What one message says: a job of some kind reached some status."""

    job: JobRef
    status: str


def short(value: object) -> str:
    """A bounded repr of a value taken from a message, for a log line."""
    return reprlib.repr(value)


def decode_body(body: object) -> dict[str, Any] | str:
    """The JSON object in a message body, or why there is none (a short reason).

    Any body at all: a deeply nested one makes ``json.loads`` raise RecursionError,
    which is a reason here like any other.
    """
    if not isinstance(body, str):
        return "no body"
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(event, dict):
        return "not an event"
    return event


def notice_in(event: Mapping[str, Any]) -> Notice | str:
    """The notice in a decoded Transcribe event, or why it is not one."""
    if event.get("source") != SOURCE:
        return f"source {short(event.get('source'))}"
    detail_type = event.get("detail-type")
    found = DETAIL_TYPES.get(detail_type) if isinstance(detail_type, str) else None
    if found is None:
        return f"detail-type {short(detail_type)}"
    kind, name_field, status_field = found
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return "no detail"
    name, status = detail.get(name_field), detail.get(status_field)
    if not isinstance(status, str):
        return f"no {status_field}"
    try:
        return Notice(JobRef(validate_job_name(name), kind), status)
    except ValueError:
        return f"bad {name_field}"
