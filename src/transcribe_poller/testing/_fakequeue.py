"""FakeEventQueue: an in-memory SQS queue that a FakeTranscribe's jobs send events to.

What an EventBridge rule targeting an SQS queue would deliver: when a scripted
standard or Call Analytics job ends, the whole event JSON becomes a message body,
best effort: a share of events can be lost, duplicated or delayed. Medical and
Medical Scribe jobs send none, as with the real service. It answers the three SQS
operations the poller uses, on the fake's clock, so long polls take no real time
under a virtual clock.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import botocore.exceptions

from .._eventbridge import DETAIL_TYPES
from .._jobs import JobKind
from ._answers import ACCOUNT_ID, client_error

if TYPE_CHECKING:
    from ._fake import FakeTranscribe
    from ._script import ScriptedJob

QUEUE_NAME = "transcribe-events"
VISIBILITY_TIMEOUT = 30.0
# What each covered kind's event says: detail-type, name field, status field.
_EVENTS = {
    kind: (detail_type, name, status) for detail_type, (kind, name, status) in DETAIL_TYPES.items()
}


@dataclass
class _Message:
    id: str
    body: str
    visible_at: float
    receipt: str = ""


def job_event(script: ScriptedJob, region: str, at: str) -> str:
    """The event JSON Transcribe sends when ``script``'s job ends (covered kinds)."""
    detail_type, name_field, status_field = _EVENTS[script.kind]
    detail: dict[str, Any] = {name_field: script.name, status_field: script.outcome}
    if script.outcome == "FAILED":
        detail["FailureReason"] = script.failure_reason
    return json.dumps(
        {
            "version": "0",
            "id": f"event-{script.token}",
            "detail-type": detail_type,
            "source": "aws.transcribe",
            "account": ACCOUNT_ID,
            "time": at,
            "region": region,
            "resources": [],
            "detail": detail,
        }
    )


class FakeEventQueue:
    """An in-memory SQS client holding one queue of Transcribe's job state events.

    Made by :meth:`FakeTranscribe.event_queue`; pass it as the ``sqs`` client of an
    ``EventBridgeQueue`` with :attr:`url`. ``loss`` and ``duplicate`` are shares of
    events lost and sent twice; each event arrives ``delay`` seconds (a
    ``(shortest, longest)`` range) after its job's end. :meth:`put` adds any body
    (to test malformed messages); :meth:`outage` makes every request fail with a
    connection error for a while; ``missing`` and ``denied`` make the queue answer
    as one that does not exist or may not be read.
    """

    def __init__(
        self,
        fake: FakeTranscribe,
        *,
        loss: float = 0.0,
        duplicate: float = 0.0,
        delay: tuple[float, float] = (0.0, 0.0),
        seed: int | None = None,
    ) -> None:
        for name, share in (("loss", loss), ("duplicate", duplicate)):
            if not (isinstance(share, (int, float)) and 0 <= share <= 1):
                raise ValueError(f"{name} must be a share between 0 and 1, got {share!r}")
        if not (0 <= delay[0] <= delay[1] and math.isfinite(delay[1])):
            raise ValueError(f"delay must be (shortest, longest) seconds, got {delay!r}")
        self.url = f"https://sqs.{fake.region}.amazonaws.com/{ACCOUNT_ID}/{QUEUE_NAME}"
        self.loss, self.duplicate, self.delay = loss, duplicate, delay
        self.missing = False
        self.denied = False
        self.requests = 0
        self.sent = 0  # events that reached the queue, duplicates included
        self.lost = 0
        # When each job's first event became visible: the ground truth for latency.
        self.arrived: dict[tuple[JobKind, str], float] = {}
        self._fake = fake
        self._random = random.Random(seed)
        self._messages: list[_Message] = []
        self._planned: set[tuple[JobKind, str, str]] = set()  # (kind, name, token)
        self._ids = itertools.count()
        self._outage_until = -math.inf
        self.meta = fake.meta

    def __repr__(self) -> str:
        return f"<FakeEventQueue {self.url} messages={len(self._messages)}>"

    # -- scripting -----------------------------------------------------------------

    def put(self, body: str) -> None:
        """Add a message with any body, visible at once."""
        self._messages.append(_Message(f"m{next(self._ids)}", body, self._fake._now()))

    def outage(self, seconds: float) -> None:
        """Fail every request with a connection error for ``seconds`` from now."""
        self._outage_until = self._fake._now() + seconds

    # -- the SQS operations --------------------------------------------------------

    async def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: list[str]
    ) -> dict[str, Any]:
        self._admit(QueueUrl, "GetQueueAttributes")
        await anyio.lowlevel.checkpoint()
        arn = f"arn:aws:sqs:{self._fake.region}:{ACCOUNT_ID}:{QUEUE_NAME}"
        return {"Attributes": {"QueueArn": arn}}

    async def receive_message(
        self,
        *,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        WaitTimeSeconds: int = 0,
        VisibilityTimeout: float = VISIBILITY_TIMEOUT,
    ) -> dict[str, Any]:
        self._admit(QueueUrl, "ReceiveMessage")
        deadline = self._fake._now() + WaitTimeSeconds
        while True:
            now = self._fake._now()
            self._emit(now)
            visible = [m for m in self._messages if m.visible_at <= now]
            if visible or now >= deadline:
                break
            # Long polling: answer as soon as a message is due, or when the wait ends
            # (looking again each second, for jobs started meanwhile).
            await anyio.sleep(min(self._next_due(now), deadline, now + 1.0) - now)
        taken = visible[:MaxNumberOfMessages]
        for message in taken:
            message.visible_at = now + VisibilityTimeout
            message.receipt = f"{message.id}-{next(self._ids)}"
        await anyio.lowlevel.checkpoint()
        return {
            "Messages": [
                {"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body} for m in taken
            ]
        }

    async def delete_message_batch(
        self, *, QueueUrl: str, Entries: list[dict[str, str]]
    ) -> dict[str, Any]:
        self._admit(QueueUrl, "DeleteMessageBatch")
        if not 1 <= len(Entries) <= 10:
            raise client_error("DeleteMessageBatch", 400, "TooManyEntriesInBatchRequest", "1 to 10")
        receipts = {entry["ReceiptHandle"] for entry in Entries}
        self._messages = [m for m in self._messages if m.receipt not in receipts]
        await anyio.lowlevel.checkpoint()
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}

    # -- behind the operations -----------------------------------------------------

    def _admit(self, url: str, operation: str) -> None:
        self.requests += 1
        if self._fake._now() < self._outage_until:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=url)
        if self.missing or url != self.url:
            raise client_error(
                operation, 400, "QueueDoesNotExist", "The specified queue does not exist."
            )
        if self.denied:
            raise client_error(operation, 400, "AccessDenied", f"not authorized: sqs:{operation}")

    def _emit(self, now: float) -> None:
        """Queue the events of jobs that have ended, once each, as planned."""
        for (kind, _), script in self._fake._jobs.items():
            key = (kind, script.name, script.token)
            if kind not in _EVENTS or key in self._planned or now < script.terminal_at:
                continue
            self._planned.add(key)
            if self._random.random() < self.loss:
                self.lost += 1
                continue
            copies = 2 if self._random.random() < self.duplicate else 1
            for _ in range(copies):
                arrives = script.terminal_at + self._random.uniform(*self.delay)
                first = self.arrived.get((kind, script.name), math.inf)
                self.arrived[(kind, script.name)] = min(first, arrives)
                body = job_event(script, self._fake.region, f"{script.terminal_at:.3f}")
                self._messages.append(_Message(f"m{next(self._ids)}", body, arrives))
                self.sent += 1

    def _next_due(self, now: float) -> float:
        """When something may next become visible: a message, or a job's end."""
        times = [m.visible_at for m in self._messages if m.visible_at > now]
        times += [
            s.terminal_at
            for (kind, _), s in self._fake._jobs.items()
            if kind in _EVENTS and (kind, s.name, s.token) not in self._planned
        ]
        return min(times, default=math.inf)
