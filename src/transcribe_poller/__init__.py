"""Await Amazon Transcribe batch jobs of every kind from async Python.

async with Poller(client) as poller:
    event = await poller.wait("interview-1")
    print(event.outcome, event.job)
"""

from importlib import metadata as _metadata

from ._backoff import Backoff
from ._client import TranscribeClient
from ._eventbridge import EventBridgeQueue
from ._events import CompletionEvent, Outcome
from ._exceptions import (
    InvalidJobNameError,
    NotificationsError,
    PollerClosedError,
    ServiceUnreachableError,
    StartRefusedError,
    TranscribePollerError,
    TranscriptUnavailableError,
)
from ._health import ServiceHealth
from ._jobs import JobKind, JobLike, JobRef
from ._oneshot import open_poller, wait_for_jobs
from ._options import DEFAULT_OPTIONS, PollerOptions
from ._poller import Poller
from ._stats import KindStatistics, PollerStatistics
from ._sweep import Sweep
from ._transcript import ClinicalDocument, Segment, Transcript, TranscriptError

__all__ = [
    "DEFAULT_OPTIONS",
    "Backoff",
    "ClinicalDocument",
    "CompletionEvent",
    "EventBridgeQueue",
    "InvalidJobNameError",
    "JobKind",
    "JobLike",
    "JobRef",
    "KindStatistics",
    "NotificationsError",
    "Outcome",
    "Poller",
    "PollerClosedError",
    "PollerOptions",
    "PollerStatistics",
    "Segment",
    "ServiceHealth",
    "ServiceUnreachableError",
    "StartRefusedError",
    "Sweep",
    "TranscribeClient",
    "TranscribePollerError",
    "Transcript",
    "TranscriptError",
    "TranscriptUnavailableError",
    "open_poller",
    "wait_for_jobs",
]

__version__ = _metadata.version("transcribe-poller")
