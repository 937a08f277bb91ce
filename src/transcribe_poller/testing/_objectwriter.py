"""Jobs' output objects on the local test bed, written into moto's S3 as the service would.

With output events on, the test bed makes what the AWS set-up guide builds on AWS: the
output bucket with its notifications to EventBridge on, and a rule on the default
bus routing its "Object Created" events to the events queue. An
:class:`OutputWriter` thread then writes each job's objects (``_outputs``): the
write-access check object when the job starts and, when it completes, its output
(real transcript JSON) a lead before its status says COMPLETED. From there on it is
moto's doing: S3 sends the event to EventBridge, the rule to the queue.

Without events (``events`` None: the bed's default) the writer writes the same
objects into plain buckets, so that caller-bucket output can be read with S3
GetObject whether events are on or not.

Best effort, like the events: for a job whose events are lost, the objects are
written with the bucket's notifications off for the moment, so no event is sent;
a duplicated job's output is written twice (an overwrite is a new event on AWS too).
A FAILED job writes no output.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .._jobs import JobKind
from ._eventwire import OUTPUT_RULE_NAME, OUTPUT_TARGET_ID, EventSettings, output_pattern
from ._outputs import check_key, content, output_keys, writes_output
from ._script import ScriptedJob


@dataclass(order=True)
class _Write:
    due: float
    order: int
    script: ScriptedJob = field(compare=False)
    keys: list[str] = field(compare=False)
    silent: bool = field(default=False, compare=False)  # lost: no event


class OutputWriter:
    """Writes scripted jobs' output objects into moto's S3, on time; see the module."""

    def __init__(
        self,
        s3: Any,
        events: Any,
        queue_arn: str | None,
        settings: EventSettings,
        *,
        since: float | None = None,
    ) -> None:
        self._s3 = s3
        self._events = events
        self._queue_arn = queue_arn
        self._loss, self._duplicate = settings.loss, settings.duplicate
        self._lead = settings.output_lead
        self._random = random.Random(settings.seed)
        self._since = time.time() if since is None else since
        self._cond = threading.Condition()
        self._heap: list[_Write] = []
        self._order = itertools.count()
        self._planned: set[tuple[JobKind, str, str]] = set()
        self._buckets: set[str] = set()
        self._written_at: dict[tuple[JobKind, str], float] = {}
        self.written = 0
        self.failed = 0
        self.last_error: str | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="transcribe-outputs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def written_at(self, kind: JobKind, name: str) -> float | None:
        """When the job's output was first written with its event on (``time.time()``)."""
        with self._cond:
            return self._written_at.get((kind, name))

    def add(self, script: ScriptedJob) -> None:
        """Plan the job's objects (none for a job without a bucket of the caller's)."""
        key = (script.kind, script.name, script.token)
        with self._cond:
            if not writes_output(script) or key in self._planned or self._stopping:
                return
            self._planned.add(key)
            if script.started_at >= self._since:
                self._push(
                    _Write(script.started_at, next(self._order), script, [check_key(script)])
                )
            if script.outcome != "COMPLETED" or script.terminal_at < self._since:
                return
            lost = self._random.random() < self._loss
            copies = 1 if lost or self._random.random() >= self._duplicate else 2
            lead = self._random.uniform(*self._lead)
            due = max(script.started_at, script.terminal_at - lead)
            for _ in range(copies):
                self._push(_Write(due, next(self._order), script, output_keys(script), lost))

    def _push(self, write: _Write) -> None:
        heapq.heappush(self._heap, write)
        self._cond.notify_all()

    # -- the writer's thread -----------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                write = self._take_due()
                if write is None:
                    return
            try:
                self._write(write)
            except Exception as error:  # moto gone or refusing: count it, keep going
                with self._cond:
                    self.failed += 1
                    self.last_error = repr(error)

    def _take_due(self) -> _Write | None:
        while not self._stopping:
            now = time.time()
            if self._heap and self._heap[0].due <= now:
                return heapq.heappop(self._heap)
            self._cond.wait(self._heap[0].due - now if self._heap else None)
        return None

    def _write(self, write: _Write) -> None:
        bucket = write.script.output_bucket
        assert bucket is not None
        self._ensure_bucket(bucket)
        if write.silent and self._events is not None:
            self._notify(bucket, on=False)
        with self._cond:
            # Noted before the write: its event may reach a reader before put_object
            # returns here.
            if not write.silent and write.keys != [check_key(write.script)]:
                self._written_at.setdefault((write.script.kind, write.script.name), time.time())
        try:
            for key in write.keys:
                self._s3.put_object(Bucket=bucket, Key=key, Body=content(write.script, key))
        finally:
            if write.silent and self._events is not None:
                self._notify(bucket, on=True)
        with self._cond:
            self.written += len(write.keys)

    def _notify(self, bucket: str, *, on: bool) -> None:
        config: dict[str, Any] = {"EventBridgeConfiguration": {}} if on else {}
        self._s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=config
        )

    def _ensure_bucket(self, bucket: str) -> None:
        """Create the bucket with notifications to EventBridge on, and route its events."""
        if bucket in self._buckets:
            return
        region = self._s3.meta.region_name
        where = {} if region == "us-east-1" else {"LocationConstraint": region}
        with contextlib.suppress(self._s3.exceptions.BucketAlreadyOwnedByYou):
            self._s3.create_bucket(
                Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {})
            )
        self._buckets.add(bucket)
        if self._events is None:
            return
        self._notify(bucket, on=True)
        self._events.put_rule(
            Name=OUTPUT_RULE_NAME,
            EventPattern=json.dumps(output_pattern(sorted(self._buckets))),
            State="ENABLED",
            Description="Transcribe output objects to the transcribe-poller queue",
        )
        if len(self._buckets) == 1:
            self._events.put_targets(
                Rule=OUTPUT_RULE_NAME, Targets=[{"Id": OUTPUT_TARGET_ID, "Arn": self._queue_arn}]
            )
