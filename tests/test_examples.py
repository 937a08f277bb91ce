"""Every example runs as is against the local test bed and prints what it promises."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import httpx
import pytest

from transcribe_poller import JobKind
from transcribe_poller.testing import LocalTranscribe

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


SCRIPTS = ("wait_one.py", "wait_many.py", "web_service.py", "fastapi_service.py")
_started: dict[str, subprocess.Popen[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _start_examples_together() -> Iterator[None]:
    """Start every example at once: each mostly waits for its jobs, so they overlap."""
    for name in (*SCRIPTS, "batch_from_file.py"):
        _started[name] = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    yield
    for process in _started.values():
        process.kill()
        process.communicate()
    _started.clear()


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    """The finished run of an example started by the module's fixture."""
    process = _started[name]
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_wait_one() -> None:
    """wait_one.py awaits one redacted job and prints the URI to fetch."""
    result = run_example("wait_one.py")
    assert result.returncode == 0, result.stderr
    assert "meeting-2026-11-22: COMPLETED" in result.stdout
    assert "redacted-asrOutput.json" in result.stdout


def test_wait_many() -> None:
    """wait_many.py reports all 50 jobs, one of them FAILED."""
    result = run_example("wait_many.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("done ") for line in lines) == 49
    assert sum(line.startswith("failed ") for line in lines) == 1
    assert lines[-1].startswith("50 jobs, ")


def test_web_service() -> None:
    """web_service.py answers each request with the job's event, and 400 for a bad name."""
    result = run_example("web_service.py")
    assert result.returncode == 0, result.stderr
    statuses = sorted(line.split(" ", 1)[0] for line in result.stdout.splitlines())
    assert statuses == ["200", "200", "400"]
    assert "'outcome': 'FAILED'" in result.stdout
    assert "'outcome': 'COMPLETED'" in result.stdout


def test_fastapi_service() -> None:
    """fastapi_service.py answers with each job's event, and 400 for a bad name or kind."""
    result = run_example("fastapi_service.py")
    assert result.returncode == 0, result.stderr
    answers = [line.split(" ", 1) for line in result.stdout.splitlines()]
    by_status: dict[int, list[Any]] = {}
    for status, body in answers:
        by_status.setdefault(int(status), []).append(json.loads(body))
    assert sorted(by_status) == [200, 400]
    events = sorted(by_status[200], key=lambda event: (event["job"], event["kind"]))
    assert [(e["job"], e["kind"], e["outcome"]) for e in events] == [
        ("clinic-7", "medical", "FAILED"),
        ("podcast-42", "standard", "COMPLETED"),
        ("podcast-42", "standard", "COMPLETED"),
    ]
    assert events[0]["failure_reason"] == "Invalid sample rate."
    assert events[1]["transcript_uri"].startswith("https://")
    # Both requests for podcast-42 were sent at once, two seconds before it ended:
    # one poll loop served both, so they got the very same event.
    assert events[1] == events[2]
    errors = sorted(body["error"] for body in by_status[400])
    assert "invalid job name 'not valid'" in errors[0]
    assert "unknown kind 'legal'" in errors[1]


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.anyio
async def test_fastapi_service_in_process(local_transcribe: LocalTranscribe) -> None:
    """The FastAPI app driven in process: 200, 400, and a 504 that stops the polling."""
    service = load_example("fastapi_service.py")
    local_transcribe.start_job("ended-1", duration=0)
    local_transcribe.start_job("ended-2", kind="medical", duration=0, fail_with="No speech.")
    local_transcribe.start_job("long-1", duration=3600)
    app = service.create_app(local_transcribe.client, request_timeout=0.5)
    # httpx's ASGITransport does not run the lifespan; the app's own lifespan does.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service"
        ) as http,
    ):
        poller = app.state.poller
        ended = await http.get("/jobs/ended-1")
        assert ended.status_code == 200
        assert ended.json()["outcome"] == "COMPLETED"
        failed = await http.get("/jobs/ended-2", params={"kind": "medical"})
        assert failed.status_code == 200
        assert failed.json()["failure_reason"] == "No speech."

        bad_name = await http.get("/jobs/" + "x" * 201)
        assert bad_name.status_code == 400
        assert "the limit is 200" in bad_name.json()["error"]
        bad_kind = await http.get("/jobs/ended-1", params={"kind": "MEDICAL"})
        assert bad_kind.status_code == 400
        assert "expected 'standard' or 'medical'" in bad_kind.json()["error"]

        slow = await http.get("/jobs/long-1")
        assert slow.status_code == 504
        assert "long-1 (standard) has not ended after 0.5 s" in slow.json()["error"]
        # The request gave up and nobody else awaits long-1: its polling stopped.
        statistics = poller.statistics()
        assert statistics.jobs_pending == 0
        assert statistics.kinds[JobKind.STANDARD].finished == 1  # ended-1 only
    assert local_transcribe.traffic().job("long-1").requests >= 1


@pytest.mark.anyio
async def test_fastapi_service_client_hangs_up(local_transcribe: LocalTranscribe) -> None:
    """A request whose client hangs up stops polling its job, long before the timeout."""
    service = load_example("fastapi_service.py")
    local_transcribe.start_job("long-2", duration=3600)
    app = service.create_app(local_transcribe.client, request_timeout=3600)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/jobs/long-2",
        "raw_path": b"/jobs/long-2",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"service")],
        "client": ("127.0.0.1", 50000),
        "server": ("service", 80),
    }
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        # The request (an empty body), then the client is gone.
        nonlocal received
        received += 1
        if received == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with app.router.lifespan_context(app):
        poller = app.state.poller
        with anyio.fail_after(30):
            await app(scope, receive, send)
        statistics = poller.statistics()
        assert statistics.jobs_pending == 0
        assert statistics.kinds[JobKind.STANDARD].finished == 0
    assert sent[0]["status"] == 499


@pytest.mark.timeout(120)
def test_batch_from_file() -> None:
    """batch_from_file.py prints one JSON line per listed job and exits 1 for the missing one."""
    result = run_example("batch_from_file.py")
    assert result.returncode == 1, result.stderr
    records = {r["job"]: r["outcome"] for r in map(json.loads, result.stdout.splitlines())}
    assert records == {
        "news-1": "COMPLETED",
        "news-2": "COMPLETED",
        "medical:ward-3": "COMPLETED",
        "call-analytics:desk-4": "COMPLETED",
        "news-404": "NOT_FOUND",
    }
