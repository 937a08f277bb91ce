"""Push: learn of jobs' ends from Transcribe's EventBridge events in an SQS queue.

Transcribe sends "Transcribe Job State Change" (standard jobs) and "Call Analytics
Job State Change" events to EventBridge when a job reaches COMPLETED or FAILED, best
effort; a rule can route them to an SQS queue, whose message body is then the whole
event. :class:`EventBridgeQueue` long-polls that queue and turns each event about an
awaited job into a hint for that job's scheduler. An event is only ever a hint: the
Get it prompts is the authority for the completion event and its URIs, so a lost,
late, repeated, out-of-order or forged message costs a request or some latency,
never a wrong or lost event.

Medical and Medical Scribe jobs send no documented event: they are swept and polled
as without a queue. For the kinds the queue covers, sweeps slow down to one every
``reconcile_interval`` seconds while the queue works: that bounds what a lost event
costs. When the queue fails (throttled, faults, an outage), the kinds it covers go
back to sweeps and Gets as without it, and come back to push once it answers again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import anyio

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._exceptions import NotificationsError
from ._jobs import JobKind, JobRef, validate_job_name
from ._kinds import TERMINAL_STATUSES

SOURCE = "aws.transcribe"
# detail-type: (kind, name field, status field) in the event's detail.
DETAIL_TYPES: Mapping[str, tuple[JobKind, str, str]] = {
    "Transcribe Job State Change": (
        JobKind.STANDARD,
        "TranscriptionJobName",
        "TranscriptionJobStatus",
    ),
    "Call Analytics Job State Change": (JobKind.CALL_ANALYTICS, "JobName", "JobStatus"),
}
COVERED_KINDS = frozenset(kind for kind, _, _ in DETAIL_TYPES.values())
# Failed receives in a row before the covered kinds go back to sweeps and Gets.
MAX_FAILURES = 3
# While the queue does not work, how often the covered kinds ask whether it does again.
RETRY_SECONDS = 5.0
Others = Literal["delete", "leave"]


class SQSClient(Protocol):
    """The part of an aiobotocore SQS client the queue uses."""

    async def get_queue_attributes(self, **params: Any) -> Mapping[str, Any]: ...

    async def receive_message(self, **params: Any) -> Mapping[str, Any]: ...

    async def delete_message_batch(self, **params: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """What one message says: a job of some kind reached some status."""

    job: JobRef
    status: str


def parse_message(body: object) -> Notice | str:
    """The notice in a message body, or why the body is not one (a short reason)."""
    if not isinstance(body, str):
        return "no body"
    try:
        event = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(event, dict):
        return "not an event"
    if event.get("source") != SOURCE:
        return f"source {event.get('source')!r}"
    found = DETAIL_TYPES.get(str(event.get("detail-type")))
    if found is None:
        return f"detail-type {event.get('detail-type')!r}"
    kind, name_field, status_field = found
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return "no detail"
    name, status = detail.get(name_field), detail.get(status_field)
    if not isinstance(status, str):
        return f"no {status_field}"
    try:
        return Notice(JobRef(validate_job_name(name), kind), status)
    except ValueError:
        return f"bad {name_field}"


class Router(Protocol):
    """Where notices go: the poller, which knows the schedulers."""

    def notice(self, notice: Notice) -> bool:
        """Hint the job if it is awaited here; whether it is."""
        ...


class EventBridgeQueue:
    """An SQS queue fed by an EventBridge rule for Transcribe's job state events.

    ``sqs`` is an aiobotocore SQS client the caller owns; give it a read timeout
    above 20 s (aiobotocore's default, 60 s, is). Pass the queue to the poller::

        Poller(transcribe, notifications=EventBridgeQueue(sqs, queue_url))

    ``others``: what to do with a message not about a job awaited here (another
    process's job, one that ended before it was awaited or was released, a late
    duplicate, or a message that is no Transcribe event). ``"delete"`` (the
    default) suits a queue per process, the set-up the README recommends: such a
    message can never be used here, and left alone it would come back every
    visibility timeout until the queue's retention ends. ``"leave"`` suits one
    queue shared by several processes: the message returns after its visibility
    timeout, for whichever process awaits the job.

    ``reconcile_interval``: while the queue works, how often the kinds it covers
    are swept anyway, for events that never come (the service sends them best
    effort); a lost event costs at most about that long (default 30 s).
    """

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        *,
        others: Others = "delete",
        reconcile_interval: float = 30.0,
        wait_time: int = 20,
    ) -> None:
        for method in ("receive_message", "delete_message_batch", "get_queue_attributes"):
            if not callable(getattr(sqs, method, None)):
                raise TypeError(f"sqs must be an aiobotocore SQS client, got {sqs!r}")
        if not isinstance(queue_url, str) or not queue_url.startswith(("https://", "http://")):
            raise ValueError(f"queue_url must be the queue's URL, got {queue_url!r}")
        if others not in ("delete", "leave"):
            raise ValueError(f"others must be 'delete' or 'leave', got {others!r}")
        if not (isinstance(reconcile_interval, (int, float)) and reconcile_interval > 0):
            raise ValueError(f"reconcile_interval must be > 0 seconds, got {reconcile_interval!r}")
        if isinstance(wait_time, bool) or wait_time not in range(0, 21):
            raise ValueError(f"wait_time must be 0 to 20 seconds (SQS's limit), got {wait_time!r}")
        self.sqs = sqs
        self.queue_url = queue_url
        self.others = others
        self.reconcile_interval = float(reconcile_interval)
        self.wait_time = wait_time
        self.healthy = True
        self.requests = 0
        self.messages = 0
        self._failures = 0
        self._broken = anyio.Event()
        self._in_use = False

    def __repr__(self) -> str:
        return f"<EventBridgeQueue {self.queue_url} others={self.others!r}>"

    async def check(self) -> None:
        """Fail at once, with a clear message, if the queue cannot be read at all."""
        if self._in_use:
            raise RuntimeError("an EventBridgeQueue serves one poller at a time")
        self._in_use = True
        try:
            self.requests += 1
            await self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
            )
        except Exception as error:
            verdict, _ = classify(error)
            if verdict in (Verdict.THROTTLED, Verdict.TRANSIENT):
                return  # it exists, most likely: the consumer will retry
            raise NotificationsError(
                f"cannot use the queue {self.queue_url}: {describe(error)}"
            ) from error

    def release(self) -> None:
        self._in_use = False

    async def wait_broken(self) -> None:
        """Return once the queue stops working (now, if it does not)."""
        if not self.healthy:
            return
        await self._broken.wait()

    async def run(self, router: Router, log: Any) -> None:
        """Receive, hint and delete until cancelled."""
        retry = Backoff(initial=1.0, maximum=30.0)
        while True:
            try:
                self.requests += 1
                answer = await self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self.wait_time,
                )
                messages = answer.get("Messages") or []
                self.messages += len(messages)
                done = [m["ReceiptHandle"] for m in messages if self._handle(m, router, log)]
                await self._delete(done, log)
            except Exception as error:
                self._failed(error, log)
                await anyio.sleep(retry.delay(min(self._failures, 10)))
            else:
                self._recovered(log)

    def _handle(self, message: Mapping[str, Any], router: Router, log: Any) -> bool:
        """Hint what the message says; whether to delete it."""
        notice = parse_message(message.get("Body"))
        if isinstance(notice, str):
            log.debug("queue message ignored", reason=notice)
            return self.others == "delete"
        awaited = router.notice(notice) if notice.status in TERMINAL_STATUSES else True
        return awaited or self.others == "delete"

    async def _delete(self, handles: list[str], log: Any) -> None:
        if not handles:
            return
        self.requests += 1
        answer = await self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)],
        )
        if answer.get("Failed"):
            # Not deleted: it comes back after its visibility timeout, a duplicate
            # hint that costs nothing, since its job has ended by then.
            log.info("queue messages not deleted", failed=len(answer["Failed"]))

    def _failed(self, error: Exception, log: Any) -> None:
        self._failures += 1
        if self._failures == MAX_FAILURES and self.healthy:
            self.healthy = False
            self._broken.set()
            log.warning(
                "queue not answering; sweeping and polling instead",
                queue=self.queue_url,
                error=describe(error),
            )

    def _recovered(self, log: Any) -> None:
        self._failures = 0
        if not self.healthy:
            self.healthy = True
            self._broken = anyio.Event()
            log.warning("queue answering again; events resume", queue=self.queue_url)


class PushCoverage:
    """The queue as a hint source of one kind: it covers the kind while the queue works.

    The hints themselves come from the queue's one consumer, through the poller;
    this only tells the kind's scheduler when it may rely on them.
    """

    name = "queue"
    push = True
    # Per-job reads while covered: a last resort, since the reconciling sweep runs.
    reconcile_after = 300.0

    def __init__(self, queue: EventBridgeQueue) -> None:
        self._queue = queue
        self.reconcile_interval = queue.reconcile_interval

    def wanted(self, pending: int, running: bool, pushed: float | None) -> bool:
        return pending > 0

    def rate_limits(self) -> dict[str, float]:
        return {}

    async def run(self, feed: object) -> float:
        await self._queue.wait_broken()
        return RETRY_SECONDS
