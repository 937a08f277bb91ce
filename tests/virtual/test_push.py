"""Push: EventBridge events in an SQS queue as hints, with polling as reconciliation.

A job whose reads a test counts exactly runs from its start (``queued_for=0``): one
leaving QUEUED between a reconciling sweep's two listings is read once more, rightly
(see ``Sightings.judge``), in about one run in a hundred.
"""

from __future__ import annotations

import json
import random

import anyio
import pytest
import structlog

from transcribe_poller import (
    Backoff,
    EventBridgeQueue,
    JobKind,
    JobRef,
    NotificationsError,
    Outcome,
    Poller,
)
from transcribe_poller._messages import Hint, Reading, read_body
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

pytestmark = pytest.mark.anyio


def event(detail_type: str, detail: object, source: str = "aws.transcribe") -> str:
    return json.dumps({"source": source, "detail-type": detail_type, "detail": detail})


# Literal messages, as the queue holds them (not built by the code under test).
TRANSCRIBE_EVENT = (
    '{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718",'
    '"detail-type":"Transcribe Job State Change","source":"aws.transcribe",'
    '"account":"111122223333","time":"2026-12-04T10:00:00Z","region":"us-west-2",'
    '"resources":[],"detail":{"TranscriptionJobName":"my-job",'
    '"TranscriptionJobStatus":"COMPLETED"}}'
)
CALL_ANALYTICS_EVENT = (
    '{"version":"0","id":"1","detail-type":"Call Analytics Job State Change",'
    '"source":"aws.transcribe","account":"111122223333","time":"2026-12-04T10:00:00Z",'
    '"region":"us-west-2","resources":[],"detail":{"JobName":"call-7","JobStatus":"FAILED",'
    '"FailureReason":"The media could not be read."}}'
)
IN_PROGRESS_EVENT = TRANSCRIBE_EVENT.replace('"COMPLETED"', '"IN_PROGRESS"')
S3_EVENTBRIDGE_EVENT = (
    '{"version":"0","id":"2","detail-type":"Object Created","source":"aws.s3",'
    '"account":"111122223333","time":"2026-12-04T10:00:00Z","region":"us-west-2",'
    '"resources":["arn:aws:s3:::clinic-output"],"detail":{"version":"0",'
    '"bucket":{"name":"clinic-output"},"object":{"key":"medical/visit-1.json",'
    '"size":1024},"reason":"PutObject"}}'
)
S3_RECORDS = (
    '{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2",'
    '"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"clinic-output"},'
    '"object":{"key":"consult-2/summary.json","size":2048}}}]}'
)
BOTH = (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (TRANSCRIBE_EVENT, Reading([Hint(JobRef("my-job"))])),
        (CALL_ANALYTICS_EVENT, Reading([Hint(JobRef.call_analytics("call-7"))])),
        (IN_PROGRESS_EVENT, Reading(done=True)),
        (S3_EVENTBRIDGE_EVENT, Reading([Hint(JobRef.medical("visit-1"), output=True)])),
        (
            S3_RECORDS,
            # The key fits both layouts: a medical job named "summary" may own it too.
            Reading(
                [
                    Hint(JobRef.medical("summary"), output=True),
                    Hint(JobRef.medical_scribe("consult-2"), output=True),
                ]
            ),
        ),
        ("{not json", "not JSON"),
        ("[1, 2]", "not an event"),
        (None, "no body"),
        (event("Object Created", {}), "detail-type 'Object Created'"),
        (event("Transcribe Job State Change", "text"), "no detail"),
        (
            event("Transcribe Job State Change", {"TranscriptionJobName": "a"}),
            "no TranscriptionJobStatus",
        ),
        (
            event(
                "Transcribe Job State Change",
                {"TranscriptionJobName": 7, "TranscriptionJobStatus": "COMPLETED"},
            ),
            "bad TranscriptionJobName",
        ),
        (
            event(
                "Transcribe Job State Change",
                {"TranscriptionJobName": "bad name", "TranscriptionJobStatus": "COMPLETED"},
            ),
            "bad TranscriptionJobName",
        ),
    ],
)
def test_every_message_is_read_or_refused_with_a_reason(
    body: object, expected: Reading | str
) -> None:
    """Each shape of message (Transcribe's events, S3's through EventBridge or direct)
    becomes its hints; anything else a short reason, never an error."""
    assert read_body(body, output_kinds=BOTH) == expected


def batch(fake: FakeTranscribe, standard: int, medical: int, seed: int = 1) -> list[JobRef]:
    rng = random.Random(seed)
    refs = []
    for i in range(standard):
        fake.start_job(f"s-{i:03d}", duration=rng.uniform(15, 90))
        refs.append(JobRef(f"s-{i:03d}"))
    for i in range(medical):
        fake.start_job(f"m-{i:03d}", kind="medical", duration=rng.uniform(15, 90))
        refs.append(JobRef.medical(f"m-{i:03d}"))
    return refs


async def test_events_end_standard_jobs_at_about_one_get_each(fake: FakeTranscribe) -> None:
    """With every event delivered: each standard job ends right after its event with
    one Get (two for the few that started between a sweep's two listings); medical
    jobs are swept as without the queue; SQS costs about two requests per standard
    job."""
    queue = fake.event_queue(delay=(0, 2), seed=1)
    refs = batch(fake, 150, 50)
    # Seeded: the sweep's start within its first interval is drawn from it.
    backoff = Backoff(rng=random.Random(1))
    notifications = EventBridgeQueue(queue, queue.url)
    async with Poller(fake, notifications=notifications, backoff=backoff) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    standard_events = [e for e in events if e.job.kind is JobKind.STANDARD]
    for e in standard_events:
        script = fake.script(e.job.name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - queue.arrived[(JobKind.STANDARD, e.job.name)] < 0.1
        assert e.polls <= 2
    assert sum(e.polls for e in standard_events) <= 1.05 * 150
    traffic = fake.traffic().by_operation
    standard = traffic["GetTranscriptionJob"].requests + traffic["ListTranscriptionJobs"].requests
    assert standard <= 1.2 * 150
    assert traffic["ListMedicalTranscriptionJobs"].requests > 0  # medical: swept as before
    assert stats.queue_requests == queue.requests <= 3 * 150


async def test_a_lost_event_costs_latency_never_the_job(fake: FakeTranscribe) -> None:
    """With 30% of events lost, every job still ends, within the reconcile interval of
    its end (the slow sweep finds it), and duplicates cost nothing: a Get each, and
    one more for a job that started between a sweep's two listings before any
    listing had shown it."""
    queue = fake.event_queue(loss=0.3, duplicate=0.2, delay=(0, 3), seed=4)
    refs = batch(fake, 100, 0, seed=2)
    notifications = EventBridgeQueue(queue, queue.url, reconcile_interval=20)
    backoff = Backoff(rng=random.Random(1))
    async with Poller(fake, notifications=notifications, backoff=backoff) as poller:
        events = await collect(poller, refs)
    assert queue.lost > 10
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    for e in events:
        script = fake.script(e.job.name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at <= 20 + 1
    assert 100 <= fake.traffic().by_operation["GetTranscriptionJob"].requests <= 102


async def test_strange_and_stray_messages_never_make_a_wrong_event(
    fake: FakeTranscribe,
) -> None:
    """Junk, other services' events, a job nobody awaits, IN_PROGRESS after the end,
    and a forged FAILED for a job that completed: the Get decides, junk is deleted."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10, queued_for=0)
    fake.start_job("slow", duration=500)
    for body in (
        "{not json",
        event("Object Created", {"key": "x"}, source="aws.s3"),
        event(
            "Transcribe Job State Change",
            {"TranscriptionJobName": "nobody-here", "TranscriptionJobStatus": "COMPLETED"},
        ),
        event(
            "Transcribe Job State Change",
            {"TranscriptionJobName": "slow", "TranscriptionJobStatus": "FAILED"},
        ),
    ):
        queue.put(body)

    async def late_in_progress() -> None:
        await anyio.sleep(12)
        queue.put(
            event(
                "Transcribe Job State Change",
                {"TranscriptionJobName": "real", "TranscriptionJobStatus": "IN_PROGRESS"},
            )
        )

    async with (
        Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(late_in_progress)
        done = {}
        with anyio.move_on_after(100):  # "slow" runs for 500 s: not awaited to its end
            async with poller.watch(["real", "slow"]) as stream:
                async for e in stream:
                    done[e.job.name] = e
        stats = poller.statistics()
    assert done["real"].outcome is Outcome.COMPLETED
    assert done["real"].polls == 2  # the first look at once, then the read its event brought
    assert "slow" not in done  # the forged FAILED cost one Get, no event
    assert stats.wrong_hints == 1
    assert queue._messages == []  # everything handled was deleted


async def test_others_can_be_left_for_other_consumers(fake: FakeTranscribe) -> None:
    """others="leave" keeps messages about jobs not awaited here in the queue."""
    queue = fake.event_queue()
    fake.start_job("mine", duration=5)
    fake.start_job("theirs", duration=5)
    notifications = EventBridgeQueue(queue, queue.url, others="leave")
    async with Poller(fake, notifications=notifications) as poller:
        await poller.wait("mine")
    bodies = [json.loads(m.body) for m in queue._messages]
    assert [b["detail"]["TranscriptionJobName"] for b in bodies] == ["theirs"]


@pytest.mark.parametrize("problem", ["missing", "denied"])
async def test_a_queue_that_cannot_be_read_is_an_error_at_start(
    fake: FakeTranscribe, problem: str
) -> None:
    """A missing queue or no permission raises NotificationsError naming the queue."""
    queue = fake.event_queue()
    setattr(queue, problem, True)
    with pytest.raises(NotificationsError, match="transcribe-events"):
        async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)):
            pass


async def test_a_queue_outage_falls_back_to_polling_then_resumes(fake: FakeTranscribe) -> None:
    """The queue failing for a minute: one warning, sweeps and Gets carry the jobs, and
    events resume once it answers; nothing is lost."""
    queue = fake.event_queue(seed=3)
    refs = batch(fake, 60, 0, seed=5)
    # Receives are retried at most 30 s apart: this job is pending when they resume.
    fake.start_job("s-last", duration=200)
    refs.append(JobRef("s-last"))
    queue.outage(60)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller:
            events = await collect(poller, refs)
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    said = [entry["event"] for entry in logs if entry["log_level"] == "warning"]
    assert said.count("queue not answering; sweeping and polling instead") == 1
    assert said.count("queue answering again; events resume") == 1
    early = [fake.script(r.name) for r in refs if fake.script(r.name).terminal_at < 55]
    assert early
    for script in early:  # during the outage: found by the sweep's pace, not 30 s
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at < 5


async def test_closing_does_not_wait_for_a_long_poll(fake: FakeTranscribe) -> None:
    """Leaving the poller with a 20 s receive in flight returns at once."""
    queue = fake.event_queue()
    fake.start_job("quick", duration=1)
    async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller:
        await poller.wait("quick")
        await anyio.sleep(0.5)  # the consumer is now inside a 20 s long poll
        leaving = anyio.current_time()
    assert anyio.current_time() - leaving < 0.01


def test_bad_queue_arguments_are_refused() -> None:
    """Wrong clients, URLs, options name the argument."""
    fake = FakeTranscribe()
    queue = fake.event_queue()
    with pytest.raises(TypeError, match="SQS client"):
        EventBridgeQueue(object(), queue.url)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="queue_url"):
        EventBridgeQueue(queue, "transcribe-events")
    with pytest.raises(ValueError, match="others"):
        EventBridgeQueue(queue, queue.url, others="keep")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wait_time"):
        EventBridgeQueue(queue, queue.url, wait_time=30)
    with pytest.raises(TypeError, match="notifications must be an EventBridgeQueue"):
        Poller(fake, notifications=queue)  # type: ignore[arg-type]
