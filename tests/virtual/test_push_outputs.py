"""Push for every kind: output objects in S3 as hints, poison messages, queue configuration.

A job whose reads a test counts exactly runs from its start (``queued_for=0``): one
leaving QUEUED between a reconciling sweep's two listings is read once more, rightly
(see ``Sightings.judge``), in about one run in a hundred.
"""

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
from transcribe_poller._job import MAX_OUTPUT_REREADS, OUTPUT_SETTLE
from transcribe_poller._s3events import OutputObject, default_output_names, objects_in
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


MED, SCRIBE = JobKind.MEDICAL, JobKind.MEDICAL_SCRIBE
STD, CALL = JobKind.STANDARD, JobKind.CALL_ANALYTICS


@pytest.mark.parametrize(
    ("key", "kind", "names"),
    [
        ("medical/visit-1.json", MED, ["visit-1"]),
        ("visit-1.json", MED, ["visit-1"]),
        ("clinic/2024/visit-1.json", MED, ["visit-1"]),
        ("medical/visit-1.json", SCRIBE, []),
        ("visit-2/transcript.json", SCRIBE, ["visit-2"]),
        ("out/visit-2/summary.json", SCRIBE, ["visit-2"]),
        ("visit-2/notes.json", SCRIBE, []),
        ("transcript.json", SCRIBE, []),
        ("a.b.json", MED, ["a.b"]),
        ("a.json.json", MED, ["a.json"]),
        ("medical/redacted-visit-7.json", MED, ["redacted-visit-7"]),
        ("redacted-call.7.json", STD, ["redacted-call.7", "call.7"]),
        ("redacted-redacted-x.json", STD, ["redacted-redacted-x", "redacted-x"]),
        ("analytics/redacted-c.json", CALL, ["redacted-c", "c"]),
        ("talk.vtt", STD, ["talk"]),
        ("talk.vtt", MED, []),
        ("medical/.write_access_check_file.temp", MED, []),
        ("visit/.write_access_check_file.temp", SCRIBE, []),
        ("a b/c.json", MED, ["c"]),
        ("bad name.json", MED, []),
    ],
)
def test_a_key_yields_the_names_of_its_kinds_layout(
    key: str, kind: JobKind, names: list[str]
) -> None:
    """Each kind's default layout: the file's name less one extension (and less
    redacted- as well, for kinds that redact), a Scribe job's folder; valid names only."""
    assert default_output_names("bucket", key, kind) == names


# -- medical and Medical Scribe jobs pushed ------------------------------------------


def mixed_batch(fake: FakeTranscribe, count: int, seed: int) -> list[JobRef]:
    """Jobs of every kind that run from their start: one leaving QUEUED between a
    reconciling sweep's two listings is hinted, rightly, "may have ended" (see
    Sightings.judge), and would blur what the count of wrong hints says of pushes."""
    rng = random.Random(seed)
    refs = []
    for i in range(count):
        kind = rng.choice(list(JobKind))
        fail = "The media could not be read." if rng.random() < 0.05 else None
        fake.start_job(
            f"j-{i:04d}",
            kind=kind,
            duration=rng.uniform(15, 120),
            queued_for=0,
            fail_with=fail,
        )
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
    script = fake.start_job("visit", kind="medical", duration=60, queued_for=0)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    async with Poller(fake, notifications=config) as poller:
        event = await poller.wait(JobRef.medical("visit"))
        stats = poller.statistics()
    assert event.outcome is Outcome.COMPLETED
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at - script.terminal_at < 0.5
    assert stats.output_rereads >= 3
    assert stats.wrong_hints == 0
    # The first look at once (it may have ended before it was awaited), the read the
    # object brought, and the re-reads while the status lagged.
    assert event.polls == 2 + stats.output_rereads


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


def reads(fake: FakeTranscribe, ref: JobRef) -> int:
    """Gets of one job so far."""
    counts = fake.traffic().by_job.get((ref.kind.value, ref.name))
    return 0 if counts is None else counts.requests


async def test_foreign_and_unrelated_objects_cost_at_most_a_get_never_an_event(
    fake: FakeTranscribe,
) -> None:
    """A foreign bucket, an unrelated key, the check object, a duplicate: no event, and
    only the object with an awaited job's name costs reads (beyond those of a job no
    object concerns)."""
    queue = fake.event_queue()
    visit, control = JobRef.medical("visit"), JobRef.medical("control")
    for ref in (visit, control):
        fake.start_job(ref.name, kind="medical", duration=300)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    for bucket, key in [
        ("someone-else", "photos/cat.jpg"),
        ("out", "medical/.write_access_check_file.temp"),
        ("someone-else", "exports/visit.json"),  # the name of an awaited job: one Get
        ("someone-else", "exports/visit.json"),
        ("out", "control/transcript.json"),  # a Medical Scribe job's layout
    ]:
        queue.put(eventbridge_event(bucket, key, "us-east-1", "t", "x"))
    async with Poller(fake, notifications=config) as poller:
        with anyio.move_on_after(100):
            await collect(poller, [visit, control])
            pytest.fail("the jobs end at 300 s")
    # Each object's read and its bounded rereads, at most.
    assert 1 <= reads(fake, visit) - reads(fake, control) <= 2 * (1 + MAX_OUTPUT_REREADS)
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


async def test_an_object_hints_only_the_kind_whose_layout_it_has(fake: FakeTranscribe) -> None:
    """A medical and a Medical Scribe job share each name: the output of one is never
    a hint for the other, which is read no more than a job no object concerns. (The
    jobs run from their start: see mixed_batch.)"""
    queue = fake.event_queue(output_events=True)
    fake.start_job("visit-a", kind="medical", duration=30, queued_for=0)
    fake.start_job("visit-a", kind="medical-scribe", duration=400, queued_for=0)
    fake.start_job("visit-b", kind="medical-scribe", duration=30, queued_for=0)
    fake.start_job("visit-b", kind="medical", duration=400, queued_for=0)
    for kind in MEDICAL_KINDS:
        fake.start_job("control", kind=kind, duration=400, queued_for=0)
    refs = [JobRef(n, k) for n in ("visit-a", "visit-b", "control") for k in MEDICAL_KINDS]
    config = EventBridgeQueue(queue, queue.url, output_events=MEDICAL_KINDS)
    ended: set[JobRef] = set()
    async with Poller(fake, notifications=config) as poller:
        with anyio.move_on_after(100):  # the two short jobs end, the long ones run on
            async with poller.watch(refs) as events:
                async for e in events:
                    ended.add(e.job)
        stats = poller.statistics()
    assert ended == {JobRef.medical("visit-a"), JobRef.medical_scribe("visit-b")}
    assert reads(fake, JobRef.medical_scribe("visit-a")) == reads(
        fake, JobRef.medical_scribe("control")
    )
    assert reads(fake, JobRef.medical("visit-b")) == reads(fake, JobRef.medical("control"))
    assert stats.wrong_hints == 0


async def test_a_job_named_redacted_is_hinted_by_its_own_object(fake: FakeTranscribe) -> None:
    """Medical jobs named redacted-visit-N write medical/redacted-visit-N.json: that
    object hints each (the prefix is not taken off a medical job's name)."""
    queue = fake.event_queue(output_events=True, output_lead=(0.0, 0.0))
    refs = [JobRef.medical(f"redacted-visit-{i}") for i in range(5)]
    for i, ref in enumerate(refs):
        fake.start_job(ref.name, kind="medical", duration=40 + 7 * i)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])
    async with Poller(fake, notifications=config) as poller:
        events = await collect(poller, refs)
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    for ref in refs:
        script = fake.script(ref.name, ref.kind)
        assert script.first_terminal_read_at is not None
        # Read on its object's event (at once, then the settle wait), not by the
        # reconciling sweep (every 30 s).
        late = script.first_terminal_read_at - script.terminal_at
        assert late == pytest.approx(OUTPUT_SETTLE, abs=0.01)


async def test_the_hook_names_a_kind_with_a_jobref_or_every_kind_with_a_name(
    fake: FakeTranscribe,
) -> None:
    """output_names answering a JobRef hints that kind's job only; a plain name hints
    the job of that name of every kind in output_events."""
    queue = fake.event_queue()
    for name in ("v1", "v2", "control"):
        for kind in MEDICAL_KINDS:
            fake.start_job(name, kind=kind, duration=300)

    def names(bucket: str, key: str) -> list[str | JobRef]:
        folder, file = key.split("/")
        job = file.removesuffix(".out")
        return [JobRef.medical(job)] if folder == "med" else [job]

    config = EventBridgeQueue(queue, queue.url, output_events=MEDICAL_KINDS, output_names=names)
    queue.put(eventbridge_event("b", "med/v1.out", "us-east-1", "t", "x"))
    queue.put(eventbridge_event("b", "any/v2.out", "us-east-1", "t", "y"))
    refs = [JobRef(n, k) for n in ("v1", "v2", "control") for k in MEDICAL_KINDS]
    async with Poller(fake, notifications=config) as poller:
        with anyio.move_on_after(100):
            await collect(poller, refs)
    for kind in MEDICAL_KINDS:
        unhinted = reads(fake, JobRef("control", kind))
        assert reads(fake, JobRef("v2", kind)) > unhinted
        hinted = kind is JobKind.MEDICAL
        assert (reads(fake, JobRef("v1", kind)) > unhinted) is hinted


# -- poison messages ----------------------------------------------------------------


async def test_poison_messages_are_deleted_and_spare_their_batch(fake: FakeTranscribe) -> None:
    """Deeply nested JSON, a hook that raises, bodies of every wrong type, in one batch
    with a real event: the real one is acted on, the rest deleted, no warning that the
    queue is not answering, nothing raised."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10, queued_for=0)
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
    assert event.polls == 2  # the first look at once, then the read the message brought
    assert queue._messages == []
    warnings = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert warnings == ["output_names failed; objects it cannot read are ignored"]


async def test_poison_is_left_when_others_is_leave(fake: FakeTranscribe) -> None:
    """With others="leave", an unusable message stays for other consumers; the rest of
    its batch is still handled."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10, queued_for=0)
    queue.put("[" * 100_000)
    async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url, others="leave")) as p:
        event = await p.wait("real")
    assert event.polls == 2  # the first look at once, then the read the message brought
    assert [m.body[:3] for m in queue._messages] == ["[[["]


async def test_a_malformed_receive_answer_is_not_an_error(fake: FakeTranscribe) -> None:
    """Messages that are not dicts, or lack a receipt handle, are skipped."""
    queue = fake.event_queue()
    fake.start_job("real", duration=10, queued_for=0)
    receive = queue.receive_message

    async def odd_receive(**params: Any) -> dict[str, Any]:
        answer = await receive(**params)
        return {"Messages": [*answer.get("Messages", []), "junk", {"Body": "{}"}]}

    queue.receive_message = odd_receive  # type: ignore[method-assign]
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=EventBridgeQueue(queue, queue.url)) as poller:
            event = await poller.wait("real")
    assert event.polls == 2  # the first look at once, then the read the message brought
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
    fake.start_job("after", duration=5, queued_for=0)
    async with Poller(fake, notifications=config) as poller:
        event = await poller.wait("after")
    assert event.polls == 2  # the first look at once, then the read the message brought


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
    fake.start_job("visit-3", kind="medical", duration=50, queued_for=0)
    config = EventBridgeQueue(queue, queue.url, output_events=["medical"])

    async def announce() -> None:
        await anyio.sleep(50)
        queue.put(direct_notification("out", "clinic notes/visit-3.json", "us-east-1", "t"))

    async with Poller(fake, notifications=config) as poller, anyio.create_task_group() as tg:
        tg.start_soon(announce)
        event = await poller.wait(JobRef.medical("visit-3"))
        found = anyio.current_time()
    assert event.polls == 2  # the first look at once, then the read the message brought
    assert found - 50 <= 1.0 + OUTPUT_SETTLE + 0.01
