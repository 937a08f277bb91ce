"""The kinds of job as botocore's model names them, the contenders, and constants."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
TERMINAL = ("COMPLETED", "FAILED")


@dataclass(frozen=True)
class Kind:
    """How the service names one kind of job, as botocore's model spells it.

    The benchmark keeps its own table rather than the library's: the waiters and the
    hand-written loop are user code of aiobotocore, and the URI checks are a ground
    truth that must not lean on the code under measure.
    """

    short: str  # in job names: poller-std-0001
    get_operation: str
    list_operation: str
    get_method: str  # the aiobotocore client method
    name_field: str
    job_field: str  # where the Get answer holds the job
    status_field: str
    output_field: str  # holds TranscriptFileUri (and the redacted or clinical ones)
    waiter: str  # botocore's waiter: Delay 10 s, MaxAttempts 180 for every kind


KINDS = {
    "standard": Kind(
        "std",
        "GetTranscriptionJob",
        "ListTranscriptionJobs",
        "get_transcription_job",
        "TranscriptionJobName",
        "TranscriptionJob",
        "TranscriptionJobStatus",
        "Transcript",
        "transcription_job_completed",
    ),
    "medical": Kind(
        "med",
        "GetMedicalTranscriptionJob",
        "ListMedicalTranscriptionJobs",
        "get_medical_transcription_job",
        "MedicalTranscriptionJobName",
        "MedicalTranscriptionJob",
        "TranscriptionJobStatus",  # medical jobs use the standard field's name
        "Transcript",
        "medical_transcription_job_completed",
    ),
    "call-analytics": Kind(
        "cal",
        "GetCallAnalyticsJob",
        "ListCallAnalyticsJobs",
        "get_call_analytics_job",
        "CallAnalyticsJobName",
        "CallAnalyticsJob",
        "CallAnalyticsJobStatus",
        "Transcript",
        "call_analytics_job_completed",
    ),
    "medical-scribe": Kind(
        "scr",
        "GetMedicalScribeJob",
        "ListMedicalScribeJobs",
        "get_medical_scribe_job",
        "MedicalScribeJobName",
        "MedicalScribeJob",
        "MedicalScribeJobStatus",
        "MedicalScribeOutput",
        "medical_scribe_job_completed",
    ),
}
GET_OPERATIONS = tuple(kind.get_operation for kind in KINDS.values())
LIST_OPERATIONS = tuple(kind.list_operation for kind in KINDS.values())
# Kinds whose output can be redacted (only RedactedTranscriptFileUri, or both).
REDACTABLE = ("standard", "call-analytics")

CONTENDERS = {
    "waiter-default": "aiobotocore waiter per job (the kind's own), Delay 10 s, "
    "MaxAttempts 180, client in botocore's default (legacy) retry mode",
    "waiter-adaptive": "the same waiter, client in adaptive retry mode with more attempts",
    "fixed-loop": "hand-written loop, one Get per job every --loop-interval s, "
    "throttled answers ignored (legacy client)",
    "poller": "transcribe_poller.Poller with its defaults (legacy client): sweeps by List "
    "from 2 pending jobs of a kind on",
    "poller-get-only": "transcribe_poller.Poller with Sweep(mode='never'): one Get per job "
    "per poll, no List (legacy client)",
    "poller-push": "transcribe_poller.Poller with notifications=EventBridgeQueue(sqs, url), "
    "its defaults otherwise (legacy client); the bed sends standard and Call Analytics "
    "jobs' events best effort (--event-loss, --event-duplicate, --event-delay)",
}
# The kinds Transcribe sends job state events for (the local bed does the same).
EVENT_KINDS = ("standard", "call-analytics")
