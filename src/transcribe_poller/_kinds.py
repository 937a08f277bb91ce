"""The kinds of Transcribe jobs, one row each: operations, fields, where the URIs are.

Everything that differs between kinds lives in this table, so the poller, the
sweeps and the test beds treat every kind alike, and a new kind is one more row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._jobs import JobKind


@dataclass(frozen=True)
class KindSpec:
    """How the service names one kind of job, checked against botocore's model."""

    kind: JobKind
    get_operation: str  # GetTranscriptionJob
    get_method: str  # the aiobotocore client method: get_transcription_job
    name_field: str  # TranscriptionJobName: the request's and the summaries' name field
    job_field: str  # TranscriptionJob: where the Get answer holds the job
    status_field: str  # TranscriptionJobStatus
    list_operation: str
    list_method: str
    summaries_field: str  # TranscriptionJobSummaries
    output_field: str = "Transcript"  # holds TranscriptFileUri (and the redacted one)


KINDS: Mapping[JobKind, KindSpec] = MappingProxyType(
    {
        JobKind.STANDARD: KindSpec(
            kind=JobKind.STANDARD,
            get_operation="GetTranscriptionJob",
            get_method="get_transcription_job",
            name_field="TranscriptionJobName",
            job_field="TranscriptionJob",
            status_field="TranscriptionJobStatus",
            list_operation="ListTranscriptionJobs",
            list_method="list_transcription_jobs",
            summaries_field="TranscriptionJobSummaries",
        ),
        JobKind.MEDICAL: KindSpec(
            kind=JobKind.MEDICAL,
            get_operation="GetMedicalTranscriptionJob",
            get_method="get_medical_transcription_job",
            name_field="MedicalTranscriptionJobName",
            job_field="MedicalTranscriptionJob",
            # Medical jobs report their status under the standard field's name.
            status_field="TranscriptionJobStatus",
            list_operation="ListMedicalTranscriptionJobs",
            list_method="list_medical_transcription_jobs",
            summaries_field="MedicalTranscriptionJobSummaries",
        ),
    }
)
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED"})
