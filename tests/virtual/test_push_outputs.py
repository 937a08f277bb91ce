"""Push for every kind: output objects in S3 as hints, poison messages, queue configuration."""

from __future__ import annotations

import json
import math
import random
from typing import Any

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
from transcribe_poller._s3events import (
    OUTPUT_SETTLE,
    OutputObject,
    default_output_names,
    objects_in,
)
from transcribe_poller.testing import FakeTranscribe
from transcribe_poller.testing._outputs import direct_notification, eventbridge_event

from ._helpers import collect

pytestmark = pytest.mark.anyio

MEDICAL_KINDS = (JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# -- reading S3's events ---------------------------------------------------------------


def test_eventbridge_and_direct_notifications_name_the_same_object() -> None:
    """An "Object Created" event through EventBridge and S3's own notification (its key
    URL-encoded) both give the bucket and the key as written."""
    key = "my folder/medical/visit-1.json"
    bridged = json.loads(eventbridge_event("out", key, "us-east-1", "t", "id"))
    direct = json.loads(direct_notification("out", key, "us-east-1", "t"))
    assert "+" in direct["Records"][0]["s3"]["object"]["key"]
    assert objects_in(bridged) == objects_in(direct) == [OutputObject("out", key)]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}}, "detail-type"),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": "x"}, "no detail"),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}, "no bucket"),
        ({"Records": "x"}, "not a list"),
        (
            {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete"}]},
            "no object",
        ),
        ({"Service": "Amazon S3", "Event": "s3:TestEvent"}, "source"),
    ],
)
def test_other_s3_messages_announce_no_object(event: dict[str, Any], reason: str) -> None:
    """Deletions, S3's test event and malformed records give a reason, not an object."""
    found = objects_in(event)
    assert isinstance(found, str)
    assert reason in found


@pytest.mark.parametrize(
    ("key", "names"),
    [
        ("medical/visit-1.json", ["medical", "visit-1", "visit-1.json"]),
        ("visit-2/transcript.json", ["visit-2", "transcript", "transcript.json"]),
        ("redacted-call.7.json", ["call", "call.7", "call.7.json"]),
        ("medical/.write_access_check_file.temp", []),
        ("a b/c.json", ["c", "c.json"]),
    ],
)
def test_a_key_yields_the_job_names_it_may_hold(key: str, names: list[str]) -> None:
    """Folders and the file name cut at each dot, valid names only; the check object none."""
    assert default_output_names("bucket", key) == names


# -- medical and Medical Scribe jobs pushed ------------------------------------------


def mixed_batch(fake: FakeTranscribe, count: int, seed: int) -> list[JobRef]:
    rng = random.Random(seed)
    refs = []
    for i in range(count):
        kind = rng.choice(list(JobKind))
        fail = "The media could not be read." if rng.random() < 0.05 else None
        fake.start_job(f"j-{i:04d}", kind=kind, duration=rng.uniform(15, 120), fail_with=fail)
        refs.append(JobRef(f"j-{i:04d}", kind))
    return refs


async def test_output_objects_push_medical_and_scribe_jobs(fake: FakeTranscribe) -> None:
    """10% of events lost, 5% twice, objects up to 1 s ahead of COMPLETED: no job lost or
    wrong; jobs whose object arrived found within 1 s (p95) of their status changing;
    at most 1.5 requests per medical job; failed ones within the reconcile interval."""
    queue = fake.event_queue(loss=0.10, duplicate=0.05, delay=(0, 0.2), output_events=True, seed=7)
    refs = mixed_batch(fake, 400, seed=3)
    config = EventBridgeQueue(
        queue, queue.url, output_events=["medical", JobKind.MEDICAL_SCRIBE], reconcile_interval=30
    )
    async with Poller(fake, notifications=config) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert len(events) == len(refs)
    arrived, failed = [], []
    for e in events:
        script = fake.script(e.job.name, e.job.kind)
        assert e.outcome.value == script.outcome
        assert script.first_terminal_read_at is not None
        late = script.first_terminal_read_at - script.terminal_at
        if e.job.kind not in MEDICAL_KINDS:
            continue
        if script.outcome == "FAILED":
            failed.append(late)
        elif (e.job.kind, e.job.name) in queue.object_arrived:
            arrived.append(late)
    assert len(arrived) > 150
    assert failed
    assert p95(arrived) <= 1.0
    assert max(failed) <= 30 + 5
    traffic = fake.traffic().by_operation
    medical = sum(1 for r in refs if r.kind is JobKind.MEDICAL)
    requests = (
        traffic["GetMedicalTranscriptionJob"].requests
        + traffic["ListMedicalTranscriptionJobs"].requests
    )
    assert requests / medical <= 1.5
    assert stats.output_rereads > 0
    assert stats.wrong_hints == 0


async def test_an_object_ahead_of_its_status_is_read_again_soon(fake: FakeTranscribe) -> None:
    """The object lands 2 s before COMPLETED: the Get it prompts reads IN_PROGRESS, and
    the job is read again shortly until it ends, not after the reconcile interval;
    the repeated reads are counted, and no hint is called wrong."""
    queue = fake.event_queue(output_events=True, output_lead=(2.0, 2.0))
    script = fake.start_job("visit", kind="medical", duration=60)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    async with Poller(fake, notifications=config) as poller:
        event = await poller.wait(JobRef.medical("visit"))
        stats = poller.statistics()
    assert event.outcome is Outcome.COMPLETED
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at - script.terminal_at < 0.5
    assert stats.output_rereads >= 3
    assert stats.wrong_hints == 0
    assert event.polls == 1 + stats.output_rereads


async def test_an_object_that_never_turns_complete_costs_a_bounded_few_reads(
    fake: FakeTranscribe,
) -> None:
    """An object announced long before the job ends (a stray write under its name):
    a few reads, then the job waits for reconciliation like any other."""
    queue = fake.event_queue()
    fake.start_job("long", kind="medical", duration=600)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    async with Poller(fake, notifications=config) as poller:
        async with anyio.create_task_group() as tg:

            async def announce() -> None:
                await anyio.sleep(10)
                queue.put(eventbridge_event("b", "medical/long.json", "us-east-1", "t", "x"))

            tg.start_soon(announce)
            await poller.wait(JobRef.medical("long"))
        stats = poller.statistics()
    gets = fake.traffic().by_operation["GetMedicalTranscriptionJob"].requests
    assert stats.output_rereads == 5
    # The object's reads, and the covered kind's last-resort reads every 120 s.
    assert gets <= 1 + 5 + 600 / 120


async def test_foreign_and_unrelated_objects_cost_at_most_a_get_never_an_event(
    fake: FakeTranscribe,
) -> None:
    """A foreign bucket, an unrelated key, the check object, a duplicate: no event."""
    queue = fake.event_queue()
    fake.start_job("visit", kind="medical", duration=300)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    for bucket, key in [
        ("someone-else", "photos/cat.jpg"),
        ("out", "medical/.write_access_check_file.temp"),
        ("someone-else", "visit/notes.txt"),  # the name of an awaited job: one Get
        ("someone-else", "visit/notes.txt"),
    ]:
        queue.put(eventbridge_event(bucket, key, "us-east-1", "t", "x"))
    async with Poller(fake, notifications=config) as poller:
        with anyio.move_on_after(100):
            await poller.wait(JobRef.medical("visit"))
            pytest.fail("the job ends at 300 s")
    gets = fake.traffic().by_operation["GetMedicalTranscriptionJob"].requests
    assert 1 <= gets <= 1 + 5  # the one object's read and its bounded rereads
    assert queue._messages == []


async def test_without_output_events_nothing_changes(fake: FakeTranscribe) -> None:
    """Objects reaching a queue that does not declare them are deleted unused: medical
    jobs are swept as without a queue."""
    queue = fake.event_queue(output_events=True)
    refs = [JobRef.medical(f"m-{i}") for i in range(10)]
    for ref in refs:
        fake.start_job(ref.name, kind="medical", duration=30)
    async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller:
        events = await collect(poller, refs)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert stats.output_rereads == 0
    assert stats.sweeps > 3  # swept at the usual pace, not once per reconcile interval


async def test_a_custom_output_layout_is_read_by_the_hook(fake: FakeTranscribe) -> None:
    """output_names maps keys of a custom OutputKey layout to job names."""
    queue = fake.event_queue()
    fake.start_job("visit-9", kind="medical-scribe", duration=40)

    def names(bucket: str, key: str) -> list[str]:
        return [key.split("/")[1].removeprefix("job=")] if key.startswith("scribe/") else []

    config = EventBridgeQueue(
        queue, queue.url, output_events=["medical-scribe"], output_names=names
    )

    async def announce() -> None:
        await anyio.sleep(40.1)
        queue.put(eventbridge_event("b", "scribe/job=visit-9/out.json", "us-east-1", "t", "x"))

    async with Poller(fake, notifications=config) as poller, anyio.create_task_group() as tg:
        tg.start_soon(announce)
        await poller.wait(JobRef.medical_scribe("visit-9"))
        found = anyio.current_time()
    # The fake queue looks for put() messages each second; then the settle wait.
    assert found - 40.1 <= 1.0 + OUTPUT_SETTLE + 0.01


# -- poison messages ----------------------------------------------------------------


async def test_poison_messages_are_deleted_and_spare_their_batch(fake: FakeTranscribe) -> None:
    """Deeply nested JSON, a hook that raises, bodies of every wrong type, in one batch
    with a real event: the real one is acted on, the rest deleted, no warning that the
    queue is not answering, nothing raised."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10)
    nested = "[" * 100_000 + "]" * 100_000
    for body in [nested, nested, '{"Records": [' + "{" * 5000 + "}" * 5000 + "]}", "7", "null"]:
        queue.put(body)

    def hook(bucket: str, key: str) -> list[str]:
        raise RuntimeError("bad layout")

    queue.put(eventbridge_event("b", "x.json", "us-east-1", "t", "x"))
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"], output_names=hook)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=config) as poller:
            event = await poller.wait("real")
    assert event.outcome is Outcome.COMPLETED
    assert event.polls == 1
    assert queue._messages == []
    warnings = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert warnings == ["output_names failed; objects it cannot read are ignored"]


async def test_poison_is_left_when_others_is_leave(fake: FakeTranscribe) -> None:
    """With others="leave", an unusable message stays for other consumers; the rest of
    its batch is still handled."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10)
    queue.put("[" * 100_000)
    async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url, others="leave")) as p:
        event = await p.wait("real")
    assert event.polls == 1
    assert [m.body[:3] for m in queue._messages] == ["[[["]


async def test_a_malformed_receive_answer_is_not_an_error(fake: FakeTranscribe) -> None:
    """Messages that are not dicts, or lack a receipt handle, are skipped."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10)
    receive = queue.receive_message

    async def odd_receive(**params: Any) -> dict[str, Any]:
        answer = await receive(**params)
        return {"Messages": [*answer.get("Messages", []), "junk", {"Body": "{}"}]}

    queue.receive_message = odd_receive  # type: ignore[method-assign]
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller:
            event = await poller.wait("real")
    assert event.polls == 1
    assert not [e for e in logs if e["log_level"] == "warning"]


# -- the configuration ---------------------------------------------------------------


async def test_a_queue_that_failed_can_be_used_again_once_fixed(fake: FakeTranscribe) -> None:
    """The same EventBridgeQueue, refused while the queue is missing, works once it exists."""
    queue = fake.event_queue()
    config = EventBridgeQueue(queue, queue.url)
    queue.missing = True
    with pytest.raises(NotificationsError):
        async with Poller(fake, notifications=config):
            pass
    queue.missing = False
    fake.start_job("after", duration=5)
    async with Poller(fake, notifications=config) as poller:
        event = await poller.wait("after")
    assert event.polls == 1


async def test_two_pollers_may_share_one_configuration(fake: FakeTranscribe) -> None:
    """Configuration holds no state: two pollers open with one at once."""
    queue = fake.event_queue()
    config = EventBridgeQueue(queue, queue.url, others="leave")
    fake.start_job("a", duration=5)
    async with Poller(fake, notifications=config) as one, Poller(fake, notifications=config):
        assert (await one.wait("a")).outcome is Outcome.COMPLETED


def test_the_configuration_is_checked() -> None:
    """Wrong types raise TypeError, wrong values ValueError, each naming the argument."""
    queue = FakeTranscribe().event_queue()
    url = queue.url
    for bad_url in ["https://", "https://host", "ftp://host/q", "transcribe-events"]:
        with pytest.raises(ValueError, match="queue_url"):
            EventBridgeQueue(queue, bad_url)
    with pytest.raises(TypeError, match="queue_url"):
        EventBridgeQueue(queue, None)  # type: ignore[arg-type]
    for interval in [math.inf, math.nan, 0, -1]:
        with pytest.raises(ValueError, match="reconcile_interval"):
            EventBridgeQueue(queue, url, reconcile_interval=interval)
    for wrong in [True, "30"]:
        with pytest.raises(TypeError, match="reconcile_interval"):
            EventBridgeQueue(queue, url, reconcile_interval=wrong)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wait_time"):
        EventBridgeQueue(queue, url, wait_time=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="others"):
        EventBridgeQueue(queue, url, others=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="output_events"):
        EventBridgeQueue(queue, url, output_events="medical")
    with pytest.raises(TypeError, match="output_events"):
        EventBridgeQueue(queue, url, output_events=[3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="output_events"):
        EventBridgeQueue(queue, url, output_events=["dental"])
    with pytest.raises(TypeError, match="output_names"):
        EventBridgeQueue(queue, url, output_names="x")  # type: ignore[arg-type]
    config = EventBridgeQueue(queue, url, output_events=["medical", JobKind.MEDICAL_SCRIBE])
    assert config.covered_kinds == frozenset(JobKind)
    assert "output_events=medical,medical-scribe" in repr(config)


def test_the_poller_keeps_its_queue_consumer_private() -> None:
    """notice and deliver are no longer part of the Poller's API."""
    assert not hasattr(Poller, "notice")
    assert not hasattr(Poller, "deliver")


# -- replicas ------------------------------------------------------------------------


async def test_eight_replicas_pushed_for_every_kind_share_default_quotas(
    fake: FakeTranscribe,
) -> None:
    """Eight pollers on one account's default quotas, each with its own queue covering
    all four kinds, all starting at the same instant: no job lost, under 1% of
    requests throttled."""
    quota: dict[str, float | tuple[float, float]] = {}
    for op in (
        "GetTranscriptionJob",
        "GetMedicalTranscriptionJob",
        "GetCallAnalyticsJob",
        "GetMedicalScribeJob",
    ):
        quota[op] = (30, 30)
    for op in (
        "ListTranscriptionJobs",
        "ListMedicalTranscriptionJobs",
        "ListCallAnalyticsJobs",
        "ListMedicalScribeJobs",
    ):
        quota[op] = (5, 5)
    fake.set_faults(quota=quota, seed=1)
    batches = [mixed_batch_named(fake, f"r{r}", 60, seed=r) for r in range(8)]
    results: list[list[Any]] = [[] for _ in batches]

    async def replica(i: int) -> None:
        queue = fake.event_queue(
            loss=0.10, duplicate=0.05, delay=(0, 0.2), output_events=True, seed=50 + i
        )
        config = EventBridgeQueue(queue, queue.url, output_events=["medical", "medical-scribe"])
        async with Poller(
            fake, notifications=config, backoff=Backoff(rng=random.Random(i))
        ) as poller:
            results[i] = await collect(poller, batches[i])

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(replica, i)
    assert [len(r) for r in results] == [len(b) for b in batches]
    assert all(
        e.outcome.value == fake.script(e.job.name, e.job.kind).outcome for r in results for e in r
    )
    traffic = fake.traffic().by_operation.values()
    requests = sum(c.requests for c in traffic)
    throttled = sum(c.throttled for c in traffic)
    assert throttled / requests < 0.01


def mixed_batch_named(fake: FakeTranscribe, prefix: str, count: int, seed: int) -> list[JobRef]:
    rng = random.Random(seed)
    refs = []
    for i in range(count):
        kind = list(JobKind)[i % 4]
        fail = "The media could not be read." if rng.random() < 0.05 else None
        name = f"{prefix}-{i:03d}"
        fake.start_job(name, kind=kind, duration=rng.uniform(15, 120), fail_with=fail)
        refs.append(JobRef(name, kind))
    return refs


async def test_s3s_direct_notifications_push_jobs_too(fake: FakeTranscribe) -> None:
    """S3 notifying the queue itself (a Records list, the key URL-encoded, under a
    folder OutputKey named) ends the job as an EventBridge event would."""
    queue = fake.event_queue()
    fake.start_job("visit-3", kind="medical", duration=50)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])

    async def announce() -> None:
        await anyio.sleep(50)
        queue.put(direct_notification("out", "clinic notes/visit-3.json", "us-east-1", "t"))

    async with Poller(fake, notifications=config) as poller, anyio.create_task_group() as tg:
        tg.start_soon(announce)
        event = await poller.wait(JobRef.medical("visit-3"))
        found = anyio.current_time()
    assert event.polls == 1
    assert found - 50 <= 1.0 + OUTPUT_SETTLE + 0.01
