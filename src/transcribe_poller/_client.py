"""The part of a Transcribe client the poller uses.

An aiobotocore client satisfies it, and so does
:class:`transcribe_poller.testing.FakeTranscribe`. Only the operations of the job
kinds awaited are ever called: a client for standard jobs alone need not answer
the medical ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TranscribeClient(Protocol):
    """Get and List for each kind of job, as aiobotocore spells them.

    A client that lacks the operations of a kind can still serve the others: a
    job of that kind then ends with ERROR saying which method is missing.
    """

    async def get_transcription_job(self, *, TranscriptionJobName: str) -> Mapping[str, Any]: ...

    async def get_medical_transcription_job(
        self, *, MedicalTranscriptionJobName: str
    ) -> Mapping[str, Any]: ...

    async def list_transcription_jobs(self, **params: Any) -> Mapping[str, Any]: ...

    async def list_medical_transcription_jobs(self, **params: Any) -> Mapping[str, Any]: ...

    async def get_call_analytics_job(self, *, CallAnalyticsJobName: str) -> Mapping[str, Any]: ...

    async def list_call_analytics_jobs(self, **params: Any) -> Mapping[str, Any]: ...

    async def get_medical_scribe_job(self, *, MedicalScribeJobName: str) -> Mapping[str, Any]: ...

    async def list_medical_scribe_jobs(self, **params: Any) -> Mapping[str, Any]: ...


REQUIRED_METHODS = ("get_transcription_job", "get_medical_transcription_job")


def endpoint_of(client: object) -> str:
    """The URL a client sends to, for messages; aiobotocore keeps it in ``meta``."""
    meta = getattr(client, "meta", None)
    url = getattr(meta, "endpoint_url", None)
    return str(url) if url else type(client).__name__
