"""`transcribe-poller local`: the test bed served for other terminals, and start-job."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from transcribe_poller._cli._main import main
from transcribe_poller.testing._control import JOBS_PATH

TIMEOUT = 20.0  # seconds; each wait below ends as soon as its output appears


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures structlog for the process, as a command should; undo it."""
    yield
    structlog.reset_defaults()


class Served:
    """A `transcribe-poller local` subprocess, its stdout read line by line in a thread."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "transcribe_poller", "local", "--port", "0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line_starting(self, prefix: str) -> str:
        """The next line of stdout that starts with ``prefix``, within TIMEOUT."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no line {prefix!r} in {self.seen}") from None
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def terminate(self) -> str:
        """Send SIGTERM, wait for the exit within TIMEOUT; return stderr."""
        with self.process:  # closes the pipes
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
            self.reader.join(TIMEOUT)  # at the end of stdout, before the pipe is closed
            assert self.process.stderr is not None
            return self.process.stderr.read()


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_two_terminal_workflow_and_clean_stop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Serve, start jobs from its command line and from start-job, wait with the
    printed environment only, refuse bad jobs naming the field, stop on SIGTERM."""
    served = Served(
        "--job",
        "early:0.2",
        "--medical-job",
        "visit:0.1",
        "--call-analytics-job",
        "early:0.1",
        "--medical-scribe-job",
        "visit:0",
    )
    try:
        assert served.line_starting("started standard job early")
        assert served.line_starting("started call-analytics job early: COMPLETED in 0.1 s")
        assert served.line_starting("started medical-scribe job visit: COMPLETED in 0 s")
        export = served.line_starting("  export AWS_ENDPOINT_URL_TRANSCRIBE=")
        url = export.partition("=")[2]
        assert url.startswith("http://127.0.0.1:")
        # S3, where medical and Medical Scribe output is: moto's own URL.
        s3 = served.line_starting("  export AWS_ENDPOINT_URL_S3=").partition("=")[2]
        assert s3.startswith("http://127.0.0.1:")
        assert s3 != url
        assert served.line_starting("  export AWS_ACCESS_KEY_ID=testing")
        region = served.line_starting("  export AWS_DEFAULT_REGION=").partition("=")[2]
        served.line_starting("Stop with Ctrl-C")
        # Terminal 2: the printed environment, and nothing else, finds the test bed.
        monkeypatch.setenv("AWS_ENDPOINT_URL_TRANSCRIBE", url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        argv = ["local", "start-job", "call-1", "--duration", "0.3", "--redaction", "redacted"]
        assert main([*argv, "--transcript", "Hello there. How are you?", "--speakers", "2"]) == 0
        assert "started standard job call-1: COMPLETED in 0.3 s" in capsys.readouterr().out
        assert served.line_starting("started standard job call-1")
        failing = ["bad", "--medical", "--fail-with", "Bad audio", "--duration", "0"]
        assert main(["local", "start-job", *failing]) == 0
        capsys.readouterr()

        status, answer = post(url + JOBS_PATH, b'{"name": "x", "duration": -1}')
        assert (status, answer) == (400, {"error": "duration must be finite and >= 0, got -1"})
        status, answer = post(url + JOBS_PATH, b'{"name": "x", "durration": 1}')
        assert status == 400
        assert answer["error"].startswith("unknown field 'durration'")
        status, answer = post(url + JOBS_PATH, b"call-2")
        assert status == 400
        assert answer["error"].startswith("the body is not JSON")
        with pytest.raises(SystemExit) as caught:  # refused: a usage error, exit 2
            main(["local", "start-job", "call-1"])
        assert caught.value.code == 2
        assert "error: job refused: a standard job named 'call-1' exists already" in (
            capsys.readouterr().err
        )
        # The other kinds: --kind, with the options that apply to them.
        argv = ["local", "start-job", "call-1", "--kind", "call-analytics", "--duration", "0.2"]
        assert main([*argv, "--redaction", "redacted"]) == 0
        assert "started call-analytics job call-1: COMPLETED" in capsys.readouterr().out
        assert served.line_starting("started call-analytics job call-1")
        argv = ["local", "start-job", "note", "--kind", "medical-scribe", "--duration", "0"]
        assert main([*argv, "--fail-with", "No speech"]) == 0
        with pytest.raises(SystemExit) as caught:
            main([*argv, "--redaction", "redacted"])
        assert caught.value.code == 2
        assert "medical-scribe jobs have no redacted transcript" in capsys.readouterr().err
        with pytest.raises(SystemExit) as caught:
            main(["local", "start-job", "x", "--medical", "--kind", "call-analytics"])
        assert caught.value.code == 2
        assert "--medical and --kind call-analytics disagree" in capsys.readouterr().err

        argv = ["wait", "early", "call-1", "--medical", "visit", "--medical", "bad"]
        argv += ["--call-analytics", "early", "--call-analytics", "call-1"]
        argv += ["--medical-scribe", "visit", "--medical-scribe", "note", "--fetch", "text"]
        assert main(argv) == 1
        records = {
            (r["job"], r["kind"]): r for r in map(json.loads, capsys.readouterr().out.splitlines())
        }
        assert records["early", "standard"]["outcome"] == "COMPLETED"
        assert records["visit", "medical"]["outcome"] == "COMPLETED"
        # --fetch text, with the printed environment alone: the medical job's through S3.
        assert records["visit", "medical"]["transcript"] == "This is the transcript of job visit."
        assert records["call-1", "standard"]["transcript"] == "Hello there. How are you?"
        assert records["bad", "medical"]["transcript"] is None
        assert all(record["fetch_error"] is None for record in records.values())
        assert records["bad", "medical"]["failure_reason"] == "Bad audio"
        assert "X-Amz-Signature=" in records["call-1", "standard"]["redacted_transcript_uri"]
        assert records["early", "call-analytics"]["outcome"] == "COMPLETED"
        call = records["call-1", "call-analytics"]
        assert "X-Amz-Signature=" in call["redacted_transcript_uri"]
        assert call["expires_at"] is not None
        assert records["visit", "medical-scribe"]["clinical_document_uri"] is not None
        assert records["note", "medical-scribe"]["failure_reason"] == "No speech"
    finally:
        err = served.terminate()
    assert served.process.returncode == 0, err
    assert "SIGTERM: the local test bed has stopped" in err
    assert "Traceback" not in err


def test_a_taken_port_is_reported_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exit 1 with the port and what to do, at once."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["local", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--port 0" in err


def test_local_without_the_local_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without moto's server (the local extra), one line says what to install, exit 2,
    as the demo does."""
    monkeypatch.setitem(sys.modules, "moto.server", None)
    assert main(["local", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "transcribe-poller: local runs on the local test bed, which needs: "
        "pip install 'transcribe-poller[local]'\n"
    )


def test_bad_jobs_on_the_command_line_are_all_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every bad --job, --medical-job and jobs-file line, before the test bed starts."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        '# the nightly batch\n{"name": "ok", "duration": 2}\n'
        '{"name": "no", "fail_with": ""}\n\nnot json\n'
        '{"name": "ca", "kind": "call-analytics", "redaction": "redacted"}\n'
        '{"name": "note", "kind": "medical-scribe", "subtitles": ["vtt"]}\n'
    )
    with pytest.raises(SystemExit) as caught:
        main(["local", "--job", "a b:1", "--medical-job", "c;"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--job a b: name: invalid job name 'a b'" in err
    assert "--medical-job c;: name: invalid job name 'c;'" in err
    with pytest.raises(SystemExit):
        main(["local", "--medical-scribe-job", "d:x"])
    assert "argument --medical-scribe-job: expected a number, got 'x'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["local", "--call-analytics-job", "e f", "--medical-scribe-job", "g h:2"])
    err = capsys.readouterr().err
    assert "--call-analytics-job e f: name: invalid job name 'e f'" in err
    assert "--medical-scribe-job g h: name: invalid job name 'g h'" in err
    with pytest.raises(SystemExit):
        main(["local", "--jobs-file", str(jobs)])
    err = capsys.readouterr().err
    assert "3 bad lines in" in err
    assert f"{jobs}:3: fail_with must be a non-empty failure reason" in err
    assert f"{jobs}:5: " in err
    assert f"{jobs}:6: " not in err
    assert f"{jobs}:7: subtitles apply to standard jobs only" in err
    with pytest.raises(SystemExit):
        main(["local", "--job", "twice", "--job", "twice:3"])
    assert "the standard job 'twice' is given twice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "local",
                "--job",
                "once",
                "--call-analytics-job",
                "once",
                "--call-analytics-job",
                "once",
            ]
        )
    assert "the call-analytics job 'once' is given twice" in capsys.readouterr().err


def test_start_job_without_a_test_bed_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening at --at: exit 1, naming the URL and how to start one."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    assert main(["local", "start-job", "call-1", "--at", url]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach a test bed at {url}" in err
    assert "transcribe-poller local" in err


def test_events_reach_wait_in_another_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """local --events prints the SQS endpoint and the queue's URL; with them, and
    nothing else, wait --queue-url hears of jobs' ends from their events."""
    served = Served("--events", "--duplicate", "1", "--job", "early:0.2")
    try:
        assert served.line_starting("started standard job early")
        queue_line = served.line_starting("queue http://127.0.0.1:")
        assert queue_line.endswith("/transcribe-events (100% sent twice),")
        url = served.line_starting("  export AWS_ENDPOINT_URL_TRANSCRIBE=").partition("=")[2]
        sqs = served.line_starting("  export AWS_ENDPOINT_URL_SQS=").partition("=")[2]
        assert sqs.startswith("http://127.0.0.1:")
        assert sqs != url  # SQS is another endpoint, as on AWS
        region = served.line_starting("  export AWS_DEFAULT_REGION=").partition("=")[2]
        served.line_starting("  transcribe-poller wait ")
        option, queue, *outputs = served.line_starting("      --queue-url ").split()
        assert outputs == ["--output-events", "medical,medical-scribe"]
        assert queue == queue_line.split()[1]
        served.line_starting("Stop with Ctrl-C")
        for name, value in (
            ("AWS_ENDPOINT_URL_TRANSCRIBE", url),
            ("AWS_ENDPOINT_URL_SQS", sqs),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", region),
        ):
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        # Long enough to outlast wait's start: its first sweep sees it running, the
        # next is 30 s away, so its event ends it. early's two are in the queue already.
        argv = ["local", "start-job", "call-1", "--kind", "call-analytics", "--duration", "2"]
        assert main(argv) == 0
        capsys.readouterr()
        assert main(["wait", "early", "--call-analytics", "call-1", option, queue, *outputs]) == 0
        out, err = capsys.readouterr()
        outcomes = {(r["job"], r["kind"], r["outcome"]) for r in map(json.loads, out.splitlines())}
        assert outcomes == {
            ("early", "standard", "COMPLETED"),
            ("call-1", "call-analytics", "COMPLETED"),
        }
        assert re.search(r"Queue: \d+ SQS requests, [1-9]\d* messages?\.", err), err
    finally:
        err = served.terminate()
    assert served.process.returncode == 0, err


def test_event_options_need_events(capsys: pytest.CaptureFixture[str]) -> None:
    """--loss and --duplicate without --events: a usage error before anything starts."""
    with pytest.raises(SystemExit) as caught:
        main(["local", "--loss", "0.1", "--duplicate", "0.2"])
    assert caught.value.code == 2
    assert "--loss and --duplicate only apply with --events" in capsys.readouterr().err


def test_a_jobs_file_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """local --jobs-file of bytes that are not UTF-8: exit 2 before anything starts, one
    line naming the file and the (1-based) line of the first bad bytes."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(b'# tonight\n{"name": "ok"}\n{"name": "caf\xe9"}\n{"name": "\xff"}\n')
    with pytest.raises(SystemExit) as caught:
        main(["local", "--jobs-file", str(jobs)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        f"transcribe-poller: error: {jobs}:3: not UTF-8 text (byte 0xe9 at column 14); "
        "save it as UTF-8\n"
    )


@pytest.mark.parametrize("bad", ["mars-west-9", "US-EAST-1", "eu-west-1a"])
def test_local_with_a_region_transcribe_lacks_is_a_usage_error(bad: str) -> None:
    """local --region naming no region of Transcribe: exit 2 at once, one line, nothing
    served (moto has no such region either)."""
    # A subprocess: a test bed that started instead would serve until stopped.
    command = [sys.executable, "-m", "transcribe_poller", "local", "--port", "0", "--region", bad]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert f"argument --region: Transcribe has no region {bad!r}; " in done.stderr
