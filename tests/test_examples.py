"""Every example runs as is against the local test bed and prints what it promises."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import signal
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
SERVERS = ("web_service.py --serve", "fastapi_service.py --serve")
_started: dict[str, subprocess.Popen[str]] = {}
# A line of the library's logging (key=value, as it renders unconfigured) or of
# structlog's default console renderer.
LOG_LINE = re.compile(r'event="job finished"|\[(debug|info|warning|error) *\]')


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
    for server in SERVERS:
        script, flag = server.split()
        _started[server] = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), flag, "--port", "0"],
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


def answers(stdout: str) -> dict[str, list[tuple[int, Any]]]:
    """The service examples' lines, ``GET PATH -> STATUS BODY``, by path."""
    by_path: dict[str, list[tuple[int, Any]]] = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"GET (\S+) -> (\d{3}) (.*)", line)
        assert match, f"not an answer line: {line!r}"
        path, status, body = match.groups()
        by_path.setdefault(path, []).append((int(status), json.loads(body)))
    return by_path


def test_wait_one() -> None:
    """wait_one.py prints the job and its redacted transcript's text on stdout, the
    library's log line on stderr."""
    result = run_example("wait_one.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert re.fullmatch(r"meeting-2026-11-22: COMPLETED after \d+ polls, [\d.]+ s", lines[0])
    # The redacted transcript, fetched: each word holding a digit is [PII].
    assert lines[1] == "Thanks for joining. Call me back on [PII] [PII]."
    assert not LOG_LINE.search(result.stdout)
    # The example turns the library's info lines on: they went to stderr, with the
    # URI the transcript came from (its query string, a credential, left out).
    assert 'event="job finished" job=meeting-2026-11-22' in result.stderr
    assert "redacted-asrOutput.json" in result.stderr
    assert "X-Amz-Signature" not in result.stderr


def test_wait_many() -> None:
    """wait_many.py reports all 50 jobs, one of them FAILED, and nothing else on stdout."""
    result = run_example("wait_many.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 51, result.stdout
    assert sum(line.startswith("done ") for line in lines) == 49
    assert sum(line.startswith("failed ") for line in lines) == 1
    assert lines[-1].startswith("50 jobs, ")
    assert not LOG_LINE.search(result.stdout)


def test_web_service() -> None:
    """web_service.py answers 200 for ended jobs (FAILED too), 404 unknown, 400 bad name."""
    result = run_example("web_service.py")
    assert result.returncode == 0, result.stderr
    by_path = answers(result.stdout)
    assert sorted(by_path) == [
        "/jobs/clinic-7?kind=medical",
        "/jobs/no-such-job",
        "/jobs/not%20valid",
        "/jobs/podcast-42",
    ]
    [(status, body)] = by_path["/jobs/podcast-42"]
    assert (status, body["outcome"]) == (200, "COMPLETED")
    [(status, body)] = by_path["/jobs/clinic-7?kind=medical"]
    assert (status, body["outcome"], body["failure_reason"]) == (
        200,
        "FAILED",
        "Invalid sample rate.",
    )
    [(status, body)] = by_path["/jobs/no-such-job"]
    assert status == 404
    assert body["job"] == "no-such-job"
    assert "no standard job named 'no-such-job'" in body["error"]
    [(status, body)] = by_path["/jobs/not%20valid"]
    assert (status, body["field"]) == (400, "name")
    # The unknown job's warning is the library's: on stderr, not among the answers.
    assert "outcome=NOT_FOUND" in result.stderr


def test_fastapi_service() -> None:
    """fastapi_service.py answers 200 for ended jobs (FAILED too), 404 unknown, 400 bad input."""
    result = run_example("fastapi_service.py")
    assert result.returncode == 0, result.stderr
    by_path = answers(result.stdout)
    assert sorted(by_path) == [
        "/jobs/clinic-7?kind=medical",
        "/jobs/no-such-job",
        "/jobs/not%20valid",
        "/jobs/podcast-42",
        "/jobs/podcast-42?kind=legal",
    ]
    twice = by_path["/jobs/podcast-42"]
    assert [status for status, _ in twice] == [200, 200]
    assert twice[0][1]["outcome"] == "COMPLETED"
    # The test bed's presigned URI: its document server on 127.0.0.1, signed.
    assert re.match(r"http://127\.0\.0\.1:\d+/", twice[0][1]["transcript_uri"])
    assert "X-Amz-Signature=" in twice[0][1]["transcript_uri"]
    # Both requests for podcast-42 were sent at once, two seconds before it ended:
    # one poll loop served both, so they got the very same event.
    assert twice[0][1] == twice[1][1]
    [(status, failed)] = by_path["/jobs/clinic-7?kind=medical"]
    assert (status, failed["kind"], failed["outcome"]) == (200, "medical", "FAILED")
    assert failed["failure_reason"] == "Invalid sample rate."
    [(status, unknown)] = by_path["/jobs/no-such-job"]
    assert status == 404
    assert unknown == {
        "error": "no standard job named 'no-such-job'",
        "job": "no-such-job",
        "kind": "standard",
    }
    [(status, bad_name)] = by_path["/jobs/not%20valid"]
    assert (status, bad_name["field"]) == (400, "name")
    assert "invalid job name 'not valid'" in bad_name["error"]
    [(status, bad_kind)] = by_path["/jobs/podcast-42?kind=legal"]
    assert (status, bad_kind["field"]) == (400, "kind")
    assert "unknown kind 'legal'" in bad_kind["error"]
    assert "outcome=NOT_FOUND" in result.stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("server", SERVERS)
def test_serve_prints_commands_that_work(server: str) -> None:
    """--serve prints the test bed's job URL and a curl to await a job; both work as printed."""
    process = _started[server]
    assert process.stdout is not None
    banner: list[str] = []
    while not banner or not banner[-1].startswith("Ctrl-C"):
        line = process.stdout.readline()
        assert line, f"{server} ended before its banner: {process.communicate()[1]}"
        banner.append(line.rstrip("\n"))
    start = shlex.split(next(line for line in banner if "/_local/jobs" in line))
    await_it = shlex.split(next(line for line in banner if "/jobs/my-job" in line))
    assert start[:3] == ["curl", "-X", "POST"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/_local/jobs", start[3])
    job = json.loads(start[start.index("-d") + 1])
    assert job == {"name": "my-job", "kind": "standard", "duration": 20}
    job["duration"] = 0  # the printed job, without the 20 s wait
    with httpx.Client(trust_env=False, timeout=60) as http:
        started = http.post(start[3], json=job)
        assert started.status_code == 201, started.text
        [url] = await_it[1:]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/jobs/my-job\?kind=standard", url)
        ended = http.get(url)
    assert ended.status_code == 200, ended.text
    assert (ended.json()["job"], ended.json()["outcome"]) == ("my-job", "COMPLETED")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert stdout == ""  # the banner only: log lines (uvicorn's access log too) on stderr
    assert "Traceback" not in stderr


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.anyio
async def test_fastapi_service_in_process(local_transcribe: LocalTranscribe) -> None:
    """The FastAPI app driven in process: 200, 404, 400, and a 504 that stops the polling."""
    service = load_example("fastapi_service.py")
    local_transcribe.start_job("ended-1", duration=0)
    local_transcribe.start_job("ended-2", kind="medical", duration=0, fail_with="No speech.")
    local_transcribe.start_job("long-1", duration=3600)
    # No grace for a job started a moment ago: an unknown job is known to be so at once.
    app = service.create_app(local_transcribe.client, request_timeout=0.5, not_found_grace=0)
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
        assert failed.json()["outcome"] == "FAILED"
        assert failed.json()["failure_reason"] == "No speech."
        # ended-2 is a medical job: there is no standard one of that name.
        unknown = await http.get("/jobs/ended-2")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "error": "no standard job named 'ended-2'",
            "job": "ended-2",
            "kind": "standard",
        }

        bad_name = await http.get("/jobs/" + "x" * 201)
        assert bad_name.status_code == 400
        assert bad_name.json()["field"] == "name"
        assert "the limit is 200" in bad_name.json()["error"]
        bad_kind = await http.get("/jobs/ended-1", params={"kind": "MEDICAL"})
        assert bad_kind.status_code == 400
        assert bad_kind.json()["field"] == "kind"
        assert "expected 'standard' or 'medical'" in bad_kind.json()["error"]

        slow = await http.get("/jobs/long-1")
        assert slow.status_code == 504
        assert "long-1 (standard) has not ended after 0.5 s" in slow.json()["error"]
        # The request gave up and nobody else awaits long-1: its polling stopped.
        statistics = poller.statistics()
        assert statistics.jobs_pending == 0
        assert statistics.kinds[JobKind.STANDARD].finished == 2  # ended-1, the unknown one
    assert local_transcribe.traffic().job("long-1").requests >= 1


@pytest.mark.anyio
async def test_fastapi_service_polling_fails(local_transcribe: LocalTranscribe) -> None:
    """A job the service cannot be asked about (access denied) answers 502 naming it."""
    service = load_example("fastapi_service.py")
    local_transcribe.start_job("denied-1", duration=0)
    local_transcribe.set_faults(denied={"GetTranscriptionJob"})
    app = service.create_app(local_transcribe.client, request_timeout=30)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service"
        ) as http,
    ):
        with anyio.fail_after(30):
            answer = await http.get("/jobs/denied-1")
    assert answer.status_code == 502
    assert answer.json()["job"] == "denied-1"
    assert "job denied-1 (standard) could not be polled" in answer.json()["error"]
    assert "AccessDenied" in answer.json()["error"]


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
    # The missing job's warning is the library's: on stderr, not among the JSON lines.
    assert "job finished" in result.stderr
    assert "news-404" in result.stderr


def test_batch_from_file_bad_file(tmp_path: Path) -> None:
    """batch_from_file.py names a bad job name or a missing file in one line and exits 2."""
    listing = tmp_path / "jobs.txt"
    listing.write_text("news-1\nnot valid\n")
    for path, says in (
        (listing, "invalid job name 'not valid'"),
        (tmp_path / "none.txt", "No such file"),
    ):
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / "batch_from_file.py"), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith(f"{path}: ")
        assert says in line
