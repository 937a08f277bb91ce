"""FakeEventQueue: an in-memory SQS queue that a FakeTranscribe's jobs send events to.

What an EventBridge rule targeting an SQS queue would deliver: when a scripted
standard or Call Analytics job ends, the whole event JSON (``_eventwire``) becomes
a message body, best effort: a share of events can be lost, duplicated or
delayed. Medical and Medical Scribe jobs send none, as with the real service;
with ``output_events`` the queue also receives S3's "Object Created" events of
the jobs' output objects (``_outputs``), each landing a lead before its job's
status says COMPLETED. It answers the three SQS operations the poller uses, on
the fake's clock, so long polls take no real time under a virtual clock.

It knows the fake only by its public face (:class:`EventSource`: ``region``,
``now()``, ``datetime_at()``, ``scripts``), so this module imports nothing of
``_fake``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import botocore.exceptions

from .._jobs import JobKind
from ._answers import client_error
from ._eventwire import QUEUE_NAME, job_event, object_created_event, settle_events
from ._outputs import check_key, output_keys, writes_output
from ._script import ScriptedJob
from ._service import ACCOUNT_ID, EVENT_KINDS

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._eventwire import EventOptions

VISIBILITY_TIMEOUT = 30.0


class EventSource(Protocol):
    """Where a FakeEventQueue's events come from: a FakeTranscribe, by its public face."""

    region: str

    def now(self) -> float: ...

    def datetime_at(self, seconds: float) -> datetime: ...

    @property
    def scripts(self) -> Mapping[tuple[JobKind, str], ScriptedJob]: ...


@dataclass
class _Message:
    id: str
    body: str
    visible_at: float
    receipt: str = ""


class FakeEventQueue:
    """An in-memory SQS client holding one queue of Transcribe's job state events.

    Made by :meth:`FakeTranscribe.enable_events` (``fake.events_queue``, or
    ``async with fake.sqs_client()``); pass it as the ``sqs`` client of an
    ``EventBridgeQueue`` with :attr:`url`. It takes the event options of
    ``enable_events`` (``EventOptions``): ``loss`` and ``duplicate`` are shares of
    events lost and sent twice; each event arrives ``delay`` seconds (a
    ``(shortest, longest)`` range) after its job's end. With ``output_events``,
    every job writing to a bucket of the caller's (all medical and Medical Scribe
    jobs) also sends S3's "Object Created" events: the write-access check object
    at its start and, when it completes, its output objects, ``output_lead``
    seconds (a range) before its status says COMPLETED; a job's objects are lost
    or duplicated together, per ``loss`` and ``duplicate``. A job that ended
    before the queue was made sends nothing, as an EventBridge rule made after an
    event was sent never sees it. :meth:`put` adds any body
    (to test malformed messages); :meth:`outage` makes every request fail with a
    connection error for a while; ``missing`` and ``denied`` make the queue answer
    as one that does not exist or may not be read.
    """

    def __init__(self, source: EventSource, **options: Unpack[EventOptions]) -> None:
        settings = settle_events(options)
        self.url = f"https://sqs.{source.region}.amazonaws.com/{ACCOUNT_ID}/{QUEUE_NAME}"
        self.loss, self.duplicate, self.delay = settings.loss, settings.duplicate, settings.delay
        self.output_events = settings.output_events
        self.output_lead = settings.output_lead
        # When each job's first output object was announced (its event visible).
        self.object_arrived: dict[tuple[JobKind, str], float] = {}
        self.objects = 0  # output objects written, check objects included
        self.missing = False
        self.denied = False
        self.requests = 0
        self.sent = 0  # events that reached the queue, duplicates included
        self.lost = 0
        # When each job's first event became visible: the ground truth for latency.
        self.arrived: dict[tuple[JobKind, str], float] = {}
        self._source = source
        self._region = source.region
        self._jobs = source.scripts  # read-only, and live
        try:
            self._since = source.now()
        except RuntimeError:  # made outside the event loop: no job can have ended yet
            self._since = -math.inf
        self._random = random.Random(settings.seed)
        self._messages: list[_Message] = []
        self._planned: set[tuple[JobKind, str, str]] = set()  # (kind, name, token)
        self._planned_outputs: set[tuple[JobKind, str, str]] = set()
        self._ids = itertools.count()
        self._outage_until = -math.inf
        self.meta = SimpleNamespace(endpoint_url=self.url, region_name=source.region)

    def __repr__(self) -> str:
        return f"<FakeEventQueue {self.url} messages={len(self._messages)}>"

    def _now(self) -> float:
        return self._source.now()

    def _time(self, seconds: float) -> str:
        """An event's ``time`` for a reading of the fake's clock."""
        at = self._source.datetime_at(seconds).astimezone(timezone.utc)
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- scripting -----------------------------------------------------------------

    def put(self, body: str) -> None:
        """Add a message with any body, visible at once."""
        self._messages.append(_Message(f"m{next(self._ids)}", body, self._now()))

    def outage(self, seconds: float) -> None:
        """Fail every request with a connection error for ``seconds`` from now."""
        self._outage_until = self._now() + seconds

    # -- the SQS operations --------------------------------------------------------

    async def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: list[str]
    ) -> dict[str, Any]:
        self._admit(QueueUrl, "GetQueueAttributes")
        await anyio.lowlevel.checkpoint()
        arn = f"arn:aws:sqs:{self._region}:{ACCOUNT_ID}:{QUEUE_NAME}"
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
        deadline = self._now() + WaitTimeSeconds
        while True:
            now = self._now()
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
        if self._now() < self._outage_until:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=url)
        if self.missing or url != self.url:
            raise client_error(
                operation, 400, "QueueDoesNotExist", "The specified queue does not exist."
            )
        if self.denied:
            raise client_error(operation, 400, "AccessDenied", f"not authorized: sqs:{operation}")

    def _emit(self, now: float) -> None:
        """Queue the events of jobs that have ended, once each, as planned."""
        for (kind, _), script in self._jobs.items():
            key = (kind, script.name, script.token)
            if self.output_events and key not in self._planned_outputs:
                self._planned_outputs.add(key)
                self._plan_outputs(script)
            if kind not in EVENT_KINDS or key in self._planned or now < script.terminal_at:
                continue
            self._planned.add(key)
            if script.terminal_at < self._since:
                continue  # it ended before the queue's rule existed
            if self._random.random() < self.loss:
                self.lost += 1
                continue
            copies = 2 if self._random.random() < self.duplicate else 1
            for _ in range(copies):
                arrives = script.terminal_at + self._random.uniform(*self.delay)
                first = self.arrived.get((kind, script.name), math.inf)
                self.arrived[(kind, script.name)] = min(first, arrives)
                body = job_event(script, self._region, self._time(script.terminal_at))
                self._messages.append(_Message(f"m{next(self._ids)}", body, arrives))
                self.sent += 1

    def _plan_outputs(self, script: ScriptedJob) -> None:
        """Queue the S3 events of a job's objects, each visible when it arrives."""
        if not writes_output(script):
            return
        bucket = script.output_bucket
        assert bucket is not None
        region = self._region
        if script.started_at >= self._since:
            self._object_event(bucket, check_key(script), script.started_at, region)
        if script.outcome != "COMPLETED" or script.terminal_at < self._since:
            return  # a FAILED job writes no output; an ended one wrote it unseen
        if self._random.random() < self.loss:
            self.lost += 1
            return
        copies = 2 if self._random.random() < self.duplicate else 1
        lead = self._random.uniform(*self.output_lead)
        written = max(script.started_at, script.terminal_at - lead)
        for _ in range(copies):
            arrives = written + self._random.uniform(*self.delay)
            job = (script.kind, script.name)
            self.object_arrived[job] = min(self.object_arrived.get(job, math.inf), arrives)
            for key in output_keys(script):
                self._object_event(bucket, key, arrives, region)

    def _object_event(self, bucket: str, key: str, at: float, region: str) -> None:
        body = object_created_event(bucket, key, region, self._time(at), f"s3-{next(self._ids)}")
        self._messages.append(_Message(f"m{next(self._ids)}", body, at))
        self.objects += 1
        self.sent += 1

    def _next_due(self, now: float) -> float:
        """When something may next become visible: a message, or a job's end."""
        times = [m.visible_at for m in self._messages if m.visible_at > now]
        times += [
            s.terminal_at
            for (kind, _), s in self._jobs.items()
            if kind in EVENT_KINDS and (kind, s.name, s.token) not in self._planned
        ]
        return min(times, default=math.inf)
