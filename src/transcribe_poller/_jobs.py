"""Job references: which job, of which kind, and the service's naming rule."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._exceptions import InvalidJobNameError

# The service's rule for TranscriptionJobName and MedicalTranscriptionJobName.
MAX_NAME_LENGTH = 200
_NAME_RE = re.compile(r"[0-9a-zA-Z._-]+")


class JobKind(str, enum.Enum):
    """The kinds of Transcribe batch jobs, each with its own Get and List operations."""

    STANDARD = "standard"
    """GetTranscriptionJob"""
    MEDICAL = "medical"
    """GetMedicalTranscriptionJob"""
    CALL_ANALYTICS = "call-analytics"
    """GetCallAnalyticsJob"""
    MEDICAL_SCRIBE = "medical-scribe"
    """GetMedicalScribeJob"""

    def __str__(self) -> str:
        return self.value


def validate_job_name(name: object) -> str:
    """Return ``name`` if the service would accept it, else raise InvalidJobNameError."""
    if not isinstance(name, str):
        raise InvalidJobNameError(name, f"must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidJobNameError(name, "must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidJobNameError(
            name, f"is {len(name)} characters long, the limit is {MAX_NAME_LENGTH}"
        )
    if not _NAME_RE.fullmatch(name):
        bad = sorted({c for c in name if not _NAME_RE.fullmatch(c)})
        raise InvalidJobNameError(name, f"may only hold 0-9 a-z A-Z . _ - (found {''.join(bad)!r})")
    return name


KindLike = JobKind | Literal["standard", "medical", "call-analytics", "medical-scribe"]
"""A JobKind, or its value."""


@dataclass(frozen=True, init=False)
class JobRef:
    """One Transcribe job. Jobs of different kinds may share a name: they differ.

    ``kind`` accepts a :class:`JobKind` or its value (``"medical"``); it always
    reads back as a JobKind. ``str(ref)`` is the name for a standard job and
    ``kind:name`` for the others, as job files spell them.
    """

    name: str
    kind: JobKind

    def __init__(self, name: str, kind: KindLike = JobKind.STANDARD) -> None:
        validate_job_name(name)
        if not isinstance(kind, str):  # JobKind is a str too
            raise TypeError(f"job {name!r}: kind must be a JobKind or its value, got {kind!r}")
        try:
            job_kind = JobKind(kind)
        except ValueError:
            expected = " or ".join(repr(k.value) for k in JobKind)
            raise ValueError(f"job {name!r}: unknown kind {kind!r}, expected {expected}") from None
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kind", job_kind)

    @classmethod
    def standard(cls, name: str) -> JobRef:
        """A standard transcription job (``StartTranscriptionJob``): ``JobRef("x")``."""
        return cls(name, JobKind.STANDARD)

    @classmethod
    def medical(cls, name: str) -> JobRef:
        """A medical transcription job (``StartMedicalTranscriptionJob``)."""
        return cls(name, JobKind.MEDICAL)

    @classmethod
    def call_analytics(cls, name: str) -> JobRef:
        """A Call Analytics job (``StartCallAnalyticsJob``)."""
        return cls(name, JobKind.CALL_ANALYTICS)

    @classmethod
    def medical_scribe(cls, name: str) -> JobRef:
        """A Medical Scribe job (``StartMedicalScribeJob``)."""
        return cls(name, JobKind.MEDICAL_SCRIBE)

    def __str__(self) -> str:
        return self.name if self.kind is JobKind.STANDARD else f"{self.kind.value}:{self.name}"


JobLike = JobRef | str
"""Wherever jobs are accepted, a plain ``str`` names a standard job."""


def as_job_ref(job: JobLike) -> JobRef:
    if isinstance(job, JobRef):
        return job
    if isinstance(job, str):
        return JobRef(job)
    raise TypeError(f"expected a JobRef or a job name (str), got {type(job).__name__}: {job!r}")


def as_job_refs(jobs: Iterable[JobLike]) -> list[JobRef]:
    """Validate every job before any is used, dropping repeats but keeping order."""
    if isinstance(jobs, (str, JobRef)):
        # A lone name would otherwise be iterated character by character.
        jobs = [jobs]
    return list(dict.fromkeys(as_job_ref(job) for job in jobs))
