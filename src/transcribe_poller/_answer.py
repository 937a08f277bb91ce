"""Reading one Get answer: is it about the job asked for, and can it be believed?

An answer is checked against the question before anything follows from it, and
its fields by type, never coerced. Three outcomes, by what waiting can change:

* :class:`Mismatch`: the answer names another job (a proxy or a client that mixes
  up answers): a fault of that read, retried like any other, never an event.
* :class:`Odd`: an answer that cannot be used as it is (no job, no status or an
  unknown one, a field of the wrong type, COMPLETED without its transcript URI):
  read again, since the service may show it right next time; after a few such
  answers in a row it is what the service says, and the job ends with ERROR
  naming what was wrong.
* the job's details, a mapping whose fields the event may be built from.

It does no I/O and reads no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._classify import shown
from ._kinds import KNOWN_STATUSES, TERMINAL_STATUSES, KindSpec


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The answer is about another job."""

    reason: str


@dataclass(frozen=True, slots=True)
class Odd:
    """The answer cannot be used as it is; ``reason`` says what was wrong."""

    reason: str


# Fields of a finished job's details read into the event: each must have this type.
_URI_FIELDS = ("TranscriptFileUri", "RedactedTranscriptFileUri", "ClinicalDocumentUri")


def read_answer(spec: KindSpec, name: str, answer: object) -> Mapping[str, Any] | Mismatch | Odd:
    """The job's details from a Get answer about job ``name``; see the module."""
    operation = spec.get_operation
    if not isinstance(answer, Mapping):
        return Odd(f"{operation} answered a {type(answer).__name__}, not a dict")
    details = answer.get(spec.job_field)
    if details is None:
        return Odd(f"{operation} answered no {spec.job_field}")
    if not isinstance(details, Mapping):
        # Never the value itself: it may hold presigned URIs.
        return Odd(f"{spec.job_field} in the answer is a {type(details).__name__}, not a dict")
    named = details.get(spec.name_field, name)
    if named != name:
        return Mismatch(f"{operation} for job {name!r} answered about job {shown(named, 60)}")
    status = details.get(spec.status_field)
    if status not in KNOWN_STATUSES:
        field = spec.status_field
        what = f"no {field}" if status is None else f"{field} {shown(status)}"
        known = ", ".join(sorted(KNOWN_STATUSES))
        return Odd(f"{operation} answered {what}; expected one of {known}")
    if status in TERMINAL_STATUSES:
        problem = _finished_fields(spec, details, status)
        if problem is not None:
            return Odd(problem)
    return details


def _finished_fields(spec: KindSpec, details: Mapping[str, Any], status: str) -> str | None:
    """What is wrong with a finished job's fields, if anything."""
    output = details.get(spec.output_field)
    where = spec.output_field
    if output is not None and not isinstance(output, Mapping):
        return f"{where} is a {type(output).__name__}, not a dict"
    output = output or {}
    for field in _URI_FIELDS:
        value = output.get(field)
        if value is not None and not isinstance(value, str):
            return f"{where}.{field} is a {type(value).__name__}, not a str"
    reason = details.get("FailureReason")
    if reason is not None and not isinstance(reason, str):
        return f"FailureReason is a {type(reason).__name__}, not a str"
    subtitles = details.get("Subtitles")
    if subtitles is not None:
        if not isinstance(subtitles, Mapping):
            return f"Subtitles is a {type(subtitles).__name__}, not a dict"
        uris = subtitles.get("SubtitleFileUris")
        if uris is not None and (
            not isinstance(uris, (list, tuple)) or not all(isinstance(u, str) for u in uris)
        ):
            return "Subtitles.SubtitleFileUris is not a list of str"
    if status == "COMPLETED" and not (
        output.get("TranscriptFileUri") or output.get("RedactedTranscriptFileUri")
    ):
        return f"COMPLETED without {where}.TranscriptFileUri"
    return None
