"""Test doubles of Amazon Transcribe for tests, examples and demos: no AWS account needed.

:class:`FakeTranscribe` is an in-memory client for fast unit tests: no sockets, and
under a virtual clock a long job takes milliseconds. :class:`LocalTranscribe` is a
local service (moto behind a fault-injecting proxy, on 127.0.0.1) for what only
real HTTP shows; it needs the ``local`` extra
(``pip install 'transcribe-poller[local]'``).

In your own tests, with this package installed, pytest offers four fixtures:
``fake_transcribe`` (a new :class:`FakeTranscribe`), ``local_transcribe_server``
(one :class:`LocalTranscribe` for the session), ``local_transcribe`` (the same one,
reset before each test) and ``local_transcribe_events`` (that one with job state
events on). Outside pytest::

    from transcribe_poller.testing import LocalTranscribe

    with LocalTranscribe() as bed:
        bed.start_job("interview-1", duration=2, redaction="redacted")
        async with bed.client() as client:
            ...
"""

from ._account import DEFAULT_CONCURRENCY, Concurrency
from ._bed import LocalTranscribe
from ._contract import TranscribeDouble
from ._control import JOBS_PATH, job_spec
from ._fake import FakeTranscribe
from ._fakequeue import FakeEventQueue
from ._faults import Counts, Faults, Quota, TrafficReport
from ._script import JobSpec, ScriptedJob

__all__ = [
    "DEFAULT_CONCURRENCY",
    "JOBS_PATH",
    "Concurrency",
    "Counts",
    "FakeEventQueue",
    "FakeTranscribe",
    "Faults",
    "JobSpec",
    "LocalTranscribe",
    "Quota",
    "ScriptedJob",
    "TrafficReport",
    "TranscribeDouble",
    "job_spec",
]
