"""What both doubles serve of their jobs' output: presigned URIs and caller-bucket objects.

A presigned URI (output in the service's bucket) is served as S3 serves one: the
document while the signature holds, ``403 AccessDenied`` "Request has expired"
once ``X-Amz-Expires`` seconds have passed since ``X-Amz-Date`` on the double's
clock, ``403 SignatureDoesNotMatch`` for a URI the double did not sign, ``404
NoSuchKey`` for output the job has not written (not COMPLETED, or a file it was
not asked for). FakeTranscribe serves them in memory (``serve_url``), the local
bed over HTTP on 127.0.0.1 (``_proxy``).

Objects in the caller's buckets are served by :class:`FakeS3` in memory; on the
local bed they are real objects in moto's S3, written by ``_objectwriter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .._jobs import JobKind
from ._answers import client_error
from ._outputs import content_of, output_objects, role_of
from ._script import ScriptedJob, signature

FindScript = Callable[[JobKind, str], "ScriptedJob | None"]


def serve_presigned(url: str, find: FindScript, *, now: float, wall: datetime) -> tuple[int, bytes]:
    """``(status, body)`` S3 would answer for the presigned ``url`` at ``now`` (the
    double's clock; ``wall`` is that reading as a datetime)."""
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    if len(segments) != 5:
        return _error(404, "NoSuchKey", "The specified key does not exist.")
    _, _, name, token, file = segments
    script = next(
        (
            s
            for s in (find(kind, name) for kind in (JobKind.STANDARD, JobKind.CALL_ANALYTICS))
            if s is not None and s.token.startswith(token)
        ),
        None,
    )
    stamp = query.get("X-Amz-Date", "")
    if script is None or query.get("X-Amz-Signature") != signature(script, stamp):
        return _error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        lifetime = int(query.get("X-Amz-Expires", "0"))
    except ValueError:
        return _error(400, "AuthorizationQueryParametersError", "X-Amz-Date is malformed.")
    if wall > signed + timedelta(seconds=lifetime):
        return _error(403, "AccessDenied", "Request has expired")
    role = role_of(file)
    if script.status_at(now) != "COMPLETED" or not _wrote(script, role):
        return _error(404, "NoSuchKey", "The specified key does not exist.")
    return 200, content_of(script, role)


def _wrote(script: ScriptedJob, role: str) -> bool:
    if role == "transcript":
        return script.redaction != "redacted"
    if role == "redacted":
        return script.redaction is not None
    return role in script.subtitles


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>local-request</RequestId></Error>"
    )
    return status, body.encode()


class FakeS3:
    """An in-memory stand-in for an aiobotocore S3 client, holding what FakeTranscribe's
    jobs wrote to the caller's buckets: ``await get_object(Bucket=, Key=)`` answers as
    S3 does (``Body`` to read, ``ContentLength``; ``NoSuchKey`` and ``NoSuchBucket``
    as botocore's ClientError). An object exists from its job's COMPLETED on the
    fake's clock. :meth:`delete_object` removes one, as a lifecycle rule would.
    """

    def __init__(
        self,
        scripts: Callable[[], Mapping[tuple[JobKind, str], ScriptedJob]],
        now: Callable[[], float],
    ) -> None:
        self._scripts = scripts
        self._now = now
        self._index: dict[tuple[str, str], tuple[ScriptedJob, str]] = {}
        self._seen: set[str] = set()  # tokens of the scripts indexed
        self._deleted: set[tuple[str, str]] = set()
        self.requests = 0

    def __repr__(self) -> str:
        return f"<FakeS3 objects={len(self._index)}>"

    # botocore's parameter names.
    async def get_object(self, *, Bucket: str, Key: str, **params: Any) -> dict[str, Any]:
        self.requests += 1
        found = self._find(Bucket, Key)
        if found is None:
            if not any(bucket == Bucket for bucket, _ in self._index):
                raise client_error(
                    "GetObject", 404, "NoSuchBucket", "The specified bucket does not exist"
                )
            raise client_error("GetObject", 404, "NoSuchKey", "The specified key does not exist.")
        script, role = found
        body = content_of(script, role)
        return {
            "Body": _Body(body),
            "ContentLength": len(body),
            "ContentType": "application/json" if role not in ("srt", "vtt") else "text/plain",
        }

    async def delete_object(self, *, Bucket: str, Key: str, **params: Any) -> dict[str, Any]:
        self.requests += 1
        self._deleted.add((Bucket, Key))
        return {}

    def clear(self) -> None:
        """Forget every object, as the fake's ``reset()`` forgets every job."""
        self._index.clear()
        self._seen.clear()
        self._deleted.clear()

    def _find(self, bucket: str, key: str) -> tuple[ScriptedJob, str] | None:
        if (bucket, key) in self._deleted:
            return None
        found = self._index.get((bucket, key))
        if found is None:
            self._catch_up()
            found = self._index.get((bucket, key))
        if found is None or found[0].status_at(self._now()) != "COMPLETED":
            return None
        return found

    def _catch_up(self) -> None:
        """Index the objects of scripts started since the last look."""
        for script in list(self._scripts().values()):
            if script.token in self._seen or script.output_bucket is None:
                continue
            self._seen.add(script.token)
            if script.outcome != "COMPLETED":
                continue
            for key, role in output_objects(script).items():
                self._index[(script.output_bucket, key)] = (script, role)


class _Body:
    """The ``Body`` of a GetObject answer: ``await read()``, ``async with``, ``close()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    async def read(self, amt: int | None = None) -> bytes:
        end = len(self._data) if amt is None else min(len(self._data), self._at + amt)
        chunk, self._at = self._data[self._at : end], end
        return chunk

    async def __aenter__(self) -> _Body:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._at = len(self._data)
