"""``wait --fetch``: each completed job's transcript, fetched as its event arrives, into
its JSON line or, with ``--out DIR``, into a file of its own.

The options are checked before anything is sent (:func:`check_options`); the fetch
of one job never holds back another's line, and one that fails says so on that
job's line (``fetch_error``) without costing the others theirs. The poller fetches
(:meth:`Poller.fetch_transcript`), through an S3 client made here from wait's own
session settings (:func:`s3_client`) for output in the caller's buckets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from .. import (
    DEFAULT_OPTIONS,
    CompletionEvent,
    JobKind,
    JobRef,
    Poller,
    Transcript,
    TranscriptError,
    TranscriptUnavailableError,
)
from ._args import positive
from ._status import UsageError

# What --fetch takes, and the extension of its file with --out.
EXTENSIONS = {"text": "txt", "json": "json", "srt": "srt", "vtt": "vtt"}
FETCH_TIMEOUT = 120.0  # seconds a fetch may take once its turn has come
# Fetches under way at once: the poller's own bound on downloads (each fetch holds at
# most one download at a time), so a fetch's timeout starts with its turn, not while
# it queues behind a batch's thousand others.
MAX_FETCHES = DEFAULT_OPTIONS["max_downloads"]
# Where botocore takes S3's endpoint from: checked as wait checks Transcribe's.
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
# The kind joins the name with a character no job name has: never two jobs' file.
KIND_SEPARATOR = "@"

_QUERY = re.compile(r"(https?://[^\s?'\"]+)\?[^\s'\")]*")


def add_options(wait: argparse.ArgumentParser) -> None:
    """--fetch, --out and --fetch-timeout, on wait's parser."""
    wait.add_argument(
        "--fetch",
        choices=tuple(EXTENSIONS),
        metavar="FORMAT",
        help=(
            "fetch each completed job's transcript: text, json (the document), srt or vtt "
            "(subtitles); into its JSON line, or a file with --out"
        ),
    )
    wait.add_argument(
        "--out",
        metavar="DIR",
        help=(
            "with --fetch: write each transcript to DIR/NAME.EXT (NAME@KIND.EXT for a kind "
            "but standard); its line says where"
        ),
    )
    wait.add_argument(
        "--fetch-timeout",
        type=positive,
        metavar="S",
        help=(
            "with --fetch: give up on a transcript after S seconds of fetching "
            f"(default {FETCH_TIMEOUT:g})"
        ),
    )


def check_options(args: argparse.Namespace) -> None:
    """--out and --fetch-timeout need --fetch; --out a directory that takes files.
    Raises UsageError; nothing is sent before."""
    if args.fetch is None:
        given = [
            option
            for option, value in (("--out", args.out), ("--fetch-timeout", args.fetch_timeout))
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} --fetch "
                "FORMAT: text, json, srt or vtt"
            )
        return
    if args.out is None:
        return
    out = args.out
    if not os.path.exists(out):
        raise UsageError(f"--out {out}: no such directory (create it first)")
    if not os.path.isdir(out):
        raise UsageError(f"--out {out}: not a directory")
    try:  # a real write: permissions, a read-only file system, root's rights alike
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise UsageError(f"--out {out}: cannot write there ({error.strerror or error})") from None


def file_name(job: JobRef, fmt: str) -> str:
    """``NAME.EXT`` for a standard job, ``NAME@KIND.EXT`` for the others: a standard
    and a Call Analytics job of one name never share a file, and no name holds ``@``."""
    extension = EXTENSIONS[fmt]
    if job.kind is JobKind.STANDARD:
        return f"{job.name}.{extension}"
    return f"{job.name}{KIND_SEPARATOR}{job.kind.value}.{extension}"


@contextlib.asynccontextmanager
async def s3_client(args: argparse.Namespace) -> AsyncIterator[Any]:
    """An aiobotocore S3 client as wait's Transcribe client is made: the same profile
    and region, one attempt per request (the poller retries). Its endpoint is S3's own
    (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or the profile's), never --endpoint-url,
    which is Transcribe's."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    session = AioSession(profile=args.profile)
    config = AioConfig(retries={"total_max_attempts": 1})
    async with session.create_client("s3", region_name=args.region, config=config) as client:
        yield client


def rendered(transcript: Transcript, fmt: str) -> Any:
    """What ``--fetch FORMAT`` puts in a JSON line: the text, the document, subtitles."""
    if fmt == "text":
        return transcript.text
    if fmt == "json":
        return transcript.document
    return transcript.to_srt() if fmt == "srt" else transcript.to_vtt()


def file_text(transcript: Transcript, fmt: str) -> str:
    """What ``--fetch FORMAT --out DIR`` writes: UTF-8 text ending in a newline."""
    if fmt == "json":
        return json.dumps(transcript.document, ensure_ascii=False) + "\n"
    text = str(rendered(transcript, fmt))
    return text if text.endswith("\n") else text + "\n"


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: into a hidden file beside it,
    then renamed over it (a second wait replaces the first's file)."""
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise


def _scrubbed(text: str) -> str:
    """A message with no presigned query string (a credential) left in it."""
    return _QUERY.sub(r"\1", text)


@dataclass
class Fetching:
    """What ``--fetch`` asked for, and how it went: one :meth:`fetch` per job."""

    fmt: str
    out: Path | None
    timeout: float
    s3: Any
    fetched: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self._turns = anyio.CapacityLimiter(MAX_FETCHES)

    @classmethod
    def from_args(cls, args: argparse.Namespace, s3: Any) -> Fetching:
        return cls(
            fmt=args.fetch,
            out=None if args.out is None else Path(args.out),
            timeout=FETCH_TIMEOUT if args.fetch_timeout is None else args.fetch_timeout,
            s3=s3,
        )

    @property
    def key(self) -> str:
        """The key of a line's transcript: itself, or the file it went to."""
        return "transcript" if self.out is None else "transcript_file"

    def blank(self) -> dict[str, Any]:
        """The keys of a line with nothing fetched (a job that did not complete)."""
        return {self.key: None, "fetch_error": None}

    async def fetch(self, poller: Poller, event: CompletionEvent) -> dict[str, Any]:
        """The keys ``--fetch`` adds to a COMPLETED job's line; never raises but to be
        cancelled: a failure is the line's ``fetch_error``."""
        job = event.job
        added = self.blank()
        async with self._turns:
            try:
                with anyio.fail_after(self.timeout):
                    transcript = await poller.fetch_transcript(event)
                if self.out is None:
                    added[self.key] = rendered(transcript, self.fmt)
                else:
                    path = self.out / file_name(job, self.fmt)
                    text = file_text(transcript, self.fmt)
                    try:
                        await anyio.to_thread.run_sync(write_file, path, text)
                    except OSError as error:
                        raise _WriteError(
                            f"transcript of job {job}: cannot write {path}: "
                            f"{error.strerror or error}"
                        ) from None
                    added[self.key] = str(path)
            except TranscriptUnavailableError as error:
                added["fetch_error"] = self._where(error)
            except (TranscriptError, _WriteError) as error:
                added["fetch_error"] = str(error)
            except TimeoutError:
                added["fetch_error"] = (
                    f"transcript of job {job}: not fetched within {self.timeout:g} s "
                    f"(--fetch-timeout): {self._store(event)} kept failing or was too slow"
                )
            except Exception as error:  # never a traceback, never another job's line lost
                added["fetch_error"] = _scrubbed(
                    f"transcript of job {job}: {type(error).__name__}: {error}"
                )
        if added["fetch_error"] is None:
            self.fetched += 1
        else:
            self.failed += 1
        return added

    def _where(self, error: TranscriptUnavailableError) -> str:
        """The error's words; for an object in the caller's bucket, the S3 endpoint
        asked too: a bucket missing there may be one of another endpoint (a local test
        bed's S3 is set with AWS_ENDPOINT_URL_S3)."""
        text = _scrubbed(str(error))
        if error.location is not None and error.location.startswith("s3://"):
            text += f" (asked S3 at {self._s3_endpoint()})"
        return text

    def _store(self, event: CompletionEvent) -> str:
        uri = event.preferred_uri or ""
        if "?" in uri:  # presigned: the service's bucket, over HTTPS
            return "the presigned URI's host"
        return f"S3 at {self._s3_endpoint()}"

    def _s3_endpoint(self) -> str:
        meta = getattr(self.s3, "meta", None)
        return str(getattr(meta, "endpoint_url", "its endpoint"))


class _WriteError(Exception):
    """A transcript fetched that could not be written under --out."""


def summary_text(fetching: Fetching, download_bytes: int) -> str:
    """The summary's sentence about transcripts: ``Transcripts: 3 fetched (12.1 kB),
    1 failed.``"""
    size = _size(download_bytes)
    text = f" Transcripts: {fetching.fetched} fetched ({size})"
    if fetching.failed:
        text += f", {fetching.failed} failed"
    return text + "."


def _size(n: int) -> str:
    """``812 B``, ``12.1 kB``, ``3.4 MB``."""
    if n < 1000:
        return f"{n} B"
    value = n / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
