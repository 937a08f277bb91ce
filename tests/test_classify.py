"""Error classification: what the poller does with each kind of failed Get."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from transcribe_poller._classify import Verdict, classify, describe


def client_error(
    code: str, status: int, message: str = "", headers: dict[str, str] | None = None
) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
    }
    return ClientError(response, "GetTranscriptionJob")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code",
    [
        "LimitExceededException",
        "ThrottlingException",
        "TooManyRequestsException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
    ],
)
def test_throttling_codes(code: str) -> None:
    """Every throttling code is THROTTLED."""
    assert classify(client_error(code, 400)) == (Verdict.THROTTLED, None)


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_statuses_with_retry_after(status: int) -> None:
    """HTTP 429 and 503 are THROTTLED whatever the code, and carry Retry-After."""
    error = client_error("Whatever", status, headers={"retry-after": "1.5"})
    assert classify(error) == (Verdict.THROTTLED, 1.5)


def test_not_found_forms() -> None:
    """NotFoundException, and BadRequest saying "couldn't be found", are NOT_FOUND."""
    message = "The requested job couldn't be found. Check the job name and try again."
    assert classify(client_error("BadRequestException", 400, message))[0] is Verdict.NOT_FOUND
    assert classify(client_error("NotFoundException", 404))[0] is Verdict.NOT_FOUND
    assert classify(client_error("BadRequestException", 400, "bad"))[0] is Verdict.FATAL


@pytest.mark.parametrize(
    "error",
    [
        client_error("InternalFailureException", 500),
        client_error("Anything", 502),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        TimeoutError(),
    ],
)
def test_transient_faults(error: Exception) -> None:
    """5xx answers, dropped connections and timeouts are TRANSIENT."""
    assert classify(error)[0] is Verdict.TRANSIENT


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 400),
        client_error("UnrecognizedClientException", 400),
        client_error("ValidationException", 400),
        NoCredentialsError(),
        RuntimeError("a bug"),
    ],
)
def test_fatal_errors(error: Exception) -> None:
    """Access, credential and validation errors end the job at once."""
    assert classify(error)[0] is Verdict.FATAL


def test_no_credentials_message_says_what_to_do() -> None:
    """The message for missing credentials names the fix."""
    assert "no AWS credentials found" in describe(NoCredentialsError())
