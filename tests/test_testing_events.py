"""The local test bed's job state events: moto's EventBridge delivers them to SQS, as AWS."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import anyio
import pytest

from transcribe_poller import Backoff, EventBridgeQueue, JobKind, JobRef, Outcome, Poller
from transcribe_poller.testing import LocalTranscribe
from transcribe_poller.testing._eventwire import EVENT_PATTERN, RULE_NAME, job_event

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.2, maximum=1.0)


async def receive(sqs: Any, url: str, count: int, *, within: float = 10.0) -> list[dict[str, Any]]:
    """Long-poll until ``count`` messages came (or fail after ``within`` seconds)."""
    got: list[dict[str, Any]] = []
    with anyio.fail_after(within):
        while len(got) < count:
            answer = await sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5
            )
            got += answer.get("Messages", [])
    return got


async def settled(bed: LocalTranscribe, *, within: float = 10.0) -> None:
    """Wait until the bed has sent (or lost) every event planned so far."""
    with anyio.fail_after(within):
        # The emitter is a thread of the bed: no anyio.Event to wait on.
        while bed.event_statistics().pending:  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def queue_is_empty(sqs: Any, url: str) -> bool:
    answer = await sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return not answer.get("Messages")


ENDINGS = [
    ("std-ok", JobKind.STANDARD, None),
    ("std-failed", JobKind.STANDARD, "The media format provided does not match."),
    ("call-ok", JobKind.CALL_ANALYTICS, None),
    ("call-failed", JobKind.CALL_ANALYTICS, "Invalid sample rate."),
]


async def test_a_job_end_puts_its_event_in_the_queue(
    local_transcribe_events: LocalTranscribe,
) -> None:
    """One message per ended job, its body the whole event job_event() describes."""
    bed = local_transcribe_events
    scripts = {
        name: bed.start_job(name, kind=kind, duration=0.3, fail_with=fail_with)
        for name, kind, fail_with in ENDINGS
    }
    async with bed.sqs_client() as sqs:
        messages = await receive(sqs, bed.events_queue_url, len(ENDINGS))
        arrived = time.time()
        await settled(bed)
        assert await queue_is_empty(sqs, bed.events_queue_url)
    bodies = [json.loads(message["Body"]) for message in messages]
    by_name = {
        body["detail"].get("TranscriptionJobName") or body["detail"]["JobName"]: body
        for body in bodies
    }
    assert sorted(by_name) == sorted(scripts)
    for name, script in scripts.items():
        body = by_name[name]
        expected = json.loads(job_event(script, bed.region, "-"))
        # moto gives the event its own id and time, and leaves out the account.
        for field in ("version", "detail-type", "source", "region", "resources", "detail"):
            assert body[field] == expected[field], (name, field)
        assert body["time"].endswith("Z")
        sent_at = bed.event_sent_at(name, script.kind)
        assert sent_at is not None
        assert script.terminal_at <= sent_at <= arrived
    stats = bed.event_statistics()
    assert (stats.sent, stats.lost, stats.duplicated, stats.failed) == (4, 0, 0, 0)


async def test_medical_jobs_send_no_event(local_transcribe_events: LocalTranscribe) -> None:
    """Medical and Medical Scribe jobs end silently; a later standard job's event comes."""
    bed = local_transcribe_events
    bed.start_job("visit", kind="medical", duration=0.1)
    bed.start_job("scribe", kind="medical-scribe", duration=0.1)
    bed.start_job("after", duration=0.4)
    async with bed.sqs_client() as sqs:
        messages = await receive(sqs, bed.events_queue_url, 1)
        await settled(bed)
        assert await queue_is_empty(sqs, bed.events_queue_url)
    names = [json.loads(m["Body"])["detail"]["TranscriptionJobName"] for m in messages]
    assert names == ["after"]
    assert bed.event_sent_at("visit", "medical") is None
    assert bed.event_statistics().sent == 1


async def test_lost_events_never_arrive(local_transcribe: LocalTranscribe) -> None:
    """With loss=1.0 every event is counted lost and none reaches the queue."""
    url = local_transcribe.enable_events(loss=1.0)
    local_transcribe.start_job("gone", duration=0.1)
    local_transcribe.start_job("gone-too", kind="call-analytics", duration=0.1)
    await settled(local_transcribe)
    async with local_transcribe.sqs_client() as sqs:
        assert await queue_is_empty(sqs, url)
    stats = local_transcribe.event_statistics()
    assert (stats.sent, stats.lost) == (0, 2)
    assert local_transcribe.event_sent_at("gone") is None


async def test_duplicated_events_arrive_twice(local_transcribe: LocalTranscribe) -> None:
    """With duplicate=1.0 each event reaches the queue twice, each after its own delay."""
    url = local_transcribe.enable_events(duplicate=1.0, delay=(0.0, 0.3), seed=7)
    script = local_transcribe.start_job("twice", duration=0.2)
    async with local_transcribe.sqs_client() as sqs:
        messages = await receive(sqs, url, 2)
        await settled(local_transcribe)
        assert await queue_is_empty(sqs, url)
    details = [json.loads(m["Body"])["detail"] for m in messages]
    assert details == [{"TranscriptionJobName": "twice", "TranscriptionJobStatus": "COMPLETED"}] * 2
    stats = local_transcribe.event_statistics()
    assert (stats.sent, stats.duplicated, stats.lost) == (2, 1, 0)
    sent_at = local_transcribe.event_sent_at("twice")
    assert sent_at is not None
    assert sent_at >= script.terminal_at


async def test_jobs_started_before_enabling_are_covered_unless_ended(
    local_transcribe: LocalTranscribe,
) -> None:
    """A job still running when events are enabled sends one; one already ended, none."""
    local_transcribe.start_job("ended-before", duration=0)
    local_transcribe.start_job("running", duration=0.3)
    url = local_transcribe.enable_events()
    async with local_transcribe.sqs_client() as sqs:
        [message] = await receive(sqs, url, 1)
        await settled(local_transcribe)
        assert await queue_is_empty(sqs, url)
    assert json.loads(message["Body"])["detail"]["TranscriptionJobName"] == "running"


def test_moto_holds_the_rule_target_and_policy_as_on_aws(
    local_transcribe: LocalTranscribe,
) -> None:
    """The rule on the default bus, its one target the queue, the policy naming the rule."""
    import botocore.session

    url = local_transcribe.enable_events()
    session = botocore.session.get_session()
    kwargs = local_transcribe.sqs_client_kwargs()
    events = session.create_client("events", **kwargs)
    sqs = session.create_client("sqs", **kwargs)
    rule = events.describe_rule(Name=RULE_NAME)
    assert json.loads(rule["EventPattern"]) == EVENT_PATTERN
    assert rule["EventBusName"] == "default"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    [target] = events.list_targets_by_rule(Rule=RULE_NAME)["Targets"]
    assert target["Arn"] == attributes["QueueArn"]
    [statement] = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]
    with pytest.raises(RuntimeError, match="enabled already"):
        local_transcribe.enable_events()
    with pytest.raises(ValueError, match="loss"):
        LocalTranscribe().enable_events(loss=1.5)


def test_reset_turns_events_off(local_transcribe: LocalTranscribe) -> None:
    """After reset() there is no queue and nothing is sent until events are enabled again."""
    local_transcribe.enable_events()
    local_transcribe.start_job("cut", duration=60)
    local_transcribe.reset()
    with pytest.raises(RuntimeError, match="not enabled"):
        _ = local_transcribe.events_queue_url
    assert local_transcribe.event_statistics().pending == 0


async def test_sqs_through_the_proxy_is_neither_counted_nor_faulted(
    local_transcribe_events: LocalTranscribe,
) -> None:
    """An SQS client given endpoint_url reaches moto untouched by Transcribe's faults."""
    from aiobotocore.session import get_session

    bed = local_transcribe_events
    bed.set_faults(error_rate=1.0, quota=0.001, burst=1)
    bed.start_job("proxied", duration=0.1)
    async with get_session().create_client("sqs", **bed.client_kwargs()) as sqs:
        [message] = await receive(sqs, bed.events_queue_url, 1)
    assert json.loads(message["Body"])["detail"]["TranscriptionJobName"] == "proxied"
    assert bed.traffic().by_operation == {}


async def test_a_poller_fed_by_the_queue_learns_every_end_with_one_get(
    local_transcribe_events: LocalTranscribe,
) -> None:
    """30 standard jobs hinted by events, 10 medical polled: every event right, ~1 Get each."""
    bed = local_transcribe_events
    rng = random.Random(3)
    jobs: list[JobRef] = []
    for i in range(30):
        failing = "Unsupported media." if i % 7 == 0 else None
        bed.start_job(f"std-{i}", duration=rng.uniform(0.5, 2), fail_with=failing)
        jobs.append(JobRef.standard(f"std-{i}"))
    for i in range(10):
        bed.start_job(f"med-{i}", kind="medical", duration=rng.uniform(0.5, 2))
        jobs.append(JobRef.medical(f"med-{i}"))
    async with bed.client() as transcribe, bed.sqs_client() as sqs:
        queue = EventBridgeQueue(sqs, bed.events_queue_url)
        async with Poller(transcribe, backoff=FAST, notifications=queue) as poller:
            with anyio.fail_after(20):
                async with poller.watch(jobs) as events:
                    found = {event.job: event async for event in events}
            stats = poller.statistics()
    assert set(found) == set(jobs)
    for ref, event in found.items():
        script = bed.script(ref.name, ref.kind)
        assert event.outcome is Outcome(script.outcome), ref
        assert event.failure_reason == script.failure_reason, ref
        assert (event.transcript_uri is not None) is (script.outcome == "COMPLETED"), ref
        assert script.first_terminal_read_at is not None
        if ref.kind is JobKind.STANDARD:
            # Read because of its event, not found by a sweep or a backoff later on.
            sent_at = bed.event_sent_at(ref.name)
            assert sent_at is not None
            assert sent_at <= script.first_terminal_read_at < sent_at + 2.0, ref
    traffic = bed.traffic().by_operation
    standard = sum(
        traffic[op].requests
        for op in ("GetTranscriptionJob", "ListTranscriptionJobs")
        if op in traffic
    )
    medical = sum(
        traffic[op].requests
        for op in ("GetMedicalTranscriptionJob", "ListMedicalTranscriptionJobs")
        if op in traffic
    )
    assert stats.requests == standard + medical
    assert standard <= 1.2 * 30, traffic
    assert stats.queue_messages >= 30
    assert bed.event_statistics().sent == 30


async def test_closing_the_poller_ends_a_long_poll_at_once(
    local_transcribe_events: LocalTranscribe,
) -> None:
    """Leaving the poller while a 20 s receive is in flight returns within a second."""
    bed = local_transcribe_events
    async with bed.client() as transcribe, bed.sqs_client() as sqs:
        queue = EventBridgeQueue(sqs, bed.events_queue_url, wait_time=20)
        async with Poller(transcribe, notifications=queue) as poller:
            with anyio.fail_after(5):
                # The check, then the first receive: the queue has no event to wait on.
                while poller.statistics().queue_requests < 2:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            # Let the receive reach moto and start waiting there.
            await anyio.sleep(0.3)
            left = time.monotonic()
        elapsed = time.monotonic() - left
        assert poller.statistics().queue_requests == 2
    assert elapsed < 1.0


async def test_output_objects_reach_the_queue_through_s3_and_eventbridge(
    local_transcribe: LocalTranscribe,
) -> None:
    """With output events on, a medical job's start writes the check object and its end
    its transcript, a lead before COMPLETED; S3 sends each to EventBridge, whose rule
    puts the whole "Object Created" event in the queue."""
    bed = local_transcribe
    url = bed.enable_events(output_events=True, output_lead=(0.4, 0.4))
    script = bed.start_job("visit-1", kind="medical", duration=1.0)
    async with bed.sqs_client() as sqs:
        got = await receive(sqs, url, 2)
    bodies = [json.loads(m["Body"]) for m in got]
    assert {b["source"] for b in bodies} == {"aws.s3"}
    assert {b["detail-type"] for b in bodies} == {"Object Created"}
    keys = sorted(b["detail"]["object"]["key"] for b in bodies)
    assert keys == ["medical/.write_access_check_file.temp", "medical/visit-1.json"]
    written = bed.output_written_at("visit-1", "medical")
    assert written is not None
    assert written < script.terminal_at
    s3 = bed._setup_client("s3")
    transcript = json.loads(
        s3.get_object(Bucket="local-medical-output", Key=keys[1])["Body"].read()
    )
    assert transcript["results"]["transcripts"][0]["transcript"]


async def test_a_poller_pushed_by_output_objects_reads_medical_jobs_once(
    local_transcribe: LocalTranscribe,
) -> None:
    """Medical and Medical Scribe jobs, no List allowed for them: only their output
    objects can end them, each within a second of its status changing."""
    bed = local_transcribe
    url = bed.enable_events(output_events=True, output_lead=(0.0, 1.0), seed=2)
    jobs = []
    for i in range(6):
        kind = JobKind.MEDICAL if i % 2 else JobKind.MEDICAL_SCRIBE
        bed.start_job(f"visit-{i}", kind=kind, duration=1.5 + i * 0.3)
        jobs.append(JobRef(f"visit-{i}", kind))
    bed.set_faults(denied=["ListMedicalTranscriptionJobs", "ListMedicalScribeJobs"])
    async with bed.client() as transcribe, bed.sqs_client() as sqs:
        config = EventBridgeQueue(sqs, url, output_events=["medical", "medical-scribe"])
        async with Poller(transcribe, notifications=config, sweep="never") as poller:
            with anyio.fail_after(20):
                async with poller.watch(jobs) as events:
                    found = [event async for event in events]
    assert all(event.outcome is Outcome.COMPLETED for event in found)
    for event in found:
        script = bed.script(event.job.name, event.job.kind)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - script.terminal_at < 1.5, event.job
        assert event.polls <= 3, event.job
