"""The kinds of Transcribe jobs, one row each: operations, fields, where the URIs are.

Everything the core needs to know of a kind lives in this table, so the poller and
the sweeps treat every kind alike: for the core, a new kind is one more row here and
one more member of ``JobKind``. The test doubles and the command line spell each
kind's operations and fields in tables of their own, on purpose: the doubles'
literal tables are what checks this one.
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
    start_method: str = ""  # start_transcription_job
    # AWS's default quotas (adjustable per account): Starts per second, and jobs
    # running at once (Medical Scribe's are not published: the transcription ones).
    start_rate: float = 25.0
    max_running: int = 250


KINDS: Mapping[JobKind, KindSpec] = MappingProxyType(
    {
        JobKind.STANDARD: KindSpec(
            kind=JobKind.STANDARD,
            start_method="start_transcription_job",
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
            start_method="start_medical_transcription_job",
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
        JobKind.CALL_ANALYTICS: KindSpec(
            kind=JobKind.CALL_ANALYTICS,
            start_method="start_call_analytics_job",
            start_rate=10.0,
            max_running=100,
            get_operation="GetCallAnalyticsJob",
            get_method="get_call_analytics_job",
            name_field="CallAnalyticsJobName",
            job_field="CallAnalyticsJob",
            status_field="CallAnalyticsJobStatus",
            list_operation="ListCallAnalyticsJobs",
            list_method="list_call_analytics_jobs",
            summaries_field="CallAnalyticsJobSummaries",
        ),
        JobKind.MEDICAL_SCRIBE: KindSpec(
            kind=JobKind.MEDICAL_SCRIBE,
            start_method="start_medical_scribe_job",
            get_operation="GetMedicalScribeJob",
            get_method="get_medical_scribe_job",
            name_field="MedicalScribeJobName",
            job_field="MedicalScribeJob",
            status_field="MedicalScribeJobStatus",
            list_operation="ListMedicalScribeJobs",
            list_method="list_medical_scribe_jobs",
            summaries_field="MedicalScribeJobSummaries",
            # TranscriptFileUri and ClinicalDocumentUri, in the caller's bucket.
            output_field="MedicalScribeOutput",
        ),
    }
)
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED"})
KNOWN_STATUSES = TERMINAL_STATUSES | {"QUEUED", "IN_PROGRESS"}
