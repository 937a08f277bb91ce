"""Push: learn of jobs' ends from events in an SQS queue; the queue's configuration.

Transcribe sends "Transcribe Job State Change" (standard jobs) and "Call Analytics
Job State Change" events to EventBridge when a job reaches COMPLETED or FAILED, best
effort; a rule can route them to an SQS queue, whose message body is then the whole
event. The poller's consumer of that queue (``_queue``) turns each event about an
awaited job into a hint for that job's scheduler. An event is only ever a hint: the
Get it prompts is the authority for the completion event and its URIs, so a lost,
late, repeated, out-of-order or forged message costs a request or some latency,
never a wrong or lost event.

Medical and Medical Scribe jobs send no documented event, but they write their
output into the caller's bucket, and S3 can announce each new object to the same
queue (``_s3events``): ``output_events`` declares which kinds' output objects reach
it. Without it, those kinds are swept and polled as without a queue. For the kinds
the queue covers, sweeps slow down to one every ``reconcile_interval`` seconds
while the queue works: that bounds what a lost event costs. When the queue fails
(a receive that fails, or is not answered soon after its long poll should have
ended), the kinds it covers go back to sweeps and Gets as without it, and come back
to push once a receive answers again.

This module holds :class:`EventBridgeQueue`, configuration only; reading a message
is ``_messages``' (pure), and the poller given a queue builds and owns its consumer
(``_queue``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from . import _check
from ._client import is_synchronous
from ._jobs import JobKind
from ._messages import DETAIL_TYPES
from ._s3events import OutputNames

COVERED_KINDS = frozenset(kind for kind, _, _ in DETAIL_TYPES.values())
Others = Literal["delete", "leave"]
# The SQS operations the consumer calls.
SQS_METHODS = ("receive_message", "delete_message_batch", "get_queue_attributes")


class SQSClient(Protocol):
    """The part of an aiobotocore SQS client the queue uses."""

    # The keyword arguments the consumer passes, so an object that spells them out
    # (the testing kit's FakeEventQueue) is one too.

    async def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: list[str]
    ) -> Mapping[str, Any]: ...

    async def receive_message(
        self, *, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int
    ) -> Mapping[str, Any]: ...

    async def delete_message_batch(
        self, *, QueueUrl: str, Entries: list[dict[str, str]]
    ) -> Mapping[str, Any]: ...


class EventBridgeQueue:
    """Where the poller learns of jobs' ends: an SQS queue fed by EventBridge (and S3).

    Plain configuration: the poller given it reads the queue while it is open, and
    a new poller may be given the same one (after a :class:`NotificationsError`,
    once the queue is fixed). ``sqs`` is an aiobotocore SQS client the caller
    owns (a synchronous boto3 client is refused with TypeError: it would block
    the event loop); give it a read timeout above 20 s (aiobotocore's default,
    60 s, is)::

        Poller(transcribe, notifications=EventBridgeQueue(sqs, queue_url))

    The queue's rule routes Transcribe's job state events: standard and Call
    Analytics jobs are covered by push. ``output_events`` names the kinds (a
    :class:`JobKind` or its value, e.g. ``["medical", "medical-scribe"]``) whose
    output objects also reach the queue, as S3 "Object Created" events through
    EventBridge or as S3's own notifications: those kinds are covered by push
    too. An object only asks for a Get of the awaited job it may belong to, so a
    foreign bucket or key costs at most one Get. By default a key is read by each
    kind's own layout (``medical/NAME.json`` or ``FOLDER/NAME.json`` for a
    medical job, ``NAME/transcript.json`` and ``NAME/summary.json`` for a Medical
    Scribe job): an object hints only a job of the kind that writes such a key.
    ``output_names(bucket, key)`` reads ``OutputKey`` layouts the default does
    not: it returns the jobs the object may belong to, as :class:`JobRef` (a job
    of that kind only, if it is in ``output_events``) or as plain names, which
    hint the job of that name of every kind in ``output_events``, since the hook
    did not say which kind.

    ``others``: what to do with a message not about a job awaited here (another
    process's job, one that ended before it was awaited or was released, a late
    duplicate, or a message that is no event at all). ``"delete"`` (the
    default) suits a queue per process, the set-up the documentation recommends: such a
    message can never be used here, and left alone it would come back every
    visibility timeout until the queue's retention ends. ``"leave"`` suits one
    queue shared by several processes: the message returns after its visibility
    timeout, for whichever process awaits the job.

    ``reconcile_interval``: while the queue works, how often the kinds it covers
    are swept anyway, for events that never come (the service sends them best
    effort, and a FAILED job writes no output); a lost event costs at most about
    that long (default 30 s). ``wait_time``: seconds of each long poll (0 to 20).
    Wrong types raise TypeError, wrong values ValueError, naming the argument.
    """

    __slots__ = (
        "_output_events",
        "others",
        "output_names",
        "queue_url",
        "reconcile_interval",
        "sqs",
        "wait_time",
    )

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        *,
        others: Others = "delete",
        reconcile_interval: float = 30.0,
        wait_time: int = 20,
        output_events: Iterable[JobKind | str] = (),
        output_names: OutputNames | None = None,
    ) -> None:
        check_sqs_client(sqs)
        self.sqs = sqs
        self.queue_url = check_queue_url(queue_url)
        if not isinstance(others, str):
            raise TypeError(f"others must be 'delete' or 'leave', got {others!r}")
        if others not in ("delete", "leave"):
            raise ValueError(f"others must be 'delete' or 'leave', got {others!r}")
        self.others: Others = others
        self.reconcile_interval = _check.number("reconcile_interval", reconcile_interval)
        # SQS's limit for a long poll is 20 s.
        self.wait_time = _check.whole("wait_time", wait_time, low=0, high=20)
        self._output_events = check_kinds(output_events)
        if output_names is not None and not callable(output_names):
            raise TypeError(
                f"output_names must be a function (bucket, key) -> names, got {output_names!r}"
            )
        self.output_names = output_names

    @property
    def output_events(self) -> frozenset[JobKind]:
        """The kinds whose output objects reach the queue."""
        return self._output_events

    @property
    def covered_kinds(self) -> frozenset[JobKind]:
        """The kinds covered by push: Transcribe's events, and the declared outputs."""
        return COVERED_KINDS | self._output_events

    def __repr__(self) -> str:
        outputs = ",".join(sorted(kind.value for kind in self._output_events))
        extra = f" output_events={outputs}" if outputs else ""
        return f"<EventBridgeQueue {self.queue_url} others={self.others!r}{extra}>"


def check_sqs_client(sqs: object) -> None:
    """Refuse what cannot serve as the SQS client: raise TypeError saying what to pass."""
    # A boto3/botocore client has every method, but each call would block the event
    # loop for up to a whole long poll (20 s): refused here rather than failing every
    # receive.
    if is_synchronous(sqs):
        raise TypeError(
            "sqs is a synchronous boto3/botocore client, which would block the event "
            "loop: create it with aiobotocore instead (AioSession().create_client("
            "'sqs'), used as 'async with')"
        )
    missing = [m for m in SQS_METHODS if not callable(getattr(sqs, m, None))]
    if missing:
        raise TypeError(
            f"sqs must be an aiobotocore SQS client (or an object with {', '.join(SQS_METHODS)}); "
            f"{sqs!r} has no {', '.join(missing)}"
        )


def check_queue_url(queue_url: object) -> str:
    """``queue_url`` if it looks like a queue's URL (scheme, host and path), else an error."""
    if not isinstance(queue_url, str):
        raise TypeError(f"queue_url must be the queue's URL (a str), got {queue_url!r}")
    try:
        parts = urlsplit(queue_url)
        ok = (
            parts.scheme in ("https", "http")
            and bool(parts.hostname)
            and parts.path.strip("/") != ""
        )
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"queue_url must be the queue's URL (https://host/account/name), got {queue_url!r}"
        )
    return queue_url


def check_kinds(kinds: object) -> frozenset[JobKind]:
    """The kinds named in ``kinds`` (JobKind or its value), else an error naming it."""
    if isinstance(kinds, (str, bytes)) or not isinstance(kinds, Iterable):
        raise TypeError(
            f"output_events must be a collection of job kinds (e.g. ['medical']), got {kinds!r}"
        )
    found = set()
    for kind in kinds:
        if not isinstance(kind, str):
            raise TypeError(f"output_events holds {kind!r}: a JobKind or its value is wanted")
        try:
            found.add(JobKind(kind))
        except ValueError:
            names = ", ".join(repr(k.value) for k in JobKind)
            raise ValueError(f"output_events holds {kind!r}: kinds are {names}") from None
    return frozenset(found)
