"""A local Amazon Transcribe for tests, examples and demos: no AWS account needed.

Needs the ``local`` extra (``pip install 'transcribe-poller[local]'``).

In your own tests, with this package installed, pytest offers two fixtures:
``local_transcribe_server`` (one :class:`LocalTranscribe` for the session) and
``local_transcribe`` (the same one, reset before each test). Outside pytest::

    from transcribe_poller.testing import LocalTranscribe

    with LocalTranscribe() as bed:
        bed.start_job("interview-1", duration=2, redaction="redacted")
        async with bed.client() as client:
            ...
"""

from ._bed import LocalTranscribe
from ._faults import Counts, Faults, Quota, TrafficReport
from ._script import ScriptedJob

__all__ = ["Counts", "Faults", "LocalTranscribe", "Quota", "ScriptedJob", "TrafficReport"]
