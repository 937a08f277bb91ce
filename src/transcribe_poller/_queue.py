"""The running side of push: one consumer reads the queue, and feeds each covered kind.

A :class:`QueueConsumer` belongs to one open poller, which makes it from the user's
:class:`EventBridgeQueue` (plain configuration) and drops it on leaving, so a new
poller given the same configuration starts afresh. It long-polls the queue, reads
each message (a Transcribe event, an S3 "Object Created" event, or S3's own
notification) and hints the jobs it may concern through the :class:`HintFeed` of
their kind's scheduler: each covered kind has a :class:`PushCoverage` among its
hint sources, whose run hands the consumer that feed and lasts while the queue
works.

Nothing a message holds can raise out of the consumer: a message it cannot use
(not JSON, nested past the parser's depth, no event, a hook that raised) is
deleted, or left per ``others``, and the rest of its batch is handled as usual.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import anyio

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._eventbridge import EventBridgeQueue, decode_body, notice_in, short
from ._exceptions import NotificationsError
from ._hints import HintFeed
from ._jobs import JobKind
from ._kinds import TERMINAL_STATUSES
from ._s3events import S3_SOURCE, default_output_names, objects_in

# Failed receives in a row before the covered kinds go back to sweeps and Gets.
MAX_FAILURES = 3
# While the queue does not work, how often the covered kinds ask whether it does again.
RETRY_SECONDS = 5.0
# Names taken from one object: a hook answering more is cut there.
MAX_NAMES_PER_OBJECT = 32


class QueueConsumer:
    """Reads one queue for one poller; see the module docstring."""

    def __init__(self, config: EventBridgeQueue, log: Any) -> None:
        self.config = config
        self.healthy = True
        self.requests = 0
        self.messages = 0
        self.unusable = 0  # messages that were no event, or could not be read
        self._log = log
        self._names = config.output_names or default_output_names
        self._failures = 0
        self._broken = anyio.Event()
        self._feeds: dict[JobKind, HintFeed] = {}
        self._hook_failed = False

    def coverage(self, kind: JobKind) -> PushCoverage:
        """The hint source that covers ``kind`` while the queue works."""
        return PushCoverage(self, kind)

    def attach(self, kind: JobKind, feed: HintFeed) -> None:
        """Hints about ``kind`` go to ``feed`` from now on (its scheduler's)."""
        self._feeds[kind] = feed

    async def check(self) -> None:
        """Fail at once, with a clear message, if the queue cannot be read at all."""
        try:
            self.requests += 1
            await self.config.sqs.get_queue_attributes(
                QueueUrl=self.config.queue_url, AttributeNames=["QueueArn"]
            )
        except Exception as error:
            verdict, _ = classify(error)
            if verdict in (Verdict.THROTTLED, Verdict.TRANSIENT):
                return  # it exists, most likely: the consumer will retry
            raise NotificationsError(
                f"cannot use the queue {self.config.queue_url}: {describe(error)}"
            ) from error

    async def wait_broken(self) -> None:
        """Return once the queue stops working (now, if it does not)."""
        if not self.healthy:
            return
        await self._broken.wait()

    async def run(self) -> None:
        """Receive, hint and delete until cancelled."""
        retry = Backoff(initial=1.0, maximum=30.0)
        config = self.config
        while True:
            try:
                self.requests += 1
                answer = await config.sqs.receive_message(
                    QueueUrl=config.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=config.wait_time,
                )
                messages = answer.get("Messages") if isinstance(answer, Mapping) else None
                if not isinstance(messages, list):
                    messages = []
                self.messages += len(messages)
                done = [handle for handle in map(self._handle, messages) if handle is not None]
                await self._delete(done)
            except Exception as error:
                self._failed(error)
                await anyio.sleep(retry.delay(min(self._failures, 10)))
            else:
                self._recovered()

    # -- one message -------------------------------------------------------------------

    def _handle(self, message: object) -> str | None:
        """Hint what the message says; its receipt handle if it is to be deleted."""
        if not isinstance(message, Mapping):
            self.unusable += 1
            return None  # nothing to delete it by
        handle = message.get("ReceiptHandle")
        if not isinstance(handle, str):
            self.unusable += 1
            return None
        try:
            used = self._use(message.get("Body"))
        except Exception as error:  # whatever the body held: this message only
            self.unusable += 1
            self._log.debug("queue message unusable", error=short(error))
            used = False
        return handle if used or self.config.others == "delete" else None

    def _use(self, body: object) -> bool:
        """Hint the jobs a body concerns; whether any is awaited here (or it is done with)."""
        event = decode_body(body)
        if isinstance(event, str):
            self.unusable += 1
            self._log.debug("queue message ignored", reason=event)
            return False
        if "Records" in event or event.get("source") == S3_SOURCE:
            return self._objects(event)
        notice = notice_in(event)
        if isinstance(notice, str):
            self.unusable += 1
            self._log.debug("queue message ignored", reason=notice)
            return False
        if notice.status not in TERMINAL_STATUSES:
            return True  # nothing to do with it, here or anywhere
        feed = self._feeds.get(notice.job.kind)
        if feed is None or not feed.awaits(notice.job.name):
            return False
        feed.may_have_ended(notice.job.name)
        return True

    def _objects(self, event: Mapping[str, Any]) -> bool:
        objects = objects_in(event)
        if isinstance(objects, str):
            self._log.debug("queue message ignored", reason=objects)
            return False
        feeds = [self._feeds[kind] for kind in self.config.output_events if kind in self._feeds]
        awaited = False
        for obj in objects:
            for name in self._names_of(obj.bucket, obj.key):
                for feed in feeds:
                    if isinstance(name, str) and feed.awaits(name):
                        feed.may_have_ended(name, output=True)
                        awaited = True
        return awaited

    def _names_of(self, bucket: str, key: str) -> list[str]:
        try:
            # A hook yielding without end is cut: a message's worth of names at most.
            return list(itertools.islice(self._names(bucket, key), MAX_NAMES_PER_OBJECT))
        except Exception as error:
            if not self._hook_failed:  # said once: it would say so for every object
                self._hook_failed = True
                self._log.warning(
                    "output_names failed; objects it cannot read are ignored",
                    key=short(key),
                    error=describe(error),
                )
            raise

    async def _delete(self, handles: list[str]) -> None:
        if not handles:
            return
        self.requests += 1
        answer = await self.config.sqs.delete_message_batch(
            QueueUrl=self.config.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)],
        )
        failed = answer.get("Failed") if isinstance(answer, Mapping) else None
        if failed:
            # Not deleted: it comes back after its visibility timeout, a duplicate
            # hint that costs nothing, since its job has ended by then.
            self._log.info("queue messages not deleted", failed=len(failed))

    # -- health ------------------------------------------------------------------------

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        if self._failures == MAX_FAILURES and self.healthy:
            self.healthy = False
            self._broken.set()
            self._log.warning(
                "queue not answering; sweeping and polling instead",
                queue=self.config.queue_url,
                error=describe(error),
            )

    def _recovered(self) -> None:
        self._failures = 0
        if not self.healthy:
            self.healthy = True
            self._broken = anyio.Event()
            self._log.warning("queue answering again; events resume", queue=self.config.queue_url)


class PushCoverage:
    """The queue as a hint source of one kind: it covers the kind while the queue works.

    Its run gives the consumer the kind's feed, then lasts until the queue stops
    working; the hints themselves come from the consumer's one task.
    """

    name = "queue"
    push = True
    # Per-job reads while covered: a last resort, since the reconciling sweep runs.
    reconcile_after = 300.0

    def __init__(self, consumer: QueueConsumer, kind: JobKind) -> None:
        self._consumer = consumer
        self._kind = kind
        self.reconcile_interval = consumer.config.reconcile_interval

    def wanted(self, pending: int, running: bool, pushed: float | None) -> bool:
        return pending > 0

    def rate_limits(self) -> dict[str, float]:
        return {}

    async def run(self, feed: HintFeed) -> float:
        self._consumer.attach(self._kind, feed)
        await self._consumer.wait_broken()
        return RETRY_SECONDS
