"""Push against a misbehaving SQS client: hung, failing and rogue requests never stop it."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import botocore.exceptions
import botocore.session
import pytest
import structlog
import trio.testing

from transcribe_poller import Backoff, EventBridgeQueue, JobRef, Outcome, Poller
from transcribe_poller._queue import MAX_UNDELETED, RECEIVE_GRACE, QueueConsumer
from transcribe_poller.testing import FakeTranscribe
from transcribe_poller.testing._fakequeue import FakeEventQueue

from ._helpers import collect

pytestmark = pytest.mark.anyio

NOT_ANSWERING = "queue not answering; sweeping and polling instead"
ANSWERING = "queue answering again; events resume"

Real = Callable[..., Awaitable[Any]]
Behaviour = Callable[[str, dict[str, Any], Real], Awaitable[Any]]


class Stub:
    """The fake queue's SQS client, each call going through ``behave`` (which may hang,
    raise or answer oddly, or call the real operation); the times of the calls are kept."""

    def __init__(self, queue: FakeEventQueue, behave: Behaviour) -> None:
        self.queue = queue
        self.calls: dict[str, list[float]] = defaultdict(list)
        self._behave = behave

    async def get_queue_attributes(self, **params: Any) -> Any:
        return await self._call("get_queue_attributes", params)

    async def receive_message(self, **params: Any) -> Any:
        return await self._call("receive_message", params)

    async def delete_message_batch(self, **params: Any) -> Any:
        return await self._call("delete_message_batch", params)

    async def _call(self, operation: str, params: dict[str, Any]) -> Any:
        self.calls[operation].append(anyio.current_time())
        return await self._behave(operation, params, getattr(self.queue, operation))


def said(logs: list[dict[str, Any]], line: str) -> int:
    return sum(1 for entry in logs if entry["event"] == line)


def start_jobs(
    fake: FakeTranscribe,
    prefix: str,
    count: int,
    ends: tuple[float, float],
    queued_for: float | None = None,
) -> list[str]:
    rng = random.Random(count)
    names = [f"{prefix}-{i:03d}" for i in range(count)]
    for name in names:
        fake.start_job(name, duration=rng.uniform(*ends), queued_for=queued_for)
    return names


# -- deadlines ---------------------------------------------------------------------


async def test_every_sqs_request_has_a_deadline(fake: FakeTranscribe) -> None:
    """check() gives up after request_timeout, a receive after wait_time + request_timeout,
    a delete after request_timeout; a hung delete holds no receive up."""
    queue = fake.event_queue()

    async def hang_all(operation: str, params: dict[str, Any], real: Real) -> Any:
        await anyio.sleep_forever()

    hung = Stub(queue, hang_all)
    consumer = QueueConsumer(
        EventBridgeQueue(hung, queue.url), structlog.get_logger(), request_timeout=7
    )
    start = anyio.current_time()
    with anyio.fail_after(100):
        await consumer.check()
    assert anyio.current_time() - start == pytest.approx(7)
    assert not consumer.healthy  # no answer: not known to work until a receive answers
    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer.run)
        await anyio.sleep(60)
        tg.cancel_scope.cancel()
    first, second = hung.calls["receive_message"][:2]
    # The deadline, then the first retry's delay (at most 1 s).
    assert 20 + 7 <= second - first <= 20 + 7 + 1

    async def hang_deletes(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "delete_message_batch":
            await anyio.sleep_forever()
        return await real(**params)

    for i in range(3):
        queue.put(f"junk {i}")  # no event: deleted (others="delete")
    slow = Stub(queue, hang_deletes)
    consumer = QueueConsumer(
        EventBridgeQueue(slow, queue.url), structlog.get_logger(), request_timeout=7
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer.run)
        await anyio.sleep(60)
        tg.cancel_scope.cancel()
    first, second = slow.calls["delete_message_batch"][:2]
    assert 7 <= second - first <= 7 + 1
    assert len(slow.calls["receive_message"]) >= 3  # long polls went on meanwhile
    assert consumer.healthy  # a delete's fault is not the queue failing to answer


async def test_an_overdue_receive_marks_the_queue_not_working_before_its_deadline(
    fake: FakeTranscribe,
) -> None:
    """With a 10-minute request deadline, a receive still unanswered RECEIVE_GRACE seconds
    after its long poll makes the queue not working then, with one warning."""
    queue = fake.event_queue()

    async def hang(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "receive_message":
            await anyio.sleep_forever()
        return await real(**params)

    stub = Stub(queue, hang)
    with structlog.testing.capture_logs() as logs:
        consumer = QueueConsumer(
            EventBridgeQueue(stub, queue.url), structlog.get_logger(), request_timeout=600
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(consumer.run)
            await anyio.sleep(20 + RECEIVE_GRACE - 0.01)
            assert consumer.healthy
            await anyio.sleep(0.02)
            assert not consumer.healthy
            await anyio.sleep(100)
            tg.cancel_scope.cancel()
    assert len(stub.calls["receive_message"]) == 1  # still in flight: its deadline is far
    assert said(logs, NOT_ANSWERING) == 1


async def test_a_hung_queue_check_does_not_hold_the_poller_up(fake: FakeTranscribe) -> None:
    """GetQueueAttributes never answering: the poller opens once its deadline passes,
    sweeps until a receive answers, and push reports a job ending later."""
    queue = fake.event_queue()

    async def hang_check(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "get_queue_attributes":
            await anyio.sleep_forever()
        return await real(**params)

    script = fake.start_job("later", duration=200)
    start = anyio.current_time()
    config = EventBridgeQueue(Stub(queue, hang_check), queue.url)
    with structlog.testing.capture_logs() as logs, anyio.fail_after(400):
        async with Poller(fake, notifications=config, request_timeout=5) as poller:
            opened = anyio.current_time() - start
            event = await poller.wait("later")
    # The consumer's own default deadline (60 s), or 5 s once the poller passes its own.
    assert opened <= 60 + 0.01
    assert event.outcome is Outcome.COMPLETED
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at - script.terminal_at < 0.1  # pushed
    assert said(logs, NOT_ANSWERING) == 1
    assert said(logs, ANSWERING) == 1


async def test_short_polls_are_paced(fake: FakeTranscribe) -> None:
    """wait_time=0 (or a client answering at once with nothing): about one receive a
    second, not a loop that spins."""
    queue = fake.event_queue()

    async def stop_spinning(operation: str, params: dict[str, Any], real: Real) -> Any:
        # Past 200 receives, hang: a loop that spins would otherwise never let the
        # virtual clock move, and the test would never end.
        if len(stub.calls[operation]) > 200:
            await anyio.sleep_forever()
        return await real(**params)

    stub = Stub(queue, stop_spinning)
    config = EventBridgeQueue(stub, queue.url, wait_time=0)
    consumer = QueueConsumer(config, structlog.get_logger())
    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer.run)
        await anyio.sleep(60)
        tg.cancel_scope.cancel()
    assert 55 <= len(stub.calls["receive_message"]) <= 61


# -- a queue that does not answer ------------------------------------------------------


async def test_a_hung_receive_falls_back_at_once_then_resumes(fake: FakeTranscribe) -> None:
    """Receives hanging for 200 s: one warning once the first is overdue, jobs ending
    meanwhile found at the sweeps' pace, one line when a receive answers, push after."""
    queue = fake.event_queue(seed=3)
    start = anyio.current_time()
    during = start_jobs(fake, "hung", 40, (40, 180))
    after = start_jobs(fake, "back", 20, (300, 400))

    async def hang_for_a_while(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "receive_message" and anyio.current_time() - start < 200:
            await anyio.sleep_forever()
        return await real(**params)

    config = EventBridgeQueue(Stub(queue, hang_for_a_while), queue.url)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=config, request_timeout=60) as poller:
            events = await collect(poller, during + after)
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert said(logs, NOT_ANSWERING) == 1
    assert said(logs, ANSWERING) == 1
    for name in during:  # found by sweeps and Gets: not one reconcile interval late
        script = fake.script(name)
        assert script.first_terminal_read_at is not None
        if script.terminal_at - start > 20 + RECEIVE_GRACE + 5:
            assert script.first_terminal_read_at - script.terminal_at < 5
    for name in after:  # push again: read as soon as the event arrived
        script = fake.script(name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - queue.arrived[(JobRef(name).kind, name)] < 0.1


# -- a client's own CancelledError -------------------------------------------------


SQS_OPERATIONS = ["get_queue_attributes", "receive_message", "delete_message_batch"]


@pytest.mark.parametrize("operation", SQS_OPERATIONS)
@pytest.mark.parametrize(
    "anyio_backend",
    [
        pytest.param("asyncio", id="asyncio"),
        pytest.param(("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)}), id="trio"),
    ],
)
async def test_a_client_raising_cancelled_error_is_a_fault_of_that_request(
    operation: str,
) -> None:
    """asyncio.CancelledError raised by the SQS client itself (nobody cancelled anything)
    in the first check, receive or delete: a fault of that request; the block goes on,
    push reports the job and its message is deleted, on the next try if need be."""
    fake = FakeTranscribe()
    queue = fake.event_queue()
    rogue: list[str] = []

    async def cancel_once(name: str, params: dict[str, Any], real: Real) -> Any:
        if name == operation and not rogue:
            rogue.append(name)
            raise asyncio.CancelledError()
        return await real(**params)

    script = fake.start_job("pushed", duration=0.3)
    config = EventBridgeQueue(Stub(queue, cancel_once), queue.url)
    # Neither sweeps nor Gets before 60 s: only push can report the job in time.
    slow = Backoff(initial=60, maximum=60, jitter="none")
    reached_the_end = False
    with anyio.fail_after(20):
        async with Poller(fake, notifications=config, sweep="never", backoff=slow) as poller:
            event = await poller.wait("pushed")
            # The fake queue has no event to wait on: until the message is deleted.
            while queue._messages:  # noqa: ASYNC110
                await anyio.sleep(0.05)
            reached_the_end = True
    assert reached_the_end
    assert rogue == [operation]
    assert event.outcome is Outcome.COMPLETED
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at - script.terminal_at < 5


# -- deletes ---------------------------------------------------------------------------


async def test_failing_deletes_never_turn_push_off(fake: FakeTranscribe) -> None:
    """DeleteMessageBatch raising for 100 s, then refusing every entry for 50 s: every
    job is still pushed at once, no warning, and the queue is emptied once deletes work.
    (The jobs run from their start: one leaving QUEUED between a reconciling sweep's
    two listings is read once, rightly, and would count among the wrong hints.)"""
    queue = fake.event_queue(seed=2)
    start = anyio.current_time()
    names = start_jobs(fake, "d", 40, (10, 140), queued_for=0)
    entries: list[int] = []

    async def failing_deletes(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "delete_message_batch":
            entries.append(len(params["Entries"]))
            now = anyio.current_time() - start
            if now < 100:
                raise botocore.exceptions.EndpointConnectionError(endpoint_url=queue.url)
            if now < 150:
                failed = [
                    {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                    for e in params["Entries"]
                ]
                return {"Successful": [], "Failed": failed}
        return await real(**params)

    config = EventBridgeQueue(Stub(queue, failing_deletes), queue.url)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, notifications=config) as poller:
            events = await collect(poller, names)
            stats = poller.statistics()
            # Undeleted messages come back after their visibility timeout (30 s), to
            # be deleted then, if their handles were dropped meanwhile.
            await anyio.sleep(start + 300 - anyio.current_time())
            left = list(queue._messages)
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    for e in events:
        script = fake.script(e.job.name)
        assert script.first_terminal_read_at is not None
        assert script.first_terminal_read_at - queue.arrived[(e.job.kind, e.job.name)] < 0.1
    assert stats.wrong_hints == 0
    assert said(logs, NOT_ANSWERING) == 0
    assert left == []
    assert max(entries) <= 10


async def test_undeleted_handles_are_bounded(fake: FakeTranscribe) -> None:
    """Deletes failing for good: at most MAX_UNDELETED handles are kept, the oldest
    dropped with a debug line, and receives go on."""
    queue = fake.event_queue()
    for i in range(200):
        queue.put(f"junk {i}")

    async def no_deletes(operation: str, params: dict[str, Any], real: Real) -> Any:
        if operation == "delete_message_batch":
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=queue.url)
        return await real(**params)

    stub = Stub(queue, no_deletes)
    with structlog.testing.capture_logs() as logs:
        consumer = QueueConsumer(EventBridgeQueue(stub, queue.url), structlog.get_logger())
        async with anyio.create_task_group() as tg:
            tg.start_soon(consumer.run)
            await anyio.sleep(10)
            held = len(consumer._undeleted)
            tg.cancel_scope.cancel()
    assert consumer.messages == 200
    assert 0 < held <= MAX_UNDELETED
    assert any(e["event"].startswith("queue messages not deleted, dropped") for e in logs)
    assert consumer.healthy


# -- the client given ----------------------------------------------------------------


def test_a_synchronous_sqs_client_is_refused() -> None:
    """A botocore (boto3) SQS client, made offline, is refused at once, saying to pass
    an aiobotocore client."""
    sqs = botocore.session.get_session().create_client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/events"
    with pytest.raises(TypeError, match=r"synchronous boto3/botocore client.*aiobotocore"):
        EventBridgeQueue(sqs, url)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_aiobotocore_sqs_client_is_accepted() -> None:
    """The client to pass: an aiobotocore SQS client (made offline) is taken as it is."""
    from aiobotocore.session import AioSession

    url = "https://sqs.us-east-1.amazonaws.com/123456789012/events"
    async with AioSession().create_client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    ) as sqs:
        assert EventBridgeQueue(sqs, url).sqs is sqs
