"""A mixed batch of scripted jobs and what the poller must report for each."""

from __future__ import annotations

import random
from dataclasses import dataclass

from transcribe_poller import CompletionEvent, JobKind, JobRef, Outcome
from transcribe_poller.testing import LocalTranscribe

UNKNOWN = [
    JobRef.standard("never-started-1"),
    JobRef.medical("never-started-2"),
    JobRef.call_analytics("never-started-3"),
]


@dataclass(frozen=True)
class Expected:
    outcome: Outcome
    failure_reason: str | None = None
    redaction: str | None = None


def start_batch(
    bed: LocalTranscribe,
    *,
    standard: int,
    medical: int,
    shortest: float,
    longest: float,
    call_analytics: int = 0,
    medical_scribe: int = 0,
    seed: int = 1,
    prefix: str = "",
) -> dict[JobRef, Expected]:
    """Start a batch like a real one: spread durations, some FAILED, some redacted,
    one name shared by jobs of every kind, and three names never started; every name
    begins with ``prefix``, so several batches can share one test bed."""
    rng = random.Random(seed)
    expected: dict[JobRef, Expected] = {}
    for i in range(standard):
        name = prefix + ("shared-name" if i == 0 else f"std-{i:04d}")
        fail = f"media {i} is corrupt" if i % 17 == 5 else None
        redaction = ("redacted", "redacted_and_unredacted", None, None)[i % 4] if not fail else None
        bed.start_job(
            name,
            duration=rng.uniform(shortest, longest),
            fail_with=fail,
            redaction=redaction,
        )
        outcome = Outcome.FAILED if fail else Outcome.COMPLETED
        expected[JobRef.standard(name)] = Expected(outcome, fail, redaction)
    for i in range(medical):
        name = prefix + ("shared-name" if i == 0 else f"med-{i:04d}")
        fail = f"medical media {i} is silent" if i % 13 == 7 else None
        bed.start_job(name, kind="medical", duration=rng.uniform(shortest, longest), fail_with=fail)
        outcome = Outcome.FAILED if fail else Outcome.COMPLETED
        expected[JobRef.medical(name)] = Expected(outcome, fail)
    for i in range(call_analytics):
        name = prefix + ("shared-name" if i == 0 else f"call-{i:04d}")
        fail = f"call {i} has no channels" if i % 7 == 3 else None
        redaction = "redacted" if i % 2 and not fail else None
        bed.start_job(
            name,
            kind="call-analytics",
            duration=rng.uniform(shortest, longest),
            fail_with=fail,
            redaction=redaction,
        )
        outcome = Outcome.FAILED if fail else Outcome.COMPLETED
        expected[JobRef.call_analytics(name)] = Expected(outcome, fail, redaction)
    for i in range(medical_scribe):
        name = prefix + ("shared-name" if i == 0 else f"scribe-{i:04d}")
        fail = f"visit {i} is too short" if i % 7 == 4 else None
        bed.start_job(
            name, kind="medical-scribe", duration=rng.uniform(shortest, longest), fail_with=fail
        )
        outcome = Outcome.FAILED if fail else Outcome.COMPLETED
        expected[JobRef.medical_scribe(name)] = Expected(outcome, fail)
    for ref in UNKNOWN:
        expected[JobRef(prefix + ref.name, ref.kind)] = Expected(Outcome.NOT_FOUND)
    return expected


def check_event(event: CompletionEvent, want: Expected) -> None:
    """The event carries the outcome, URIs and failure reason the script set."""
    assert event.outcome is want.outcome, event
    if want.outcome is Outcome.NOT_FOUND:
        # The service's own message says why.
        assert "couldn't be found" in (event.failure_reason or ""), event
    else:
        assert event.failure_reason == want.failure_reason, event
    if want.outcome is not Outcome.COMPLETED:
        assert event.preferred_uri is None, event
        return
    if want.redaction == "redacted":
        assert event.transcript_uri is None, event
        assert event.redacted_transcript_uri is not None, event
    elif want.redaction == "redacted_and_unredacted":
        assert event.transcript_uri is not None, event
        assert event.redacted_transcript_uri is not None, event
    else:
        assert event.transcript_uri is not None, event
        assert event.redacted_transcript_uri is None, event
    assert event.preferred_uri == (event.redacted_transcript_uri or event.transcript_uri)
    assert event.job.name in event.preferred_uri, event
    if event.job.kind is JobKind.MEDICAL_SCRIBE:
        assert event.clinical_document_uri is not None, event
    else:
        assert event.clinical_document_uri is None, event
