"""The bytes of one output object: over HTTPS for a presigned URI, by S3 GetObject for
an object in the caller's bucket, under a bound of concurrent downloads of its own.

Downloads never go through the Transcribe rate limiter: they spend no Get or List
quota and never delay polling. The same rule for faults as everywhere: throttling
(503 SlowDown), 5xx answers and dropped or hung connections are retried along the
poller's backoff for as long as they last; an answer that refuses the read is an
error at once. And the same rule for a place that never answered as for the
service: a host (or an S3 client's endpoint) that has not answered anything since
the poller started, after ``unreachable_after`` seconds of faults, is an error (a
mistyped endpoint fails fast; one that answered once is only slow). A presigned
URI that S3 refuses (it expired: 403) is :class:`Refused`, for the caller to get a
fresh one.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

import anyio
import botocore.exceptions

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._exceptions import TranscriptUnavailableError
from ._jobs import JobRef
from ._locate import Location, Presigned, S3Object

MAX_BYTES = 64 * 1024 * 1024
"""The largest document fetched by default: a 4-hour recording's standard transcript
with speaker labels is about 12 MB (about 300 bytes a word at 160 words a minute)."""

T = TypeVar("T")
CHUNK = 256 * 1024  # bytes read at a time, so a body over the bound stops early
ERROR_BODY = 16 * 1024  # bytes of an error answer read for its code and message


@runtime_checkable
class ServesUrls(Protocol):
    """A Transcribe client that serves its own presigned URIs (the in-memory
    :class:`~transcribe_poller.testing.FakeTranscribe`): answers ``(status, body)``."""

    async def serve_url(self, url: str) -> tuple[int, bytes]: ...


class Refused(Exception):
    """S3 refused a presigned URI (403): it expired, or its signature is no good."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


class _Transient(Exception):
    """A fault on the way to an answer: retried. ``answered``: the other end did
    answer (a 5xx, a throttle), so it is there."""

    def __init__(self, *, answered: bool = False) -> None:
        super().__init__()
        self.answered = answered


@dataclass(slots=True)
class DownloadCounts:
    """What the Downloader counts; written by it alone."""

    documents: int = 0  # fetched whole
    bytes: int = 0
    refreshes: int = 0  # expired presigned URIs renewed with a Get
    failures: int = 0  # fetches that raised (counted by the Fetcher)
    retried_faults: int = 0
    active: int = 0  # downloads under way now


class Downloader:
    """Fetches output objects for one Poller; see the module."""

    def __init__(
        self,
        *,
        limit: int,
        backoff: Backoff,
        request_timeout: float,
        s3: Any,
        urls: ServesUrls | None,
        unreachable_after: float = math.inf,
    ) -> None:
        self.counts = DownloadCounts()
        self._unreachable_after = unreachable_after
        self._heard: set[str] = set()  # hosts and S3 endpoints that ever answered
        self._limiter = anyio.CapacityLimiter(limit)
        self._parsing = anyio.CapacityLimiter(1)
        self._backoff = backoff
        self._timeout = request_timeout
        self._s3 = s3
        self._urls = urls
        self._session: Any = None  # an aiohttp.ClientSession, made on first use

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of ``max_downloads`` slots, held for a whole fetch: its documents'
        download and their parsing, so the bound holds memory too."""
        async with self._limiter:
            self.counts.active += 1
            try:
                yield
            finally:
                self.counts.active -= 1

    async def parse(self, parse: Callable[[], T]) -> T:
        """``parse()`` in a worker thread, one at a time: parsing holds the GIL, and
        several at once would starve the event loop that polls."""
        return await anyio.to_thread.run_sync(parse, limiter=self._parsing)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def fetch(self, job: JobRef, where: Location, *, s3: Any, max_bytes: int) -> bytes:
        """The object's bytes; :class:`Refused` or :class:`TranscriptUnavailableError`."""
        read: Callable[[], Awaitable[bytes]]
        if isinstance(where, Presigned):
            source = urlsplit(where.url).netloc

            async def read() -> bytes:
                return await self._get_url(job, where, max_bytes)
        else:
            client = self._s3 if s3 is None else s3
            if client is None:
                raise TranscriptUnavailableError(
                    job,
                    f"the output is in your bucket {where.bucket!r}: pass an aiobotocore S3 "
                    "client, Poller(client, s3=s3) or fetch_transcript(..., s3=s3)",
                    where.shown,
                )

            source = str(getattr(getattr(client, "meta", None), "endpoint_url", None) or "S3")

            async def read() -> bytes:
                return await self._get_object(job, where, client, max_bytes)

        faults = 0
        since = math.inf  # when the faults began
        # The caller holds a slot (``slot()``) for the whole fetch.
        while True:
            try:
                body = await read()
            except _Transient as fault:
                if fault.answered:
                    self._heard.add(source)
                now = anyio.current_time()
                since = min(since, now)
                if source not in self._heard and now - since >= self._unreachable_after:
                    raise TranscriptUnavailableError(
                        job,
                        f"nothing answered at {source} for {now - since:.0f} s "
                        "(unreachable_after): check the endpoint and the network",
                        where.shown,
                    ) from fault.__cause__
                faults += 1
                self.counts.retried_faults += 1
                await anyio.sleep(self._backoff.delay(faults))
                continue
            except (Refused, TranscriptUnavailableError):
                self._heard.add(source)  # an answer, if a refusal
                raise
            self._heard.add(source)
            self.counts.documents += 1
            self.counts.bytes += len(body)
            return body

    # -- presigned URIs ---------------------------------------------------------------

    async def _get_url(self, job: JobRef, where: Presigned, max_bytes: int) -> bytes:
        if self._urls is not None:
            status, body = await self._urls.serve_url(where.url)
        else:
            status, body = await self._http_get(job, where, max_bytes)
        if status == 200:
            _check_size(job, where, len(body), max_bytes)
            return body
        code, message = _s3_error(body)
        if status == 403:
            raise Refused(code or "AccessDenied", message or "403 Forbidden")
        if status == 404:
            raise TranscriptUnavailableError(
                job,
                f"the output is gone ({code or 'NoSuchKey'}): deleted after the job",
                where.shown,
            )
        if status >= 500 or status == 429:
            raise _Transient(answered=True)
        raise TranscriptUnavailableError(
            job, f"S3 answered {status} {code}: {message}".rstrip(": "), where.shown
        )

    async def _http_get(self, job: JobRef, where: Presigned, max_bytes: int) -> tuple[int, bytes]:
        import aiohttp  # aiobotocore's own HTTP client
        import yarl

        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout, sock_read=self._timeout
        )
        try:
            # encoded=True: the signature covers the query exactly as the service wrote it.
            async with self._session.get(
                yarl.URL(where.url, encoded=True), allow_redirects=False, timeout=timeout
            ) as response:
                if response.status != 200:
                    return response.status, await response.content.read(ERROR_BODY)
                if response.content_length is not None:
                    _check_size(job, where, response.content_length, max_bytes)
                return 200, await _read_bounded(response.content.read, job, where, max_bytes)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise _Transient() from error

    # -- objects in the caller's bucket --------------------------------------------------

    async def _get_object(self, job: JobRef, where: S3Object, s3: Any, max_bytes: int) -> bytes:
        try:
            with anyio.fail_after(self._timeout):
                answer = await s3.get_object(Bucket=where.bucket, Key=where.key)
        except TimeoutError as error:
            raise _Transient() from error
        except Exception as error:
            verdict, _ = classify(error)
            if verdict in (Verdict.TRANSIENT, Verdict.THROTTLED):
                answered = isinstance(error, botocore.exceptions.ClientError)
                raise _Transient(answered=answered) from error
            raise TranscriptUnavailableError(job, _refusal(error, where), where.shown) from error
        length = answer.get("ContentLength")
        body = answer["Body"]
        if isinstance(length, int):
            _check_size(job, where, length, max_bytes)
        try:
            async with body as stream:
                return await _read_bounded(stream.read, job, where, max_bytes)
        except (TranscriptUnavailableError, anyio.get_cancelled_exc_class()):
            raise
        except Exception as error:  # the connection dropped mid-body
            raise _Transient() from error
        finally:
            with contextlib.suppress(Exception):
                body.close()


async def _read_bounded(
    read: Callable[[int], Awaitable[bytes]], job: JobRef, where: Location, max_bytes: int
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await read(CHUNK):
        size += len(chunk)
        _check_size(job, where, size, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_size(job: JobRef, where: Location, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise TranscriptUnavailableError(
            job,
            f"the document is larger than max_bytes={max_bytes} ({size} bytes read or "
            "announced); pass a larger max_bytes to fetch it",
            where.shown,
        )


def _refusal(error: Exception, where: S3Object) -> str:
    """What an S3 error answer means for the caller, naming bucket and permission."""
    if not isinstance(error, botocore.exceptions.ClientError):
        return describe(error)
    code = str(error.response.get("Error", {}).get("Code", ""))
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code in ("NoSuchKey", "404", "NotFound"):
        return "the output is gone (NoSuchKey): deleted after the job"
    if code == "NoSuchBucket":
        return f"the bucket {where.bucket!r} does not exist (NoSuchBucket)"
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        needs = f"s3:GetObject on arn:aws:s3:::{where.bucket}/{where.key}"
        if "kms" in message.lower():
            needs += " and kms:Decrypt on the bucket's KMS key"
        return f"S3 denied the read of bucket {where.bucket!r} ({code}): the client needs {needs}"
    return f"S3 refused the read ({code}): {message}"


_XML_FIELD = re.compile(rb"<(Code|Message)>([^<]{0,500})</\1>")


def _s3_error(body: bytes) -> tuple[str, str]:
    """``(code, message)`` of S3's XML error body; empty strings if it has none."""
    found = {
        name.decode(): value.decode("utf-8", "replace") for name, value in _XML_FIELD.findall(body)
    }
    return found.get("Code", ""), found.get("Message", "")
