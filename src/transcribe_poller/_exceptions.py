"""Exceptions raised by transcribe-poller.

The tree::

    TranscribePollerError
     ├── InvalidJobNameError (also a ValueError)
     ├── PollerClosedError
     ├── ServiceUnreachableError
     └── NotificationsError

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
