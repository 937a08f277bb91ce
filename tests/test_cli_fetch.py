"""`wait --fetch`: each completed job's transcript in its line or in a file of its own,
on the local test bed (presigned URIs over HTTP, the caller's bucket through moto's S3)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import structlog

from transcribe_poller import JobRef
from transcribe_poller._cli._main import main
from transcribe_poller._cli._transcripts import file_name
from transcribe_poller.testing import LocalTranscribe

HELLO = "Hello there. How are you today? Fine, thanks."
VISIT = "The patient reports a mild headache. No fever."


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures structlog for the process, as a command should; undo it."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def bed(local_transcribe: LocalTranscribe, monkeypatch: pytest.MonkeyPatch) -> LocalTranscribe:
    """The test bed, with the environment `transcribe-poller local` prints: dummy
    credentials, and S3 (for the caller's buckets) at moto's own URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", local_transcribe.moto_url)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return local_transcribe


def wait(bed: LocalTranscribe, *args: str) -> int:
    argv = ["wait", "--region", bed.region, "--endpoint-url", bed.endpoint_url]
    return main([*argv, "--not-found-grace", "0.5", *args])


def records(out: str) -> dict[tuple[str, str], dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines()]
    return {(str(r["job"]), str(r["kind"])): r for r in lines}


def test_fetch_text_puts_each_jobs_exact_text_in_its_line(
    bed: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """--fetch text: the text each job was given, exactly, as the line's transcript;
    a medical job's through S3, a standard one's over its presigned URI."""
    bed.start_job("call", duration=0, transcript=HELLO, speakers=2)
    bed.start_job("visit", kind="medical", duration=0, transcript=VISIT)
    assert wait(bed, "call", "--medical", "visit", "--fetch", "text") == 0
    out, err = capsys.readouterr()
    lines = records(out)
    assert lines["call", "standard"]["transcript"] == HELLO
    assert lines["visit", "medical"]["transcript"] == VISIT
    assert all(line["fetch_error"] is None for line in lines.values())
    assert "Transcripts: 2 fetched (" in err


def test_out_writes_one_file_per_job_kinds_apart(
    bed: LocalTranscribe, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--out DIR: a standard and a medical job of one name get a file each
    (NAME.EXT, NAME@KIND.EXT), named on their lines; no partial file is left."""
    bed.start_job("visit", duration=0, transcript=HELLO, speakers=2)
    bed.start_job("visit", kind="medical", duration=0, transcript=VISIT)
    argv = ["visit", "--medical", "visit", "--fetch", "json", "--out", str(tmp_path)]
    assert wait(bed, *argv) == 0
    lines = records(capsys.readouterr().out)
    standard, medical = tmp_path / "visit.json", tmp_path / "visit@medical.json"
    assert lines["visit", "standard"]["transcript_file"] == str(standard)
    assert lines["visit", "medical"]["transcript_file"] == str(medical)
    assert "transcript" not in lines["visit", "standard"]
    assert json.loads(standard.read_text("utf-8"))["results"]["transcripts"] == [
        {"transcript": HELLO}
    ]
    assert json.loads(medical.read_text("utf-8"))["results"]["transcripts"] == [
        {"transcript": VISIT}
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "visit.json",
        "visit@medical.json",
    ]
    # Subtitles: made from the segments, the speakers' labels as voices.
    assert wait(bed, "visit", "--fetch", "vtt", "--out", str(tmp_path)) == 0
    vtt = (tmp_path / "visit.vtt").read_text("utf-8")
    assert vtt.startswith("WEBVTT\n")
    assert "<v spk_0>Hello there." in vtt


def test_a_failed_fetch_says_why_on_its_line_and_exits_1(
    bed: LocalTranscribe, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 unreachable: the medical job's line says why, naming the job and the S3
    endpoint asked, exit 1; the standard job's line has its transcript; a FAILED
    job's line has neither (its failure_reason says why)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", nobody)
    bed.start_job("call", duration=0, transcript=HELLO)
    bed.start_job("bad", duration=0, fail_with="Unsupported media")
    bed.start_job("visit", kind="medical", duration=0, transcript=VISIT)
    argv = ["call", "bad", "--medical", "visit", "--fetch", "text", "--fetch-timeout", "0.5"]
    assert wait(bed, *argv) == 1
    out, err = capsys.readouterr()
    lines = records(out)
    assert len(lines) == 3
    assert lines["call", "standard"]["transcript"] == HELLO
    assert lines["call", "standard"]["fetch_error"] is None
    visit = lines["visit", "medical"]
    assert visit["outcome"] == "COMPLETED"
    assert visit["transcript"] is None
    assert str(visit["fetch_error"]).startswith(
        "transcript of job medical:visit: not fetched within 0.5 s (--fetch-timeout): "
        f"S3 at {nobody} "
    )
    bad = lines["bad", "standard"]
    assert (bad["failure_reason"], bad["transcript"], bad["fetch_error"]) == (
        "Unsupported media",
        None,
        None,
    )
    assert "Transcripts: 1 fetched (" in err
    assert ", 1 failed." in err


def test_output_deleted_after_the_job_is_told_with_the_s3_asked(
    bed: LocalTranscribe, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A medical job's output deleted from its bucket: its line says it is gone and
    which S3 was asked, and it gets no file; the standard job's file is written."""
    bed.start_job("call", duration=0, transcript=HELLO)
    script = bed.start_job("gone", kind="medical", duration=0)
    s3: Any = botocore.session.get_session().create_client("s3", **bed.s3_client_kwargs())
    bucket, key = str(script.output_bucket), "medical/gone.json"
    deadline = time.monotonic() + 5
    while not s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
        assert time.monotonic() < deadline, "the test bed never wrote the output"
        time.sleep(0.02)
    s3.delete_object(Bucket=bucket, Key=key)
    argv = ["call", "--medical", "gone", "--fetch", "text", "--out", str(tmp_path)]
    assert wait(bed, *argv) == 1
    lines = records(capsys.readouterr().out)
    assert lines["call", "standard"]["transcript_file"] == str(tmp_path / "call.txt")
    assert (tmp_path / "call.txt").read_text("utf-8") == HELLO + "\n"
    gone = lines["gone", "medical"]
    assert gone["transcript_file"] is None
    assert gone["fetch_error"] == (
        f"transcript of job medical:gone (s3://{bucket}/{key}): the output is gone "
        f"(NoSuchKey): deleted after the job (asked S3 at {bed.moto_url})"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["call.txt"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--out", "."], "--out needs --fetch FORMAT: text, json, srt or vtt"),
        (["--fetch-timeout", "3"], "--fetch-timeout needs --fetch FORMAT"),
        (["--fetch", "text", "--out", "{missing}"], "no such directory (create it first)"),
        (["--fetch", "text", "--out", "{file}"], ": not a directory"),
        (["--fetch", "pdf"], "argument --fetch: invalid choice: 'pdf'"),
        (["--fetch", "srt", "--fetch-timeout", "0"], "argument --fetch-timeout: expected a"),
    ],
)
def test_bad_fetch_options_are_usage_errors_before_anything_is_sent(
    bed: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    options: list[str],
    message: str,
) -> None:
    """Exit 2, one line saying what is wrong; not one request sent."""
    file = tmp_path / "a-file"
    file.write_text("")
    places = {"missing": str(tmp_path / "missing"), "file": str(file)}
    with pytest.raises(SystemExit) as caught:
        wait(bed, "call", *(option.format(**places) for option in options))
    assert caught.value.code == 2
    assert message in capsys.readouterr().err
    assert bed.traffic().total.requests == 0


def test_the_file_of_each_kind() -> None:
    """NAME.EXT for a standard job; the kind after an @, which no job name holds, for
    the others: no two jobs share a file."""
    assert file_name(JobRef.standard("call-1"), "text") == "call-1.txt"
    assert file_name(JobRef.call_analytics("call-1"), "srt") == "call-1@call-analytics.srt"
    assert file_name(JobRef.medical("a.medical"), "json") == "a.medical@medical.json"
    assert file_name(JobRef.medical_scribe("v"), "vtt") == "v@medical-scribe.vtt"
