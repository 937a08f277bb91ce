"""Small helpers shared by the virtual-clock tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import botocore.exceptions

from transcribe_poller import Backoff, CompletionEvent, JobLike, Poller
from transcribe_poller.testing import FakeTranscribe


def client_error(
    code: str, status: int, message: str = "no", operation: str = "GetTranscriptionJob"
) -> botocore.exceptions.ClientError:
    """The error botocore raises for an error answer."""
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


# Delays without jitter: every read time is known in advance.
EXACT = Backoff(initial=1.0, maximum=20.0, jitter="none")


async def collect(poller: Poller, jobs: Iterable[JobLike]) -> list[CompletionEvent]:
    """Every event of one watch, in the order they came."""
    async with poller.watch(jobs) as events:
        return [event async for event in events]


class Stub:
    """FakeTranscribe with its standard Get (and List) wrapped by ``get`` (``list_``)."""

    def __init__(
        self,
        fake: FakeTranscribe,
        get: Callable[[str], Awaitable[Any]] | None = None,
        list_: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self._fake = fake
        self._get = get
        self._list = list_
        self.meta = fake.meta

    async def get_transcription_job(self, *, TranscriptionJobName: str) -> Any:
        if self._get is not None:
            return await self._get(TranscriptionJobName)
        return await self._fake.get_transcription_job(TranscriptionJobName=TranscriptionJobName)

    async def list_transcription_jobs(self, **params: Any) -> Any:
        if self._list is not None:
            return await self._list(params)
        return await self._fake.list_transcription_jobs(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fake, name)
