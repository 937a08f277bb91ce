"""Output objects as hints: S3 "Object Created" events, and the job names a key may hold.

Every medical and Medical Scribe job writes its output into the caller's bucket
(``OutputBucketName`` is required for them), and so do standard and Call Analytics
jobs given one. S3 announces each new object either to EventBridge (bucket
notifications to EventBridge on: source ``aws.s3``, detail-type "Object Created",
``detail.bucket.name`` and ``detail.object.key``), from where a rule routes it to
the queue, or to an SQS queue directly (a ``Records`` list, ``eventName``
``ObjectCreated:*``, keys URL-encoded).

By default an output file is named after its job, and each kind has its own
layout, so an object names a job of one kind: ``NAME.json`` for a medical job
(``medical/NAME.json`` as commonly seen, or under any ``OutputKey`` folder);
``NAME/transcript.json`` and ``NAME/summary.json`` for a Medical Scribe job (under
a folder or not); ``NAME.json``, ``redacted-NAME.json`` and subtitles
``NAME.vtt`` / ``NAME.srt`` for a standard job, and ``NAME.json`` or
``redacted-NAME.json`` for Call Analytics. A medical job and a Medical Scribe job
may share a name: each one's objects hint only that job. A key that fits two
layouts (``visit/transcript.json`` is also the file of a medical job named
``transcript``) hints each job it fits, at the cost of a Get.
:func:`default_output_names` reads these; an ``OutputKey`` naming the file itself
needs the queue's ``output_names`` hook, whose answers may be :class:`JobRef`
(that kind only) or plain names (every kind whose objects reach the queue, since
the hook did not say which).

An object is only ever a hint: the names a key yields are candidates, and only
those of awaited jobs cost a Get. A foreign bucket, an unrelated key or the
service's write-access check object costs at most that Get, never a wrong event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from ._jobs import JobKind, JobRef, validate_job_name

S3_SOURCE = "aws.s3"
OBJECT_CREATED = "Object Created"
# What Transcribe writes at the output location when a job starts, to check it may.
WRITE_ACCESS_CHECK = ".write_access_check_file.temp"
# Longest key S3 allows; past it a key is not S3's and is not split at all.
MAX_KEY = 1024


# What each kind's output files end with, by the default layout.
EXTENSIONS: Mapping[JobKind, tuple[str, ...]] = {
    JobKind.STANDARD: (".json", ".vtt", ".srt"),
    JobKind.CALL_ANALYTICS: (".json",),
    JobKind.MEDICAL: (".json",),
}
# A Medical Scribe job writes these two files into a folder named after it.
SCRIBE_FILES = frozenset({"transcript.json", "summary.json"})
# Kinds whose redacted transcript is written as "redacted-NAME.json" (medical
# transcription has no redacted transcript: a prefix there is the job's own name).
REDACTING_KINDS = frozenset({JobKind.STANDARD, JobKind.CALL_ANALYTICS})
REDACTED = "redacted-"

OutputNames = Callable[[str, str], Iterable[str | JobRef]]
"""``(bucket, key) ->`` the jobs the object may belong to: a :class:`JobRef` names a
job of its kind; a plain name, a job of that name of every kind whose objects reach
the queue."""


@dataclass(frozen=True, slots=True)
class OutputObject:
    """One new object an S3 event announced."""

    bucket: str
    key: str


def objects_in(event: Mapping[str, Any]) -> list[OutputObject] | str:
    """The new objects an S3 event announces, or why it announces none (a short reason).

    ``event`` is a decoded message body: an EventBridge event from S3, or S3's own
    notification with a ``Records`` list.
    """
    if "Records" in event:
        return _records(event["Records"])
    if event.get("source") != S3_SOURCE:
        return f"source {event.get('source')!r}"
    if event.get("detail-type") != OBJECT_CREATED:
        return f"detail-type {event.get('detail-type')!r}"
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return "no detail"
    found = _object(detail.get("bucket"), detail.get("object"), encoded=False)
    return [found] if found is not None else "no bucket or key"


def _records(records: object) -> list[OutputObject] | str:
    if not isinstance(records, list):
        return "Records not a list"
    found: list[OutputObject] = []
    for record in records:
        if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
            continue
        name = record.get("eventName")
        if not (isinstance(name, str) and name.startswith("ObjectCreated:")):
            continue
        s3 = record.get("s3")
        if isinstance(s3, Mapping):
            obj = _object(s3.get("bucket"), s3.get("object"), encoded=True)
            if obj is not None:
                found.append(obj)
    return found if found else "no object created"


def _object(bucket: object, obj: object, *, encoded: bool) -> OutputObject | None:
    if not (isinstance(bucket, Mapping) and isinstance(obj, Mapping)):
        return None
    name, key = bucket.get("name"), obj.get("key")
    if not (isinstance(name, str) and isinstance(key, str) and key and len(key) <= 3 * MAX_KEY):
        return None
    # S3's own notifications URL-encode the key (a space is "+"); EventBridge's do not.
    return OutputObject(name, unquote_plus(key) if encoded else key)


def default_output_names(bucket: str, key: str, kind: JobKind) -> list[str]:
    """The names of the jobs of ``kind`` whose output the object may be, by the default
    layout of that kind's output files (see the module docstring).

    Only the file's own name is read, never a folder of the key (except a Medical
    Scribe job's folder, named after it): an ``OutputKey`` folder is the caller's
    and names no job. The write-access check object yields none.
    """
    if len(key) > MAX_KEY:
        return []
    *folders, file = key.split("/")
    if file == WRITE_ACCESS_CHECK:
        return []
    if kind is JobKind.MEDICAL_SCRIBE:
        names = folders[-1:] if file in SCRIBE_FILES else []
    else:
        extension = next((e for e in EXTENSIONS[kind] if file.endswith(e)), None)
        if extension is None:
            return []
        # One extension off, exactly: job "a.b" writes "a.b.json", and job
        # "a.json" writes "a.json.json".
        stem = file[: -len(extension)]
        names = [stem]
        if kind in REDACTING_KINDS and stem.startswith(REDACTED):
            # "redacted-x.json" is job x's redacted transcript, or the transcript of
            # a job named "redacted-x": a name may start with the prefix too.
            names.append(stem.removeprefix(REDACTED))
    found = []
    for name in names:
        try:
            found.append(validate_job_name(name))
        except ValueError:
            continue
    return found
