"""Exceptions raised by transcribe-poller.

The tree::

    TranscribePollerError
     ├── InvalidJobNameError (also a ValueError)
     ├── PollerClosedError
     ├── ServiceUnreachableError
     ├── NotificationsError
     ├── TranscriptUnavailableError
     ├── TranscriptError
     └── StartRefusedError

Failures of individual jobs (throttling past every retry, access denied, a job that
does not exist) are not raised: they arrive as a :class:`CompletionEvent` with an
``outcome`` of ``ERROR`` or ``NOT_FOUND``, so one bad job never costs the others
their results. :class:`ServiceUnreachableError` is the ``error`` of such events when
the service could never be reached or no credentials were found.
"""

from __future__ import annotations


class TranscribePollerError(Exception):
    """Base class of every exception this package raises."""


class InvalidJobNameError(TranscribePollerError, ValueError):
    """A job name breaks the service's rule; raised before any request is sent."""

    def __init__(self, name: object, reason: str) -> None:
        self.name = name
        super().__init__(f"invalid job name {name!r}: {reason}")


class PollerClosedError(TranscribePollerError):
    """The poller was closed (or never opened) while a job was still being awaited."""


class ServiceUnreachableError(TranscribePollerError):
    """No request ever reached the service: nothing listens at the endpoint, the
    network is down, or there are no credentials to sign with.

    Carried as the ``error`` of the ERROR event of every job it ended; ``endpoint``
    is the URL tried and ``__cause__`` the last underlying error.
    """

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"cannot use Transcribe at {endpoint}: {reason}")


class NotificationsError(TranscribePollerError):
    """The notifications queue cannot be used at all: it does not exist, or this
    identity may not read it. Raised when the Poller is entered."""


class TranscriptUnavailableError(TranscribePollerError):
    """A job's transcript cannot be fetched: the job did not complete, its output was
    deleted, S3 refused the read, or the document is larger than allowed.

    ``job`` is the job; ``location`` where the poller looked (a URI without its query
    string, or ``s3://bucket/key``), None when it never got that far; ``reason`` says
    what to do.
    """

    def __init__(self, job: object, reason: str, location: str | None = None) -> None:
        self.job = job
        self.reason = reason
        self.location = location
        where = f" ({location})" if location else ""
        super().__init__(f"transcript of job {job}{where}: {reason}")


class StartRefusedError(TranscribePollerError):
    """A job of :meth:`Poller.submit` was not started: its request is malformed, the
    service refused it (validation, a missing permission), or its name belongs to a
    job of other media. Carried as the ``error`` of that job's ERROR event; the
    other jobs of the batch go on.

    ``job`` is the job (for a request without a usable name, ``request-N``, N its
    position in the batch, from 1); ``reason`` says what to change.
    """

    def __init__(self, job: object, reason: str) -> None:
        self.job = job
        self.reason = reason
        super().__init__(f"job {job} was not started: {reason}")
