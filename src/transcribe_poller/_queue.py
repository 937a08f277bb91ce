"""The running side of push: one consumer reads the queue, and feeds each covered kind.

A :class:`QueueConsumer` belongs to one open poller, which makes it from the user's
:class:`EventBridgeQueue` (plain configuration) and drops it on leaving, so a new
poller given the same configuration starts afresh. It long-polls the queue, has
each message read (``_messages.read_body``: a Transcribe event, an S3 "Object
Created" event, or S3's own notification, into hints) and hands each hint to the
:class:`HintFeed` of its kind's scheduler: each covered kind has a :class:`PushCoverage` among its
hint sources, whose run hands the consumer that feed and lasts while the queue
works.

Nothing a message holds can raise out of the consumer: a message it cannot use
(not JSON, nested past the parser's depth, no event, a hook that raised) is
deleted, or left per ``others``, and the rest of its batch is handled as usual.

Nor can the SQS client stop it. Every request has a deadline (``request_timeout``;
a receive, its long poll on top), and whatever a request does instead of
answering (raise, hang, answer nonsense, raise a CancelledError nobody asked for)
is a fault of that request. The queue *works* while its receives answer: the
first receive that fails, or is still unanswered ``RECEIVE_GRACE`` seconds after
its long poll should have ended, makes it not working (one warning; the covered
kinds go back to sweeps and Gets), and the first receive answered again makes it
work (one line). A rule, not a count of faults: while receives fail no event
arrives, so the kinds are not covered, whatever the reason. Deletes run in a task
of their own, so a failing or hung delete never holds receives up, and never
turns push off: the handles are retried with the next delete.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from ._backoff import Backoff
from ._cancel import is_foreign_cancellation, really_cancelled
from ._classify import Verdict, classify, describe
from ._eventbridge import EventBridgeQueue
from ._exceptions import NotificationsError
from ._hints import HintFeed
from ._jobs import JobKind
from ._messages import read_body, short

DEFAULT_REQUEST_TIMEOUT = 60.0
# A receive still unanswered this long after its long poll should have ended makes
# the queue not working at once, though the request may run to its deadline: a
# long poll answers within wait_time, and the poller's request_timeout (10 minutes
# for some clients) is far too long to go on counting on events meanwhile.
RECEIVE_GRACE = 10.0
# An empty answer sooner than this after its receive began waits the rest: short
# polls (wait_time 0) or a client ignoring WaitTimeSeconds must not spin the loop.
MIN_RECEIVE_CYCLE = 1.0
# While the queue does not work, how often the covered kinds ask whether it does again.
RETRY_SECONDS = 5.0
# SQS's limit of entries per DeleteMessageBatch (and of messages per receive).
BATCH = 10
# Receipt handles waiting to be deleted, at most: while deletes fail, older ones
# are dropped. A dropped message only comes back after its visibility timeout, to
# be received (and hinted, harmlessly) again and deleted then.
MAX_UNDELETED = 5 * BATCH


class NoAnswer(TimeoutError):
    """A request that did not answer: past its deadline, a CancelledError of the
    client's own, or an answer that is not one. Transient, like a timeout."""


class QueueConsumer:
    """Reads one queue for one poller; see the module docstring.

    ``request_timeout``: the deadline of each request, in seconds (a receive gets
    its long poll, ``wait_time``, on top); the poller passes its own.
    """

    def __init__(
        self,
        config: EventBridgeQueue,
        log: Any,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        self.config = config
        self.request_timeout = float(request_timeout)
        self.healthy = True
        self.requests = 0
        self.messages = 0
        self._log = log
        self._hook = config.output_names
        # In JobKind's order, so hints come in the same order on every run.
        self._output_kinds = [kind for kind in JobKind if kind in config.output_events]
        self._broken = anyio.Event()
        self._feeds: dict[JobKind, HintFeed] = {}
        self._hook_failed = False
        self._undeleted: collections.deque[str] = collections.deque()
        self._to_delete = anyio.Event()

    def coverage(self, kind: JobKind) -> PushCoverage:
        """The hint source that covers ``kind`` while the queue works."""
        return PushCoverage(self, kind)

    def attach(self, kind: JobKind, feed: HintFeed) -> None:
        """Hints about ``kind`` go to ``feed`` from now on (its scheduler's)."""
        self._feeds[kind] = feed

    async def check(self) -> None:
        """Fail at once, with a clear message, if the queue cannot be read at all.

        A fault that may pass (throttled, a 5xx, no answer within
        ``request_timeout``) is no reason to refuse to start: the queue counts as
        not working until a receive answers, and the covered kinds are swept.
        """
        answer = await self._send(
            self.config.sqs.get_queue_attributes,
            "GetQueueAttributes",
            self.request_timeout,
            QueueUrl=self.config.queue_url,
            AttributeNames=["QueueArn"],
        )
        if not isinstance(answer, Exception):
            return
        if not isinstance(answer, NoAnswer):
            verdict, _ = classify(answer)
            if verdict not in (Verdict.THROTTLED, Verdict.TRANSIENT):
                raise NotificationsError(
                    f"cannot use the queue {self.config.queue_url}: {describe(answer)}"
                ) from answer
        self._not_working(answer)  # it exists, most likely: the consumer will retry

    async def wait_broken(self) -> None:
        """Return once the queue stops working (now, if it does not)."""
        if not self.healthy:
            return
        await self._broken.wait()

    async def run(self) -> None:
        """Receive, hint and delete until cancelled."""
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(self._deleting, name="queue deletes")
            await self._receiving()

    # -- requests ----------------------------------------------------------------------

    async def _send(
        self,
        call: Callable[..., Awaitable[Any]],
        operation: str,
        within: float,
        **params: Any,
    ) -> Mapping[str, Any] | Exception:
        """The answer to one request within ``within`` seconds, or the fault that came
        instead (returned, never raised)."""
        self.requests += 1
        try:
            with anyio.move_on_after(within):
                answer = await call(**params)
                if isinstance(answer, Mapping):
                    return answer
                return NoAnswer(f"{operation} answered a {type(answer).__name__}, not a dict")
        except Exception as error:
            return error
        except anyio.get_cancelled_exc_class():
            if await really_cancelled():
                raise  # the poller's own scopes: leaving, never swallowed
            # A CancelledError the client raised by itself (some libraries turn an
            # internal timeout into one): a fault of this request, as in Sender.call.
            return NoAnswer(f"the SQS client raised CancelledError ({operation})")
        except BaseException as error:
            if not is_foreign_cancellation(error):
                raise
            # asyncio's CancelledError raised by a client while running on trio.
            return NoAnswer(f"the SQS client raised {type(error).__name__} ({operation})")
        return NoAnswer(f"no answer to {operation} within {within:g} s (request_timeout)")

    # -- receiving ---------------------------------------------------------------------

    async def _receiving(self) -> None:
        retry = Backoff(initial=1.0, maximum=30.0)
        failures = 0
        while True:
            started = anyio.current_time()
            answer = await self._receive()
            if isinstance(answer, Exception):
                failures += 1
                self._not_working(answer)
                await anyio.sleep(retry.delay(failures - 1))
                continue
            failures = 0
            self._working()
            messages = answer.get("Messages")
            if not isinstance(messages, list):
                messages = []
            self.messages += len(messages)
            self._delete_later([h for h in map(self._handle, messages) if h is not None])
            if not messages:
                await anyio.sleep(max(0.0, started + MIN_RECEIVE_CYCLE - anyio.current_time()))

    async def _receive(self) -> Mapping[str, Any] | Exception:
        """One long poll, bounded by ``wait_time + request_timeout``; the queue is
        marked not working as soon as it is overdue, without waiting for that."""
        config = self.config
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(self._overdue, config.wait_time + RECEIVE_GRACE)
            answer = await self._send(
                config.sqs.receive_message,
                "ReceiveMessage",
                config.wait_time + self.request_timeout,
                QueueUrl=config.queue_url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=config.wait_time,
            )
            task_group.cancel_scope.cancel()
        return answer

    async def _overdue(self, seconds: float) -> None:
        await anyio.sleep(seconds)
        self._not_working(
            NoAnswer(f"no answer to ReceiveMessage within {seconds:g} s (its long poll and more)")
        )

    # -- one message -------------------------------------------------------------------

    def _handle(self, message: object) -> str | None:
        """Hint what the message says; its receipt handle if it is to be deleted."""
        if not isinstance(message, Mapping):
            return None  # nothing to delete it by
        handle = message.get("ReceiptHandle")
        if not isinstance(handle, str):
            return None
        try:
            used = self._use(message.get("Body"))
        except Exception as error:  # whatever the body held: this message only
            self._log.debug("queue message unusable", error=short(error))
            used = False
        return handle if used or self.config.others == "delete" else None

    def _use(self, body: object) -> bool:
        """Hint the jobs a body concerns; whether any is awaited here (or it is done with)."""
        try:
            reading = read_body(body, output_kinds=self._output_kinds, output_names=self._hook)
        except Exception as error:
            if not self._hook_failed:  # said once: it would say so for every object
                self._hook_failed = True
                self._log.warning(
                    "output_names failed; objects it cannot read are ignored",
                    error=describe(error),
                )
            raise
        if isinstance(reading, str):
            self._log.debug("queue message ignored", reason=reading)
            return False
        used = reading.done
        for hint in reading.hints:
            feed = self._feeds.get(hint.job.kind)
            if feed is not None and feed.awaits(hint.job.name):
                feed.may_have_ended(hint.job.name, output=hint.output)
                used = True
        return used

    # -- deleting ----------------------------------------------------------------------

    def _delete_later(self, handles: list[str]) -> None:
        if not handles:
            return
        self._undeleted.extend(handles)
        self._keep_bounded()
        self._to_delete.set()

    def _keep_bounded(self) -> None:
        dropped = 0
        while len(self._undeleted) > MAX_UNDELETED:
            self._undeleted.popleft()  # the oldest: its message may be back already
            dropped += 1
        if dropped:
            self._log.debug(
                "queue messages not deleted, dropped; they come back after their "
                "visibility timeout",
                dropped=dropped,
            )

    async def _deleting(self) -> None:
        """Delete what was handled, in batches, until cancelled; never gives up."""
        retry = Backoff(initial=1.0, maximum=30.0)
        failures = 0
        while True:
            while not self._undeleted:
                self._to_delete = anyio.Event()
                await self._to_delete.wait()
            count = min(BATCH, len(self._undeleted))
            batch = [self._undeleted.popleft() for _ in range(count)]
            kept = await self._delete(batch)
            if not kept:
                failures = 0
                continue
            # Ahead of newer handles: the oldest are the first to be dropped if
            # deletes keep failing, since their messages are the first to come back.
            self._undeleted.extendleft(reversed(kept))
            self._keep_bounded()
            failures += 1
            await anyio.sleep(retry.delay(failures - 1))

    async def _delete(self, handles: list[str]) -> list[str]:
        """Delete one batch; the handles to try again."""
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
        answer = await self._send(
            self.config.sqs.delete_message_batch,
            "DeleteMessageBatch",
            self.request_timeout,
            QueueUrl=self.config.queue_url,
            Entries=entries,
        )
        if isinstance(answer, Exception):
            # Not a receive failure: events still come, and these are retried.
            self._log.info(
                "queue messages not deleted", failed=len(handles), error=describe(answer)
            )
            return handles
        failed = answer.get("Failed")
        if not isinstance(failed, list) or not failed:
            return []
        kept = []
        for entry in failed:
            index = entry.get("Id") if isinstance(entry, Mapping) else None
            if not (isinstance(index, str) and index.isdigit() and int(index) < len(handles)):
                continue
            # SenderFault: SQS will never take this handle (expired, or invalid);
            # its message comes back after its visibility timeout with a new one.
            if entry.get("SenderFault") is not True:
                kept.append(handles[int(index)])
        self._log.info("queue messages not deleted", failed=len(failed), retried=len(kept))
        return kept

    # -- health ------------------------------------------------------------------------

    def _not_working(self, error: Exception) -> None:
        if self.healthy:
            self.healthy = False
            self._broken.set()
            self._log.warning(
                "queue not answering; sweeping and polling instead",
                queue=self.config.queue_url,
                error=describe(error),
            )

    def _working(self) -> None:
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
