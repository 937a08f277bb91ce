"""Transcribe's job state events on the local test bed, through moto's own EventBridge.

moto's Transcribe never sends events, so the test bed sends them for its scripted
jobs: when a standard or Call Analytics job reaches its terminal time, an
:class:`EventEmitter` thread calls ``PutEvents`` on moto's EventBridge with the event
``_eventwire.job_event`` describes (the same one :class:`FakeEventQueue` delivers). From
there on it is moto's doing, as it would be AWS's: a rule on the default bus
matches the event and its SQS target puts the whole event JSON in the queue.
Medical and Medical Scribe jobs send none, as with the real service.

Delivery is best effort on purpose: a seeded share of events is lost, another sent
twice, each after a delay drawn from a range, so tests and benchmarks can show what
a missing, repeated or late event costs.

What moto does differently from AWS (moto 5.2): it accepts ``aws.*`` sources from
anyone (AWS refuses them: only the service may send them); the body it delivers
leaves out ``account``, holds moto's own event ``id``, and gives ``time`` to the
second; it does not enforce the queue policy, which is set anyway as on AWS.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._jobs import JobKind
from ._eventwire import (
    EVENT_PATTERN,
    QUEUE_NAME,
    RULE_NAME,
    TARGET_ID,
    EventSettings,
    EventStatistics,
    iso,
    job_event,
    sends_event,
)
from ._script import ScriptedJob

# PutEvents takes at most 10 entries a call.
MAX_ENTRIES = 10


def create_route(sqs: Any, events: Any, region: str) -> tuple[str, str]:
    """Create the queue, the rule and its target in moto; return (queue URL, rule ARN).

    ``sqs`` and ``events`` are botocore clients of moto. The set-up is the one to make
    on AWS, policy included: moto does not check the policy, AWS does.
    """
    queue_url: str = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    queue_arn: str = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule_arn: str = events.put_rule(
        Name=RULE_NAME,
        EventPattern=json.dumps(EVENT_PATTERN),
        State="ENABLED",
        Description="Transcribe job state changes to the transcribe-poller queue",
    )["RuleArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "transcribe-events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    answer = events.put_targets(Rule=RULE_NAME, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"moto refused the queue as the rule's target: {answer}")
    return queue_url, rule_arn


@dataclass(order=True)
class _Send:
    """One planned event: at ``due``, send it (or, when ``lost``, only count it)."""

    due: float
    order: int  # unique: ties of ``due`` never compare the rest
    script: ScriptedJob = field(compare=False)
    lost: bool = field(default=False, compare=False)


class EventEmitter:
    """Sends the job state events of scripted jobs to moto's EventBridge, on time.

    ``events`` is a botocore EventBridge client of moto (used from the emitter's
    thread only). :meth:`add` plans a job's events, from any thread; a daemon thread
    sends each when due (a job's terminal time plus a delay drawn from ``delay``).
    A job that ended before ``since`` (the emitter's making, by default) sends none:
    AWS delivers no event to a rule that did not exist when it was sent.
    """

    def __init__(
        self,
        events: Any,
        region: str,
        settings: EventSettings,
        *,
        since: float | None = None,
    ) -> None:
        self._events = events
        self._region = region
        self._loss, self._duplicate = settings.loss, settings.duplicate
        self._delay = settings.delay
        self._random = random.Random(settings.seed)
        self._since = time.time() if since is None else since
        self._cond = threading.Condition()
        self._heap: list[_Send] = []
        self._order = itertools.count()
        self._planned: set[tuple[JobKind, str, str]] = set()  # (kind, name, token)
        self._sent_at: dict[tuple[JobKind, str], float] = {}
        self._sent = self._lost = self._duplicated = self._failed = self._sending = 0
        self._last_error: str | None = None
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="transcribe-event-emitter", daemon=True
        )

    def __repr__(self) -> str:
        return f"<EventEmitter {self.statistics()}>"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; events not yet sent never will be. Returns once stopped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            # A send under way is one local HTTP request: it ends quickly.
            self._thread.join(timeout=30)

    def add(self, script: ScriptedJob) -> None:
        """Plan the events of ``script``'s job (none for kinds that send none)."""
        key = (script.kind, script.name, script.token)
        with self._cond:
            if (
                not sends_event(script)
                or key in self._planned
                or script.terminal_at < self._since
                or self._stopping
            ):
                return
            self._planned.add(key)
            # Drawn when the job is added, so a seed gives the same fates to the
            # same sequence of started jobs, whenever each one ends.
            if self._random.random() < self._loss:
                self._push(_Send(script.terminal_at, next(self._order), script, lost=True))
                return
            copies = 2 if self._random.random() < self._duplicate else 1
            self._duplicated += copies - 1
            for _ in range(copies):
                due = script.terminal_at + self._random.uniform(*self._delay)
                self._push(_Send(due, next(self._order), script))

    def _push(self, send: _Send) -> None:
        heapq.heappush(self._heap, send)
        self._cond.notify_all()

    def sent_at(self, kind: JobKind, name: str) -> float | None:
        """When the job's first event was sent: just before the PutEvents call that
        put it in the queue."""
        with self._cond:
            return self._sent_at.get((kind, name))

    def statistics(self) -> EventStatistics:
        with self._cond:
            return EventStatistics(
                sent=self._sent,
                lost=self._lost,
                duplicated=self._duplicated,
                pending=len(self._heap) + self._sending,
                failed=self._failed,
                last_error=self._last_error,
            )

    # -- the emitter's thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._take_due()
                if due is None:
                    return
                self._sending = len(due)
            try:
                self._send(due)
            finally:
                with self._cond:
                    self._sending = 0

    def _take_due(self) -> list[_Send] | None:
        """Wait until sends are due and take up to one call's worth; None once stopping."""
        while not self._stopping:
            now = time.time()
            if self._heap and self._heap[0].due <= now:
                taken: list[_Send] = []
                while self._heap and self._heap[0].due <= now and len(taken) < MAX_ENTRIES:
                    taken.append(heapq.heappop(self._heap))
                return taken
            self._cond.wait(self._heap[0].due - now if self._heap else None)
        return None

    def _send(self, due: list[_Send]) -> None:
        lost = [send for send in due if send.lost]
        entries = [self._entry(send.script) for send in due if not send.lost]
        results: list[Mapping[str, Any]] = []
        error: str | None = None
        # Taken before the call: no consumer can have the message earlier, and moto
        # puts it in the queue before it answers, so the call's latency is the error.
        at = time.time()
        if entries:
            try:
                answer = self._events.put_events(Entries=entries)
                results = answer.get("Entries") or []
            except Exception as exc:  # moto gone or refusing: count it, keep going
                error = repr(exc)
        sent = [s for s in due if not s.lost]
        with self._cond:
            self._lost += len(lost)
            for send, result in itertools.zip_longest(sent, results[: len(sent)]):
                if result is not None and "EventId" in result:
                    self._sent += 1
                    self._sent_at.setdefault((send.script.kind, send.script.name), at)
                    continue
                self._failed += 1
                if result is not None:
                    error = f"{result.get('ErrorCode')}: {result.get('ErrorMessage')}"
                self._last_error = error

    def _entry(self, script: ScriptedJob) -> dict[str, Any]:
        """The PutEvents entry whose event is :func:`job_event`'s for the job."""
        event = json.loads(job_event(script, self._region, iso(script.terminal_at)))
        return {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event["resources"],
            "Time": datetime.fromtimestamp(script.terminal_at, tz=timezone.utc),
        }


__all__ = ["EventEmitter", "create_route"]
