"""The service as the test doubles speak it: each kind's wire names, written out.

The doubles answer from this table, never from the core's own (``_kinds.KINDS``,
the event tables of the push modules): if a row of the core's table were wrong,
a double reading that same row would agree with it, and no in-memory test could
notice. Here every entry is a literal, checked against botocore's service model
by the conformance suite (``tests/test_contract.py``), which pins the same
entries with literals of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._jobs import JobKind

ACCOUNT_ID = "123456789012"  # moto's account for credentials it does not know
STATUSES = ("QUEUED", "IN_PROGRESS", "FAILED", "COMPLETED")
TERMINAL = ("COMPLETED", "FAILED")
NOT_FOUND_MESSAGE = (
    "The requested job couldn't be found. Check the job name and try your request again."
)
CONFLICT_MESSAGE = "The requested job name already exists. Use a different job name."
LIMIT_MESSAGE = (
    "You have reached your limit of concurrent {kind} jobs. Wait for a job to finish, "
    "or turn on job queueing, and try your request again."
)
QUEUE_FULL_MESSAGE = (
    "Your queue of {kind} jobs is full ({limit} jobs). Wait for jobs to start and try "
    "your request again."
)
# The service's naming rule for every kind: 1 to 200 of these characters.
JOB_NAME = re.compile(r"[0-9a-zA-Z._-]{1,200}")
# The object the service writes where a job's output goes, when the job starts.
WRITE_ACCESS_CHECK = ".write_access_check_file.temp"
# The source of Transcribe's events on EventBridge.
TRANSCRIBE_SOURCE = "aws.transcribe"


@dataclass(frozen=True)
class KindWire:
    """How the service spells one kind: operations, client methods, fields, its event.

    ``event`` is ``(detail-type, name field, status field)`` of the job state event
    the kind sends when a job ends, or None for a kind that sends none.
    """

    kind: JobKind
    start_operation: str
    get_operation: str
    list_operation: str
    start_method: str
    get_method: str
    list_method: str
    name_field: str  # of requests, answers and summaries
    job_field: str  # where Get and Start answers hold the job
    status_field: str
    summaries_field: str
    event: tuple[str, str, str] | None


WIRE: Mapping[JobKind, KindWire] = MappingProxyType(
    {
        JobKind.STANDARD: KindWire(
            kind=JobKind.STANDARD,
            start_operation="StartTranscriptionJob",
            get_operation="GetTranscriptionJob",
            list_operation="ListTranscriptionJobs",
            start_method="start_transcription_job",
            get_method="get_transcription_job",
            list_method="list_transcription_jobs",
            name_field="TranscriptionJobName",
            job_field="TranscriptionJob",
            status_field="TranscriptionJobStatus",
            summaries_field="TranscriptionJobSummaries",
            event=(
                "Transcribe Job State Change",
                "TranscriptionJobName",
                "TranscriptionJobStatus",
            ),
        ),
        JobKind.MEDICAL: KindWire(
            kind=JobKind.MEDICAL,
            start_operation="StartMedicalTranscriptionJob",
            get_operation="GetMedicalTranscriptionJob",
            list_operation="ListMedicalTranscriptionJobs",
            start_method="start_medical_transcription_job",
            get_method="get_medical_transcription_job",
            list_method="list_medical_transcription_jobs",
            name_field="MedicalTranscriptionJobName",
            job_field="MedicalTranscriptionJob",
            status_field="TranscriptionJobStatus",  # the standard field's name
            summaries_field="MedicalTranscriptionJobSummaries",
            event=None,
        ),
        JobKind.CALL_ANALYTICS: KindWire(
            kind=JobKind.CALL_ANALYTICS,
            start_operation="StartCallAnalyticsJob",
            get_operation="GetCallAnalyticsJob",
            list_operation="ListCallAnalyticsJobs",
            start_method="start_call_analytics_job",
            get_method="get_call_analytics_job",
            list_method="list_call_analytics_jobs",
            name_field="CallAnalyticsJobName",
            job_field="CallAnalyticsJob",
            status_field="CallAnalyticsJobStatus",
            summaries_field="CallAnalyticsJobSummaries",
            event=("Call Analytics Job State Change", "JobName", "JobStatus"),
        ),
        JobKind.MEDICAL_SCRIBE: KindWire(
            kind=JobKind.MEDICAL_SCRIBE,
            start_operation="StartMedicalScribeJob",
            get_operation="GetMedicalScribeJob",
            list_operation="ListMedicalScribeJobs",
            start_method="start_medical_scribe_job",
            get_method="get_medical_scribe_job",
            list_method="list_medical_scribe_jobs",
            name_field="MedicalScribeJobName",
            job_field="MedicalScribeJob",
            status_field="MedicalScribeJobStatus",
            summaries_field="MedicalScribeJobSummaries",
            event=None,
        ),
    }
)
# Each operation's kind and verb ("start", "get", "list").
OPERATIONS: Mapping[str, tuple[KindWire, str]] = MappingProxyType(
    {
        operation: (wire, verb)
        for wire in WIRE.values()
        for verb, operation in (
            ("start", wire.start_operation),
            ("get", wire.get_operation),
            ("list", wire.list_operation),
        )
    }
)
# The event each covered kind sends: detail-type -> (kind, name field, status field).
EVENTS: Mapping[str, tuple[JobKind, str, str]] = MappingProxyType(
    {wire.event[0]: (kind, *wire.event[1:]) for kind, wire in WIRE.items() if wire.event}
)
EVENT_KINDS = frozenset(kind for kind, _, _ in EVENTS.values())


@functools.cache
def service_model() -> Any:
    """botocore's model of Transcribe: what a real client checks and parses by."""
    import botocore.session

    return botocore.session.get_session().get_service_model("transcribe")


@functools.cache
def members(operation: str, field: str) -> frozenset[str]:
    """The members botocore's model gives ``field`` of ``operation``'s output: a
    structure's members, or those of a list's items. A real client drops any other
    key of an answer, so a double answering in memory keeps to these."""
    shape = service_model().operation_model(operation).output_shape.members[field]
    if shape.type_name == "list":
        shape = shape.member
    return frozenset(shape.members)


def validate(operation: str, params: Mapping[str, Any]) -> None:
    """Check a request as botocore's client does before sending: raise its
    ParamValidationError for a missing, unknown or mistyped parameter."""
    import botocore.validate

    model = service_model().operation_model(operation)
    botocore.validate.validate_parameters(dict(params), model.input_shape)


__all__ = [
    "ACCOUNT_ID",
    "EVENTS",
    "EVENT_KINDS",
    "OPERATIONS",
    "STATUSES",
    "WIRE",
    "KindWire",
    "members",
    "service_model",
    "validate",
]
