"""No presigned URL's query string leaves the library: not through an event's repr, its
to_dict (the command line's JSON), nor any log line, whatever form the URL takes."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
from typing import Any

import botocore.exceptions
import pytest
import structlog

from transcribe_poller import CompletionEvent, JobRef, Outcome, Poller, Sweep
from transcribe_poller._log import get_logger
from transcribe_poller.testing import FakeTranscribe

from ..test_scrub import FORMS, PLAIN, leaked
from ._helpers import collect

pytestmark = pytest.mark.anyio

GETS_ONLY = Sweep(mode="never")


def reason_with(text: str) -> str:
    """A FailureReason as the service might word one that quotes a URL."""
    return f"The media file at {text} could not be read. Check the file and try again."


def client_error(code: str, message: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        },
        "GetTranscriptionJob",
    )


class Refusing:
    """FakeTranscribe whose standard Get raises ``error`` for every job."""

    def __init__(self, fake: FakeTranscribe, error: Exception) -> None:
        self._fake = fake
        self._error = error
        self.meta = fake.meta

    async def get_transcription_job(self, *, TranscriptionJobName: str) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fake, name)


def assert_no_secret_leaves(event: CompletionEvent, logs: list[dict[str, Any]]) -> None:
    """Neither repr, to_dict (as a dict and as JSON) nor the log lines hold a secret."""
    exits = {
        "repr": repr(event),
        "str": str(event),
        "to_dict": str(event.to_dict()),
        "json": json.dumps(event.to_dict()),
        "logs": str(logs),
    }
    leaks = {name: leaked(text) for name, text in exits.items()}
    assert not any(leaks.values()), leaks


def finished_line(logs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The ``job finished`` log entry of job ``name``."""
    (line,) = [e for e in logs if e["event"] == "job finished" and e.get("job") == name]
    return line


@pytest.mark.parametrize("form", FORMS)
async def test_a_failure_reason_with_a_url_leaves_scrubbed(fake: FakeTranscribe, form: str) -> None:
    """A FAILED job whose FailureReason quotes a presigned URL: repr, to_dict and the
    ``job finished`` line show the path with ``?…``, never a signing value."""
    text, expected = FORMS[form]
    fake.start_job("failed", duration=30, fail_with=reason_with(text))
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake) as poller:
            (event,) = await collect(poller, ["failed"])
    assert event.outcome is Outcome.FAILED
    assert event.failure_reason == reason_with(expected)
    assert f"failure_reason={reason_with(expected)!r}" in repr(event)
    assert event.to_dict()["failure_reason"] == reason_with(expected)
    assert finished_line(logs, "failed")["failure_reason"] == reason_with(expected)
    assert_no_secret_leaves(event, logs)


@pytest.mark.parametrize("form", FORMS)
async def test_a_not_found_message_with_a_url_leaves_scrubbed(
    fake: FakeTranscribe, form: str
) -> None:
    """A NotFoundException whose message quotes a URL: the NOT_FOUND event's reason and
    error, and the log, hold the path only."""
    text, expected = FORMS[form]
    error = client_error("NotFoundException", f"No job here; its media was {text}")
    with structlog.testing.capture_logs() as logs:
        async with Poller(Refusing(fake, error), sweep=GETS_ONLY, not_found_grace=0) as poller:
            (event,) = await collect(poller, ["gone"])
    assert event.outcome is Outcome.NOT_FOUND
    assert event.failure_reason == f"No job here; its media was {expected}"
    assert "NotFoundException" in (event.to_dict()["error"] or "")
    assert "error=" in repr(event)
    assert_no_secret_leaves(event, logs)


async def test_an_error_message_with_a_url_leaves_scrubbed(fake: FakeTranscribe) -> None:
    """An AccessDenied whose message quotes a URL ends the job with ERROR; its reason,
    error and log line keep the path and lose the query."""
    error = client_error("AccessDeniedException", f"Not allowed to read {PLAIN}")
    with structlog.testing.capture_logs() as logs:
        async with Poller(Refusing(fake, error), sweep=GETS_ONLY) as poller:
            (event,) = await collect(poller, ["denied"])
    assert event.outcome is Outcome.ERROR
    assert event.failure_reason is not None
    assert event.failure_reason.endswith(f"Not allowed to read {FORMS['scheme'][1]}")
    assert finished_line(logs, "denied")["failure_reason"] == event.failure_reason
    assert_no_secret_leaves(event, logs)


async def test_unconfigured_logging_gets_scrubbed_lines(
    fake: FakeTranscribe, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a structlog configuration the lines go to stdlib logging, scrubbed too."""
    monkeypatch.setattr(structlog, "is_configured", lambda: False)
    caplog.set_level(logging.INFO, logger="transcribe_poller")
    fake.start_job("failed", duration=30, fail_with=reason_with(PLAIN))
    async with Poller(fake) as poller:
        (event,) = await collect(poller, ["failed"])
    assert event.outcome is Outcome.FAILED
    assert "job finished" in caplog.text
    assert "out/job.json?…" in caplog.text
    assert not leaked(caplog.text)


def test_log_processor_scrubs_nested_values_and_rendered_tracebacks() -> None:
    """Every string value is scrubbed, in lists and dicts too, and so is a traceback
    that an app's ``format_exc_info`` renders from ``exc_info``."""
    with structlog.testing.capture_logs() as logs:
        # In place, as capture_logs itself changes the list: restored on exit.
        structlog.get_config()["processors"].insert(0, structlog.processors.format_exc_info)
        log = get_logger()
        log.error("boom", uri=PLAIN, uris=[PLAIN, (PLAIN,)], answer={PLAIN: {"u": PLAIN}}, n=3)
        try:
            raise ValueError(f"cannot read {PLAIN}")
        except ValueError as error:
            log.error("failed", exc_info=error)
    assert logs[0]["uri"] == FORMS["scheme"][1]
    assert logs[0]["uris"] == [FORMS["scheme"][1], (FORMS["scheme"][1],)]
    assert logs[0]["n"] == 3
    assert "ValueError: cannot read https://" in logs[1]["exception"]
    assert not leaked(str(logs))


def test_unconfigured_log_of_an_exception_is_scrubbed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Unconfigured, an exception value (``exc_info`` too) is logged as scrubbed text."""
    monkeypatch.setattr(structlog, "is_configured", lambda: False)
    caplog.set_level(logging.INFO, logger="transcribe_poller")
    get_logger().warning("failed", error=ValueError(PLAIN), exc_info=ValueError(PLAIN))
    assert "out/job.json?…" in caplog.text
    assert not leaked(caplog.text)


def test_an_event_made_by_hand_is_scrubbed_in_every_copy() -> None:
    """The reason is scrubbed at construction; replace, pickle and repr keep it so."""
    event = CompletionEvent(
        job=JobRef("x"),
        outcome=Outcome.ERROR,
        failure_reason=reason_with(PLAIN),
        error=ValueError(PLAIN),
    )
    assert event.failure_reason == reason_with(FORMS["scheme"][1])
    copies = [event, dataclasses.replace(event, polls=2), pickle.loads(pickle.dumps(event))]
    for copy in copies:
        assert_no_secret_leaves(copy, [])
