"""What the poller reports: one CompletionEvent per job."""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, urlsplit

from ._classify import describe
from ._jobs import JobRef
from ._scrub import scrub

if TYPE_CHECKING:
    from ._kinds import KindSpec


class ReadOnlyDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes: shared by every waiter of an event, yet
    ``dataclasses.asdict``, ``copy.deepcopy`` and ``pickle`` work on it (they do not
    on a ``MappingProxyType``)."""

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __deepcopy__(self, memo: dict[int, Any]) -> ReadOnlyDict:
        return type(self)(copy.deepcopy(dict(self), memo))


class Outcome(str, enum.Enum):
    """How a job's wait ended."""

    COMPLETED = "COMPLETED"
    """The job finished; its transcript URIs are on the event."""
    FAILED = "FAILED"
    """The service says the job failed; ``failure_reason`` is its FailureReason."""
    NOT_FOUND = "NOT_FOUND"
    """No such job, even after the grace period for a job that was just started."""
    TIMED_OUT = "TIMED_OUT"
    """The poller's ``job_timeout`` passed first; the job may still be running."""
    ERROR = "ERROR"
    """Polling failed (access denied, unreachable service, no credentials, faults
    past the retry budget); ``error`` holds the exception."""

    def __str__(self) -> str:
        return self.value


def strip_query(uri: str | None) -> str | None:
    """A URI without its query string, which for presigned URIs is a credential."""
    if uri is None:
        return None
    # scrub() first, for a URI whose query is percent-encoded or JSON-escaped; then
    # the plain cut, which also drops the "?…" scrub() leaves.
    return scrub(uri).split("?", 1)[0]


@dataclass(frozen=True)
class CompletionEvent:
    """The end of one job's wait.

    ``clinical_document_uri`` is the clinical note of a Medical Scribe job.
    ``failure_reason`` says why a job did not complete: the service's FailureReason
    when FAILED, the poller's reason for NOT_FOUND, TIMED_OUT and ERROR.
    ``details`` is the job dict of the Get that saw the job end; for an event
    without a terminal status (TIMED_OUT, ERROR), the job's name and the last status
    read (empty if no read was answered).
    ``polls`` counts the requests made for this job, ``waited`` the seconds since
    polling it began. Presigned URIs (output in the service's bucket) expire after
    about 15 minutes, and their query string is a credential: ``repr()`` leaves it
    out, and so does every log line of this package. ``failure_reason`` is scrubbed
    when the event is made (any URL in it loses its query string), since it is shown
    everywhere: ``repr()``, ``to_dict()``, the log.
    """

    job: JobRef
    outcome: Outcome
    transcript_uri: str | None = None
    redacted_transcript_uri: str | None = None
    subtitle_uris: tuple[str, ...] = ()
    clinical_document_uri: str | None = None
    failure_reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=ReadOnlyDict, compare=False)
    polls: int = 0
    waited: float = 0.0
    error: BaseException | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # A FailureReason or an error message may quote a presigned URL; scrubbed once
        # here, every exit (repr, to_dict, log lines, the command line) gets it clean.
        if self.failure_reason is not None:
            object.__setattr__(self, "failure_reason", scrub(str(self.failure_reason)))

    @property
    def preferred_uri(self) -> str | None:
        """The transcript to fetch: the redacted one when there is one."""
        return self.redacted_transcript_uri or self.transcript_uri

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    @property
    def uris(self) -> tuple[str, ...]:
        """Every URI the event carries."""
        found = (
            self.transcript_uri,
            self.redacted_transcript_uri,
            *self.subtitle_uris,
            self.clinical_document_uri,
        )
        return tuple(uri for uri in found if uri)

    @property
    def expires_at(self) -> datetime | None:
        """When the first of the event's presigned URIs expires (an aware datetime), or
        None when none is presigned (output in your own bucket). A new Get gives fresh
        ones: ``await poller.refresh(event)``."""
        ends = [end for end in map(presigned_expiry, self.uris) if end is not None]
        return min(ends) if ends else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the keys the command line prints, URIs whole.

        The URIs keep their query string, which the caller needs to fetch them (and
        which is a credential: do not log it). ``failure_reason`` and ``error`` are
        scrubbed: a URL quoted in them has no query string. ``details`` is left out:
        it is the service's answer, with datetimes (and a FailureReason as the service
        gave it), and ``json.dumps(event.details, default=str)`` serialises it when
        wanted.
        """
        return {
            "job": self.job.name,
            "kind": self.job.kind.value,
            "outcome": self.outcome.value,
            "transcript_uri": self.transcript_uri,
            "redacted_transcript_uri": self.redacted_transcript_uri,
            "subtitle_uris": list(self.subtitle_uris),
            "clinical_document_uri": self.clinical_document_uri,
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "failure_reason": self.failure_reason,
            "error": None if self.error is None else describe(self.error),
            "polls": self.polls,
            "waited": round(self.waited, 3),
        }

    def __repr__(self) -> str:
        parts = [f"job={self.job}", f"outcome={self.outcome.value}"]
        if self.preferred_uri:
            parts.append(f"uri={strip_query(self.preferred_uri)!r}")
        if self.failure_reason:
            parts.append(f"failure_reason={self.failure_reason!r}")
        if self.error is not None:
            parts.append(f"error={scrub(repr(self.error))}")
        parts.append(f"polls={self.polls}")
        parts.append(f"waited={self.waited:.1f}")
        return f"CompletionEvent({', '.join(parts)})"


def presigned_expiry(uri: str) -> datetime | None:
    """When a SigV4-presigned URI expires: ``X-Amz-Date`` plus ``X-Amz-Expires``."""
    query = parse_qs(urlsplit(uri).query)
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
        lifetime = int(query["X-Amz-Expires"][0])
    except (KeyError, IndexError, ValueError):
        return None
    return signed.replace(tzinfo=timezone.utc) + timedelta(seconds=lifetime)


def event_from_job(
    job: JobRef, spec: KindSpec, details: Mapping[str, Any], *, polls: int, waited: float
) -> CompletionEvent:
    """The event for a job whose Get answered COMPLETED or FAILED."""
    status = details.get(spec.status_field)
    output = details.get(spec.output_field) or {}
    subtitles = (details.get("Subtitles") or {}).get("SubtitleFileUris") or ()
    return CompletionEvent(
        job=job,
        outcome=Outcome.COMPLETED if status == "COMPLETED" else Outcome.FAILED,
        transcript_uri=output.get("TranscriptFileUri"),
        redacted_transcript_uri=output.get("RedactedTranscriptFileUri"),
        subtitle_uris=tuple(subtitles),
        clinical_document_uri=output.get("ClinicalDocumentUri"),
        failure_reason=details.get("FailureReason"),
        details=ReadOnlyDict(details),
        polls=polls,
        waited=waited,
    )
