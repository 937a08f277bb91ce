"""Where a job's output lives, read from the URI the service answered: pure, no I/O.

Transcribe gives two kinds of URI, and they are fetched two ways:

* a **presigned** URI (output in the service's own bucket): its query string holds
  a SigV4 signature (``X-Amz-Signature``) and is the credential; it is fetched as
  it is, over HTTPS, and expires about 15 minutes after the Get that gave it;
* an **object** URI (output in a bucket of the caller's: every medical and Medical
  Scribe job, and any job given ``OutputBucketName``): no query string, the bucket
  and key in its path (``https://s3.REGION.amazonaws.com/BUCKET/KEY``) or host
  (``https://BUCKET.s3.REGION.amazonaws.com/KEY``); it is fetched with an S3
  GetObject signed by the caller's credentials.

Anything else is refused: the poller fetches only what the service pointed at.
Plain ``http`` is allowed for a loopback host alone (the local test bed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from ._events import strip_query

LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class Presigned:
    """A URI to fetch as it is; ``shown`` is it without its query string."""

    url: str

    @property
    def shown(self) -> str:
        return strip_query(self.url) or ""


@dataclass(frozen=True, slots=True)
class S3Object:
    """An object in a bucket of the caller's, to read with S3 GetObject."""

    bucket: str
    key: str

    @property
    def shown(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


Location = Presigned | S3Object


class NotServiceUri(ValueError):
    """A URI that is neither presigned nor an S3 object's: not fetched."""


def locate(uri: str) -> Location:
    """The :data:`Location` of ``uri``, or :class:`NotServiceUri` saying why not."""
    parts = urlsplit(uri)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme == "s3":
        bucket, key = host, unquote(parts.path.lstrip("/"))
        if bucket and key:
            return S3Object(bucket, key)
        raise NotServiceUri(f"{strip_query(uri)!r} names no bucket and key")
    if scheme not in ("https", "http") or not host:
        raise NotServiceUri(f"{strip_query(uri)!r} is not an https URI")
    if scheme == "http" and not _loopback(host):
        raise NotServiceUri(f"{strip_query(uri)!r} is plain http to a host not this machine")
    if "X-Amz-Signature" in parse_qs(parts.query):
        return Presigned(uri)
    if parts.query:
        raise NotServiceUri(f"{strip_query(uri)!r} has a query string but no signature")
    path = unquote(parts.path.lstrip("/"))
    labels = host.split(".")
    if "s3" in labels[1:] or any(label.startswith("s3-") for label in labels[1:]):
        # Virtual-hosted style: BUCKET.s3.REGION.amazonaws.com/KEY (a bucket name
        # may itself hold dots, so the bucket is everything before ".s3").
        at = next(i for i, label in enumerate(labels) if i and _s3_label(label))
        bucket, key = ".".join(labels[:at]), path
    elif _s3_label(labels[0]):
        # Path style: s3.REGION.amazonaws.com/BUCKET/KEY, as Transcribe writes them.
        bucket, _, key = path.partition("/")
    else:
        raise NotServiceUri(f"{strip_query(uri)!r} is not an S3 URI")
    if not bucket or not key:
        raise NotServiceUri(f"{strip_query(uri)!r} names no bucket and key")
    return S3Object(bucket, key)


def _s3_label(label: str) -> bool:
    return label == "s3" or label.startswith("s3-")


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
