"""The part of a Transcribe client the poller uses.

An aiobotocore client satisfies it, and so does
:class:`transcribe_poller.testing.FakeTranscribe`. Only the operations of the job
kinds awaited are ever called: a client for standard jobs alone need not answer
the medical ones.
"""

from __future__ import annotations

import asyncio
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


GET_METHODS = (
    "get_transcription_job",
    "get_medical_transcription_job",
    "get_call_analytics_job",
    "get_medical_scribe_job",
)
DEFAULT_REQUEST_TIMEOUT = 60.0
"""The poller's deadline per request when the client says nothing of its timeouts."""
_LEGACY_ATTEMPTS, _STANDARD_ATTEMPTS = 5, 3  # botocore's attempts per request by mode


def is_synchronous(client: object) -> bool:
    """Whether ``client`` is a boto3/botocore client (not aiobotocore's): every call
    would block the event loop, and its answers are no awaitables."""
    try:
        from aiobotocore.client import AioBaseClient
        from botocore.client import BaseClient
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    return isinstance(client, BaseClient) and not isinstance(client, AioBaseClient)


def check_client(client: object) -> None:
    """Refuse what cannot serve as a client: raise TypeError saying what to pass."""
    if is_synchronous(client):
        raise TypeError(
            "client is a synchronous boto3/botocore client, which would block the event "
            "loop: create it with aiobotocore instead (AioSession().create_client("
            "'transcribe'), used as 'async with'), or use transcribe_poller.open_poller()"
        )
    if not any(callable(getattr(client, method, None)) for method in GET_METHODS):
        raise TypeError(
            "client must be an aiobotocore Transcribe client (or an object with at least "
            f"one of {', '.join(GET_METHODS)}), got {client!r}"
        )


def check_event_loop(client: object) -> None:
    """Refuse an aiobotocore client on an event loop other than asyncio's (trio, say):
    its requests would each fail ("no running event loop") until every job ended
    with ERROR. Call from inside the loop."""
    try:
        from aiobotocore.client import AioBaseClient
    except ImportError:  # pragma: no cover - a dependency
        return
    if not isinstance(client, AioBaseClient):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise TypeError(
            "client is an aiobotocore client, which runs on asyncio only, and this Poller "
            "runs on another event loop: run it on asyncio (anyio.run(main, "
            "backend='asyncio'); in tests, anyio_backend 'asyncio'), or give it a client "
            "made for this loop (FakeTranscribe runs on any)"
        ) from None


def request_deadline(client: object) -> float:
    """How long one call of ``client`` may take at most, from its own timeouts.

    An aiobotocore client gives up after ``connect_timeout + read_timeout`` per
    attempt, and retries by its ``retries`` settings; a little more than that is
    the longest a request can rightly take. Other clients get
    ``DEFAULT_REQUEST_TIMEOUT``.
    """
    config = getattr(getattr(client, "meta", None), "config", None)
    connect = getattr(config, "connect_timeout", None)
    read = getattr(config, "read_timeout", None)
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (connect, read)):
        return DEFAULT_REQUEST_TIMEOUT
    retries = getattr(config, "retries", None) or {}
    attempts = retries.get("total_max_attempts")
    if attempts is None and retries.get("max_attempts") is not None:
        attempts = retries["max_attempts"] + 1
    if attempts is None:
        legacy = retries.get("mode", "legacy") == "legacy"
        attempts = _LEGACY_ATTEMPTS if legacy else _STANDARD_ATTEMPTS
    per_attempt = float(connect) + float(read)  # type: ignore[arg-type]
    return per_attempt * max(1, int(attempts)) + 5.0


def endpoint_of(client: object) -> str:
    """The URL a client sends to, for messages; aiobotocore keeps it in ``meta``."""
    meta = getattr(client, "meta", None)
    url = getattr(meta, "endpoint_url", None)
    return str(url) if url else type(client).__name__
