"""From a completion event (or a job) to its parsed transcript or clinical note.

The rule for an expired URI: a presigned URI that S3 refuses is renewed with one
Get (``refresh``) and fetched again, once; refused again, it is an error. No guess
from clocks: the double's clock, the service's and ours need not agree, S3's 403
says it. Parsing (a 4-hour transcript is megabytes of JSON) runs in a worker
thread, one document at a time (parsing holds the GIL: several at once would starve
the event loop the poller polls from), within the fetch's download slot, so
``max_downloads`` bounds the documents in memory as well as the downloads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import botocore.exceptions

from ._classify import service_message
from ._download import Downloader, Refused
from ._events import CompletionEvent, Outcome, event_from_job
from ._exceptions import TranscriptUnavailableError
from ._jobs import JobKind, JobLike, JobRef, as_job_ref
from ._kinds import KINDS
from ._locate import Location, NotServiceUri, locate
from ._transcript import ClinicalDocument, Transcript, TranscriptError

Read = Callable[[JobRef], Awaitable[Mapping[str, Any]]]
Refresh = Callable[[CompletionEvent], Awaitable[CompletionEvent]]
JobOrEvent = CompletionEvent | JobLike


class Fetcher:
    """What ``Poller.fetch_transcript`` and ``fetch_clinical_document`` do."""

    def __init__(self, downloader: Downloader, read: Read, refresh: Refresh) -> None:
        self._downloader = downloader
        self._read = read
        self._refresh = refresh

    async def transcript(
        self, job: JobOrEvent, *, redacted: bool | None, s3: Any, max_bytes: int
    ) -> Transcript:
        with self._counted():
            return await self._transcript(job, redacted=redacted, s3=s3, max_bytes=max_bytes)

    async def clinical_document(
        self, job: JobOrEvent, *, s3: Any, max_bytes: int
    ) -> ClinicalDocument:
        with self._counted():
            return await self._clinical_document(job, s3=s3, max_bytes=max_bytes)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        try:
            yield
        except Exception:
            self._downloader.counts.failures += 1
            raise

    async def _transcript(
        self, job: JobOrEvent, *, redacted: bool | None, s3: Any, max_bytes: int
    ) -> Transcript:
        event = await self._completed(job)

        def uri_of(e: CompletionEvent) -> str:
            return _transcript_uri(e, redacted)

        async with self._downloader.slot():
            body, event = await self._bytes(event, uri_of, s3=s3, max_bytes=max_bytes)
            subtitles: dict[str, str] = {}
            for fmt in ("srt", "vtt"):
                if any(_is_format(uri, fmt) for uri in event.subtitle_uris):

                    def subtitle_of(e: CompletionEvent, fmt: str = fmt) -> str:
                        return _subtitle_uri(e, fmt)

                    data, event = await self._bytes(event, subtitle_of, s3=s3, max_bytes=max_bytes)
                    subtitles[fmt] = _text(event.job, data, f"the {fmt} subtitles")
            ref = event.job
            return await self._downloader.parse(
                lambda: Transcript.from_document(ref, _json(ref, body), subtitles=subtitles)
            )

    async def _clinical_document(
        self, job: JobOrEvent, *, s3: Any, max_bytes: int
    ) -> ClinicalDocument:
        event = await self._completed(job)
        if event.job.kind is not JobKind.MEDICAL_SCRIBE:
            raise TranscriptUnavailableError(
                event.job, "only Medical Scribe jobs write a clinical document"
            )

        def uri_of(e: CompletionEvent) -> str:
            if not e.clinical_document_uri:
                raise TranscriptUnavailableError(
                    e.job, "the job's answer names no ClinicalDocumentUri"
                )
            return e.clinical_document_uri

        async with self._downloader.slot():
            body, event = await self._bytes(event, uri_of, s3=s3, max_bytes=max_bytes)
            ref = event.job
            return await self._downloader.parse(
                lambda: ClinicalDocument.from_document(ref, _json(ref, body))
            )

    # -- steps -------------------------------------------------------------------------

    async def _completed(self, job: JobOrEvent) -> CompletionEvent:
        """``job``'s COMPLETED event: the one given, or one Get's."""
        if isinstance(job, CompletionEvent):
            event = job
        else:
            ref = as_job_ref(job)
            try:
                details = await self._read(ref)
            except botocore.exceptions.ClientError as error:
                raise TranscriptUnavailableError(
                    ref, f"reading the job failed: {service_message(error)}"
                ) from error
            spec = KINDS[ref.kind]
            status = details.get(spec.status_field)
            if status not in ("COMPLETED", "FAILED"):
                raise TranscriptUnavailableError(
                    ref, f"the job is {status}, not finished: await it first (poller.wait)"
                )
            event = event_from_job(ref, spec, details, polls=1, waited=0.0)
        if event.outcome is not Outcome.COMPLETED:
            why = f": {event.failure_reason}" if event.failure_reason else ""
            raise TranscriptUnavailableError(
                event.job, f"the job ended {event.outcome.value}{why}; it has no transcript"
            )
        return event

    async def _bytes(
        self,
        event: CompletionEvent,
        uri_of: Callable[[CompletionEvent], str],
        *,
        s3: Any,
        max_bytes: int,
    ) -> tuple[bytes, CompletionEvent]:
        """The bytes at ``uri_of(event)``, renewing the event once if S3 refuses them;
        with the event the bytes came through (renewed or not)."""
        for renewed in (False, True):
            where = _where(event, uri_of(event))
            try:
                body = await self._downloader.fetch(event.job, where, s3=s3, max_bytes=max_bytes)
                return body, event
            except Refused as refused:
                if renewed:
                    raise TranscriptUnavailableError(
                        event.job,
                        f"S3 refused the URI even fresh from a Get ({refused}); the output "
                        "may have been replaced or its bucket's policy changed",
                        where.shown,
                    ) from None
            # Expired (or otherwise refused): one Get gives fresh URIs.
            self._downloader.counts.refreshes += 1
            event = await self._refresh(event)
        raise AssertionError("unreachable")


def _where(event: CompletionEvent, uri: str) -> Location:
    try:
        return locate(uri)
    except NotServiceUri as error:
        raise TranscriptUnavailableError(event.job, f"not fetched: {error}") from None


def _transcript_uri(event: CompletionEvent, redacted: bool | None) -> str:
    if redacted is None:
        uri = event.preferred_uri
    elif redacted:
        uri = event.redacted_transcript_uri
        if uri is None:
            raise TranscriptUnavailableError(event.job, "the job wrote no redacted transcript")
    else:
        uri = event.transcript_uri
        if uri is None:
            raise TranscriptUnavailableError(
                event.job, "the job wrote only a redacted transcript (pass redacted=True)"
            )
    if uri is None:
        raise TranscriptUnavailableError(event.job, "the job's answer names no transcript URI")
    return uri


def _is_format(uri: str, fmt: str) -> bool:
    return uri.split("?", 1)[0].lower().endswith(f".{fmt}")


def _subtitle_uri(event: CompletionEvent, fmt: str) -> str:
    for uri in event.subtitle_uris:
        if _is_format(uri, fmt):
            return uri
    raise TranscriptUnavailableError(event.job, f"the job's answer no longer names {fmt} subtitles")


def _json(job: JobRef, body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TranscriptError(job, f"the document is not JSON ({error})") from None


def _text(job: JobRef, body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TranscriptError(job, f"{what} are not UTF-8 text") from None
