"""Job references: which job, of which kind, and the service's naming rule."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._exceptions import InvalidJobNameError

# The service's rule for TranscriptionJobName and MedicalTranscriptionJobName.
MAX_NAME_LENGTH = 200
_NAME_RE = re.compile(r"[0-9a-zA-Z._-]+")


class JobKind(str, enum.Enum):
    """Standard jobs use GetTranscriptionJob, medical ones GetMedicalTranscriptionJob."""

    STANDARD = "standard"
    MEDICAL = "medical"

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


@dataclass(frozen=True)
class JobRef:
    """One Transcribe job. A standard and a medical job may share a name: they differ."""

    name: str
    kind: JobKind = JobKind.STANDARD

    def __post_init__(self) -> None:
        validate_job_name(self.name)
        try:
            kind = JobKind(self.kind)
        except ValueError:
            raise ValueError(
                f"job {self.name!r}: unknown kind {self.kind!r}, expected 'standard' or 'medical'"
            ) from None
        object.__setattr__(self, "kind", kind)

    @classmethod
    def standard(cls, name: str) -> JobRef:
        return cls(name, JobKind.STANDARD)

    @classmethod
    def medical(cls, name: str) -> JobRef:
        return cls(name, JobKind.MEDICAL)

    def __str__(self) -> str:
        return self.name if self.kind is JobKind.STANDARD else f"medical:{self.name}"


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
