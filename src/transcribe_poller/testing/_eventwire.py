"""The events both test doubles deliver: their options, declared once, and their wire shapes.

``enable_events`` of either double takes :class:`EventOptions` (defaults in
:data:`DEFAULT_EVENT_OPTIONS`), checked by :func:`settle_events` into
:class:`EventSettings`. What reaches the queue is written here once: the job
state event Transcribe sends to EventBridge (:func:`job_event`), S3's "Object
Created" event of an output object (:func:`object_created_event`) and S3's own
notification to a queue (:func:`direct_notification`), with the rule patterns
the local test bed routes them by. FakeTranscribe's in-memory queue delivers
these bodies as they are; the local test bed puts them on moto's EventBridge,
which delivers them as AWS does (see ``_emitter``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, TypedDict
from urllib.parse import quote_plus

from ._script import ScriptedJob
from ._service import ACCOUNT_ID, EVENTS, TERMINAL, TRANSCRIBE_SOURCE, WIRE

QUEUE_NAME = "transcribe-events"
RULE_NAME = "transcribe-job-state"
TARGET_ID = "transcribe-events-queue"
OUTPUT_RULE_NAME = "transcribe-output-objects"
OUTPUT_TARGET_ID = "transcribe-output-queue"
S3_SOURCE = "aws.s3"
OBJECT_CREATED = "Object Created"


class EventOptions(TypedDict, total=False):
    """Keyword arguments of ``enable_events`` on either double.

    ``loss`` and ``duplicate``: shares (0 to 1) of events lost and sent twice.
    ``delay``: ``(shortest, longest)`` seconds each event arrives after its job's
    end. ``seed`` makes the draws repeatable. ``output_events``: jobs writing to a
    bucket of the caller's (all medical and Medical Scribe jobs) also announce
    their output objects, S3's "Object Created" events, each ``output_lead``
    seconds (a range) before the job's status says COMPLETED.
    """

    loss: float
    duplicate: float
    delay: tuple[float, float]
    seed: int | None
    output_events: bool
    output_lead: tuple[float, float]


DEFAULT_EVENT_OPTIONS: Final[EventOptions] = EventOptions(
    loss=0.0,
    duplicate=0.0,
    delay=(0.0, 0.0),
    seed=None,
    output_events=False,
    output_lead=(0.0, 1.0),
)


@dataclass(frozen=True)
class EventSettings:
    """Every event option checked, with its default filled in."""

    loss: float
    duplicate: float
    delay: tuple[float, float]
    seed: int | None
    output_events: bool
    output_lead: tuple[float, float]


def _share(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")
    return float(value)


def seconds_range(name: str, value: object) -> tuple[float, float]:
    """``value`` as ``(shortest, longest)`` seconds, else ValueError naming ``name``."""
    try:
        shortest, longest = (float(x) for x in value)  # type: ignore[attr-defined]
        ok = 0 <= shortest <= longest and math.isfinite(longest)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be (shortest, longest) seconds, got {value!r}")
    return shortest, longest


def settle_events(options: Mapping[str, object]) -> EventSettings:
    """Check ``options`` (an :class:`EventOptions`) and fill in the defaults.

    An unknown name is a TypeError naming it and the known ones; a bad value a
    ValueError naming the option and the value.
    """
    unknown = sorted(set(options) - set(DEFAULT_EVENT_OPTIONS))
    if unknown:
        known = ", ".join(DEFAULT_EVENT_OPTIONS)
        raise TypeError(f"unexpected event option {unknown[0]!r}; the options are: {known}")
    given: dict[str, Any] = {**DEFAULT_EVENT_OPTIONS, **options}
    seed = given["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    return EventSettings(
        loss=_share("loss", given["loss"]),
        duplicate=_share("duplicate", given["duplicate"]),
        delay=seconds_range("delay", given["delay"]),
        seed=seed,
        output_events=bool(given["output_events"]),
        output_lead=seconds_range("output_lead", given["output_lead"]),
    )


@dataclass(frozen=True)
class EventStatistics:
    """What a double's events did so far.

    ``sent`` counts events put on the bus, duplicates included; ``lost`` the events
    skipped (best effort); ``duplicated`` those sent twice; ``pending`` the sends
    planned but not yet due, or due and not yet done; ``failed`` the events moto
    refused or could not be reached for (none, unless the bed is misused), and
    ``last_error`` why the last of them failed.
    """

    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    pending: int = 0
    failed: int = 0
    last_error: str | None = None


def iso(seconds: float) -> str:
    """A Unix time as an event's ``time``: ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sends_event(script: ScriptedJob) -> bool:
    """Whether the job's kind sends a job state event when it ends."""
    return WIRE[script.kind].event is not None


def job_event(script: ScriptedJob, region: str, at: str, event_id: str | None = None) -> str:
    """The event JSON Transcribe sends when ``script``'s job ends (kinds that send one).

    ``at`` is the event's ``time``; ``event_id`` its ``id`` (one made of the job's
    token by default).
    """
    event = WIRE[script.kind].event
    if event is None:
        raise ValueError(f"{script.kind.value} jobs send no event")
    detail_type, name_field, status_field = event
    detail: dict[str, Any] = {name_field: script.name, status_field: script.outcome}
    if script.outcome == "FAILED":
        detail["FailureReason"] = script.failure_reason
    return json.dumps(
        {
            "version": "0",
            "id": event_id or f"event-{script.token}",
            "detail-type": detail_type,
            "source": TRANSCRIBE_SOURCE,
            "account": ACCOUNT_ID,
            "time": at,
            "region": region,
            "resources": [],
            "detail": detail,
        }
    )


def object_created_event(bucket: str, key: str, region: str, at: str, event_id: str) -> str:
    """The "Object Created" event S3 sends to EventBridge, as a rule delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "detail-type": OBJECT_CREATED,
            "source": S3_SOURCE,
            "account": ACCOUNT_ID,
            "time": at,
            "region": region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": key, "size": 1024},
                "request-id": event_id,
                "requester": ACCOUNT_ID,
                "reason": "PutObject",
            },
        }
    )


def direct_notification(bucket: str, key: str, region: str, at: str) -> str:
    """S3's own notification to an SQS queue: a ``Records`` list, the key URL-encoded."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": region,
                    "eventTime": at,
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": quote_plus(key, safe="/"), "size": 1024},
                    },
                }
            ]
        }
    )


# The rule routing job state events of ended jobs. The kinds name their status
# field differently, so one flat pattern cannot match both on status: one branch
# per detail shape.
EVENT_PATTERN: Mapping[str, Any] = {
    "source": [TRANSCRIBE_SOURCE],
    "$or": [
        {"detail-type": [detail_type], "detail": {status_field: list(TERMINAL)}}
        for detail_type, (_, _, status_field) in EVENTS.items()
    ],
}


def output_pattern(buckets: list[str]) -> dict[str, Any]:
    """The rule routing output objects: new objects in the output buckets."""
    return {
        "source": [S3_SOURCE],
        "detail-type": [OBJECT_CREATED],
        "detail": {"bucket": {"name": sorted(buckets)}},
    }


__all__ = [
    "DEFAULT_EVENT_OPTIONS",
    "EVENT_PATTERN",
    "EventOptions",
    "EventSettings",
    "EventStatistics",
    "direct_notification",
    "job_event",
    "object_created_event",
    "output_pattern",
    "settle_events",
]
