"""Sorting the errors of a Get into what the poller does next."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import botocore.exceptions

from ._exceptions import TranscribePollerError
from ._scrub import scrub as scrub  # re-exported: one scrubber for every text that leaves

THROTTLING_CODES = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "TooManyRequestsException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",  # SQS
    }
)
THROTTLING_STATUSES = frozenset({429, 503})
# Codes botocore also retries as transient, whatever their HTTP status.
TRANSIENT_CODES = frozenset(
    {
        "InternalFailureException",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        # Credentials about to be refreshed, or a clock skewed for a while: the
        # condition is the caller's whole account and passes; no job is to blame.
        "ExpiredTokenException",
        "ExpiredToken",
        "RequestExpired",
        "RequestTimeTooSkewed",
    }
)
# Codes that are transient only when the message says the signature expired (clock
# skew); otherwise they are a wrong key, which waiting cannot change.
EXPIRED_SIGNATURE_CODES = frozenset({"InvalidSignatureException", "SignatureDoesNotMatch"})
NOT_FOUND_MESSAGE = "couldn't be found"


class Verdict(enum.Enum):
    """What an error says about waiting.

    The rule: only what waiting cannot change ends a job. An answer from the
    service that refuses the request (access denied, validation) or a request that
    cannot be made (missing parameters, a client bug) is FATAL; everything met on
    the way to an answer (throttling, 5xx, connections, timeouts, expired
    credentials) is THROTTLED or TRANSIENT, however long it lasts.
    """

    THROTTLED = "throttled"  # slow everyone down, try again; never ends a job
    TRANSIENT = "transient"  # back off and try again; never ends a job
    NOT_FOUND = "not_found"  # may be a job just started: retry within a grace period
    FATAL = "fatal"  # ends the job with ERROR at once


def _client_error(error: botocore.exceptions.ClientError) -> tuple[Verdict, float | None]:
    response = error.response
    code = str(response.get("Error", {}).get("Code", ""))
    message = str(response.get("Error", {}).get("Message", ""))
    metadata = response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode") or 0)
    if code in THROTTLING_CODES or status in THROTTLING_STATUSES:
        return Verdict.THROTTLED, _retry_after(metadata.get("HTTPHeaders") or {})
    if code == "NotFoundException" or (
        code == "BadRequestException" and NOT_FOUND_MESSAGE in message.lower()
    ):
        return Verdict.NOT_FOUND, None
    if status >= 500 or code in TRANSIENT_CODES:
        return Verdict.TRANSIENT, None
    if code in EXPIRED_SIGNATURE_CODES and "expired" in message.lower():
        return Verdict.TRANSIENT, None
    return Verdict.FATAL, None


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare for AWS, and the rate cut covers it anyway
    return seconds if seconds >= 0 else None


# Raised before a request is sent or while it travels; retrying may help.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    botocore.exceptions.HTTPClientError,  # ConnectionClosedError, ReadTimeoutError, ...
    botocore.exceptions.ConnectionError,  # EndpointConnectionError, ConnectTimeoutError
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,  # not a TimeoutError before Python 3.11
    # Credentials from a provider (instance metadata, SSO) that did not answer now.
    botocore.exceptions.CredentialRetrievalError,
)


def classify(error: Exception) -> tuple[Verdict, float | None]:
    """The verdict on an exception from a Get, and a retry-after hint if it had one."""
    if isinstance(error, botocore.exceptions.ClientError):
        return _client_error(error)
    if isinstance(error, _TRANSIENT_TYPES):
        return Verdict.TRANSIENT, None
    aiohttp = _aiohttp()
    if aiohttp is not None and isinstance(error, aiohttp.ClientError):
        return Verdict.TRANSIENT, None
    # NoCredentialsError, parameter validation, and anything unexpected.
    return Verdict.FATAL, None


# Raised when no connection could be made at all: the endpoint may be wrong.
_CONNECT_TYPES: tuple[type[BaseException], ...] = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ProxyConnectionError,
    ConnectionRefusedError,
)


def is_connection_failure(error: BaseException) -> bool:
    """True when no connection could be made: nothing listens, or no route."""
    if isinstance(error, _CONNECT_TYPES):
        return True
    aiohttp = _aiohttp()
    return aiohttp is not None and isinstance(error, aiohttp.ClientConnectorError)


def _aiohttp() -> Any:
    """aiohttp, imported only once an error needs sorting (it is aiobotocore's)."""
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiobotocore depends on aiohttp
        return None
    return aiohttp


def is_timeout(error: BaseException) -> bool:
    """True when a request got no answer in time (not when no connection was made)."""
    if is_connection_failure(error):
        return False
    return isinstance(error, (TimeoutError, botocore.exceptions.ReadTimeoutError))


def is_missing_credentials(error: BaseException) -> bool:
    return isinstance(error, botocore.exceptions.NoCredentialsError)


def service_message(error: BaseException) -> str:
    """The service's own words for an error answer, else :func:`describe`."""
    if isinstance(error, botocore.exceptions.ClientError):
        message = error.response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return describe(error)


def describe(error: BaseException) -> str:
    """A message for an ERROR event that tells the user what to do."""
    if isinstance(error, TranscribePollerError):
        return scrub(str(error))  # our own messages say it all
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return (
            "no AWS credentials found: configure a profile, environment variables or an "
            "instance role, or pass credentials to the client"
        )
    return scrub(f"{type(error).__name__}: {error}")


def shown(value: object, limit: int = 80) -> str:
    """A short, scrubbed repr of a value from an answer, for a message."""
    text = scrub(repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
