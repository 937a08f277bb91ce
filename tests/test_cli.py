"""The command line against the local test bed: JSON lines, exit codes, job files, demo."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
import structlog

import transcribe_poller
from transcribe_poller import JobKind, JobRef, ServiceUnreachableError
from transcribe_poller._cli._args import region_problem, transcribe_regions
from transcribe_poller._cli._jobfile import JobFileError, parse_job_lines
from transcribe_poller._cli._main import main
from transcribe_poller._cli._wait import ENDPOINT_VARIABLES, check_region, could_not_reach
from transcribe_poller.testing import LocalTranscribe

KEYS = {
    "job",
    "kind",
    "outcome",
    "transcript_uri",
    "redacted_transcript_uri",
    "subtitle_uris",
    "clinical_document_uri",
    "expires_at",
    "failure_reason",
    "error",
    "polls",
    "waited",
}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures structlog for the process, as a command should; undo it."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def run(bed: LocalTranscribe, *args: str) -> int:
    return main(
        [
            "wait",
            "--region",
            bed.region,
            "--endpoint-url",
            bed.endpoint_url,
            "--not-found-grace",
            "0.5",
            *args,
        ]
    )


def client_error(code: str, status: int) -> botocore.exceptions.ClientError:
    response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return botocore.exceptions.ClientError(response, "GetTranscriptionJob")  # type: ignore[arg-type]


def lines(out: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        assert set(record) >= KEYS
    return records


@pytest.mark.usefixtures("aws_env")
def test_all_completed_prints_json_lines_and_exits_0(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every job COMPLETED: one JSON line each, exit 0; stderr has no presigned query."""
    local_transcribe.start_job("one", duration=0.3, redaction="redacted")
    local_transcribe.start_job("two", duration=0.1)
    local_transcribe.start_job("two", kind="medical", duration=0.2)
    assert run(local_transcribe, "one", "two", "--medical", "two") == 0
    out, err = capsys.readouterr()
    records = lines(out)
    assert sorted((r["job"], r["kind"], r["outcome"]) for r in records) == [
        ("one", "standard", "COMPLETED"),
        ("two", "medical", "COMPLETED"),
        ("two", "standard", "COMPLETED"),
    ]
    one = next(r for r in records if r["job"] == "one")
    assert one["transcript_uri"] is None
    assert "X-Amz-Signature=" in str(one["redacted_transcript_uri"])
    assert "X-Amz-Signature" not in err
    assert "3 jobs in" in err
    assert "3 COMPLETED" in err


def by_job(out: str) -> dict[tuple[object, object], dict[str, object]]:
    return {(r["job"], r["kind"]): r for r in lines(out)}


def expiry(record: dict[str, object]) -> datetime | None:
    value = record["expires_at"]
    return None if value is None else datetime.fromisoformat(str(value))


@pytest.mark.usefixtures("aws_env")
def test_every_kind_prints_what_it_produces(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """--call-analytics and --medical-scribe: each JSON line carries its kind's output
    (a redacted call, a clinical note) and when its presigned URIs expire."""
    bed = local_transcribe
    bed.start_job("talk", duration=0, subtitles=["vtt"])
    bed.start_job("visit-1", kind="medical", duration=0)
    bed.start_job("call-1", kind="call-analytics", duration=0.1, redaction="redacted")
    bed.start_job("call-2", kind="call-analytics", duration=0)
    bed.start_job("visit-1", kind="medical-scribe", duration=0.1)
    argv = ["talk", "--medical", "visit-1", "--call-analytics", "call-1"]
    argv += ["--medical-scribe", "visit-1", "--call-analytics", "call-2"]
    started = datetime.now(timezone.utc)
    assert run(bed, *argv) == 0
    out, err = capsys.readouterr()
    records = by_job(out)
    assert set(records) == {
        ("talk", "standard"),
        ("visit-1", "medical"),
        ("call-1", "call-analytics"),
        ("call-2", "call-analytics"),
        ("visit-1", "medical-scribe"),
    }
    assert {r["outcome"] for r in records.values()} == {"COMPLETED"}
    call = records["call-1", "call-analytics"]
    assert call["transcript_uri"] is None
    assert "X-Amz-Signature=" in str(call["redacted_transcript_uri"])
    assert call["clinical_document_uri"] is None
    # Presigned in the service's bucket: they expire about 15 minutes after the Get.
    for key in (("call-1", "call-analytics"), ("call-2", "call-analytics"), ("talk", "standard")):
        expires = expiry(records[key])
        assert expires is not None
        assert started + timedelta(seconds=890) < expires < started + timedelta(seconds=910)
    assert "X-Amz-Signature=" in str(records["call-2", "call-analytics"]["transcript_uri"])
    assert len(records["talk", "standard"]["subtitle_uris"]) == 1  # type: ignore[arg-type]
    scribe = records["visit-1", "medical-scribe"]
    assert str(scribe["transcript_uri"]).endswith("/visit-1/transcript.json")
    assert str(scribe["clinical_document_uri"]).endswith("/visit-1/summary.json")
    assert scribe["redacted_transcript_uri"] is None
    # The user's own bucket: nothing presigned, nothing expires.
    assert scribe["expires_at"] is None
    assert records["visit-1", "medical"]["expires_at"] is None
    assert "5 jobs in" in err
    assert "X-Amz-Signature" not in err


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("jobs", [1, 12], ids=["gets", "sweeps"])
def test_waiting_again_renews_presigned_uris_at_the_first_get(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str], jobs: int
) -> None:
    """What the help promises: `wait` on finished jobs answers each at its first Get,
    with URIs signed anew; also when there are enough jobs to sweep their kind."""
    bed = local_transcribe
    names = [f"done-{i}" for i in range(jobs)]
    argv: list[str] = []
    for name in names:
        bed.start_job(name, duration=0, redaction="redacted_and_unredacted")
        bed.start_job(name, kind="call-analytics", duration=0, redaction="redacted")
        bed.start_job(name, kind="medical-scribe", duration=0)
        argv += [name, "--call-analytics", name, "--medical-scribe", name]
    assert run(bed, *argv) == 0
    first = by_job(capsys.readouterr().out)
    bed.reset_traffic()
    again = datetime.now(timezone.utc).replace(microsecond=0)
    assert run(bed, *argv) == 0
    second = by_job(capsys.readouterr().out)
    assert set(second) == set(first)
    assert len(second) == 3 * jobs
    for key, record in second.items():
        assert (record["outcome"], record["polls"]) == ("COMPLETED", 1), key
        expires = expiry(record)
        if key[1] == "medical-scribe":
            assert expires is None
            continue
        assert expires is not None
        assert expires >= again + timedelta(seconds=900), key  # signed by this run's Get
        assert expires >= expiry(first[key])  # type: ignore[operator]
    requests = Counter[str]()
    for operation, counts in bed.traffic().by_operation.items():
        requests[operation[:3]] += counts.requests
    assert requests["Get"] == 3 * jobs
    assert (requests["Lis"] > 0) == (jobs >= 10)  # 10 pending jobs of a kind: it is swept


@pytest.mark.usefixtures("aws_env")
def test_mixed_outcomes_exit_1(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """FAILED jobs of any kind and an unknown job make the exit status 1; all reported."""
    local_transcribe.start_job("good", duration=0.1)
    local_transcribe.start_job("bad", duration=0.1, fail_with="Unsupported media")
    local_transcribe.start_job("note", kind="medical-scribe", duration=0, fail_with="No speech")
    argv = ["good", "bad", "ghost", "--medical-scribe", "note", "--call-analytics", "ghost"]
    assert run(local_transcribe, *argv) == 1
    records = by_job(capsys.readouterr().out)
    assert records["good", "standard"]["outcome"] == "COMPLETED"
    assert records["bad", "standard"]["outcome"] == "FAILED"
    assert records["bad", "standard"]["failure_reason"] == "Unsupported media"
    assert records["note", "medical-scribe"]["outcome"] == "FAILED"
    assert records["note", "medical-scribe"]["failure_reason"] == "No speech"
    assert records["ghost", "standard"]["outcome"] == "NOT_FOUND"
    assert records["ghost", "call-analytics"]["outcome"] == "NOT_FOUND"


@pytest.mark.usefixtures("aws_env")
def test_only_unknown_jobs_exit_1(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jobs that do not exist are NOT_FOUND, exit 1; the region and endpoint asked are
    named, since a wrong region looks like a misspelled name."""
    assert run(local_transcribe, "--medical", "nobody") == 1
    out, err = capsys.readouterr()
    [record] = lines(out)
    assert (record["job"], record["kind"], record["outcome"]) == ("nobody", "medical", "NOT_FOUND")
    asked = f"region {local_transcribe.region} at {local_transcribe.endpoint_url}"
    assert f"the job was not found in {asked}" in err


@pytest.mark.usefixtures("aws_env")
def test_missing_jobs_are_told_once_on_stdout_not_again_on_stderr(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """50 missing jobs: 50 JSON lines on stdout, and on stderr only the summary and
    what was asked, no warning line per job; with -v, each job's line too."""
    names = [f"ghost-{i:02d}" for i in range(50)]
    assert run(local_transcribe, *names) == 1
    out, err = capsys.readouterr()
    assert [r["outcome"] for r in lines(out)] == ["NOT_FOUND"] * 50
    progress = re.compile(r"transcribe-poller: \d+/50 jobs")  # one every 10 s, if that slow
    told = [line for line in err.splitlines() if not progress.match(line)]
    assert len(told) == 2, err  # was 52: a warning line per job besides
    assert told[0].startswith("50 jobs in ")
    assert told[1].startswith("transcribe-poller: none of the 50 jobs was found in")
    assert run(local_transcribe, *names[:3], "-v") == 1
    err = capsys.readouterr().err
    assert err.count("job finished") == 3
    assert err.count("outcome=NOT_FOUND") == 3


@pytest.mark.parametrize(
    ("options", "variables", "message"),
    [
        (["--endpoint-url", "127.0.0.1:4566"], {}, "argument --endpoint-url: expected a URL"),
        ([], {"AWS_ENDPOINT_URL_TRANSCRIBE": "127.0.0.1:4566"}, "$AWS_ENDPOINT_URL_TRANSCRIBE"),
        ([], {"AWS_ENDPOINT_URL": "localhost:4566"}, "$AWS_ENDPOINT_URL: expected a URL"),
        (["--region", "us east 1"], {}, "argument --region: expected a region"),
    ],
)
def test_a_bad_endpoint_or_region_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    variables: dict[str, str],
    message: str,
) -> None:
    """An endpoint without a scheme (option or variable) or a malformed region: exit 2
    with one line saying so, no traceback."""
    for name in ("AWS_ENDPOINT_URL_TRANSCRIBE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as caught:
        main(["wait", "job-1", "--region", "us-east-1", *options])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("bad", ["has space", "x" * 201, "semi;colon"])
def test_invalid_name_is_a_usage_error_and_sends_nothing(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    """An invalid name exits 2 with a message naming it; no request is made."""
    local_transcribe.start_job("fine", duration=0)
    with pytest.raises(SystemExit) as caught:
        run(local_transcribe, "fine", bad)
    assert caught.value.code == 2
    assert repr(bad)[:40] in capsys.readouterr().err
    assert local_transcribe.traffic().total.requests == 0


def test_no_jobs_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Naming no job at all exits 2."""
    with pytest.raises(SystemExit) as caught:
        main(["wait", "--region", "us-east-1"])
    assert caught.value.code == 2
    assert "no jobs given" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "no AWS region: pass --region or configure one"),
        (["--region", "us-east-1", "--profile", "nope"], "(nope) could not be found"),
    ],
)
def test_missing_region_or_profile_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    options: list[str],
    message: str,
) -> None:
    """No region anywhere, or an unknown profile: exit 2 with what to pass instead."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(SystemExit) as caught:
        main(["wait", "job-1", *options])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_job_file_lines() -> None:
    """Blank lines and # comments are skipped; a kind's prefix picks the kind."""
    text = (
        "# a batch\n\nalpha\n  medical:alpha  \nstandard:beta # inline note\n"
        "call-analytics:alpha\nmedical-scribe:visit-9\n"
    )
    assert parse_job_lines(io.StringIO(text), "jobs.txt") == [
        JobRef.standard("alpha"),
        JobRef.medical("alpha"),
        JobRef.standard("beta"),
        JobRef.call_analytics("alpha"),
        JobRef.medical_scribe("visit-9"),
    ]


def test_every_kind_has_a_job_file_prefix() -> None:
    """Each JobKind's value is a prefix, and str(JobRef) reads back as the same job."""
    refs = [JobRef(f"job-{kind.value}", kind) for kind in JobKind]
    text = "".join(f"{ref}\n" for ref in refs)
    assert parse_job_lines(io.StringIO(text), "jobs.txt") == refs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok\ndental:x\n", "jobs.txt:2: unknown prefix 'dental'"),
        ("ok\n\nbad name\n", "jobs.txt:3: invalid job name 'bad name'"),
        ("medical:\n", "jobs.txt:1: invalid job name ''"),
    ],
)
def test_bad_job_file_lines_name_file_and_line(text: str, message: str) -> None:
    """A bad line is reported with its file and line number."""
    with pytest.raises(JobFileError, match=message):
        parse_job_lines(io.StringIO(text), "jobs.txt")


def test_every_bad_job_file_line_is_reported() -> None:
    """Not only the first bad line: each one, as file:line: reason, under a count."""
    text = "ok\ndental:x\n\nbad name\nfine # note\nmedical:\n"
    with pytest.raises(JobFileError) as caught:
        parse_job_lines(io.StringIO(text), "jobs.txt")
    assert str(caught.value).splitlines() == [
        "3 bad lines in jobs.txt:",
        "jobs.txt:2: unknown prefix 'dental' in 'dental:x'; use NAME, standard:NAME, "
        "medical:NAME, call-analytics:NAME, medical-scribe:NAME",
        "jobs.txt:4: invalid job name 'bad name': may only hold 0-9 a-z A-Z . _ - (found ' ')",
        "jobs.txt:6: invalid job name '': must not be empty",
    ]


def test_a_flood_of_bad_lines_is_cut_short() -> None:
    """A file that is not a job list at all reports 20 lines and how many more."""
    with pytest.raises(JobFileError) as caught:
        parse_job_lines(io.StringIO("a,b,c\n" * 50), "data.csv")
    lines = str(caught.value).splitlines()
    assert lines[0] == "50 bad lines in data.csv:"
    assert lines[20].startswith("data.csv:20: ")
    assert lines[-1] == "... and 30 more"
    assert len(caught.value.problems) == 50


@pytest.mark.usefixtures("aws_env")
def test_from_file_and_stdin(
    local_transcribe: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--from-file reads a file, and '-' reads standard input; a bad line exits 2."""
    local_transcribe.start_job("f1", duration=0)
    local_transcribe.start_job("f2", kind="medical", duration=0)
    local_transcribe.start_job("f3", kind="call-analytics", duration=0)
    local_transcribe.start_job("f4", kind="medical-scribe", duration=0)
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("# nightly\nf1\n\nmedical:f2\ncall-analytics:f3\nmedical-scribe:f4\n")
    assert run(local_transcribe, "--from-file", str(jobs)) == 0
    assert {(r["job"], r["kind"]) for r in lines(capsys.readouterr().out)} == {
        ("f1", "standard"),
        ("f2", "medical"),
        ("f3", "call-analytics"),
        ("f4", "medical-scribe"),
    }
    monkeypatch.setattr(sys, "stdin", io.StringIO("medical:f2\n"))
    assert run(local_transcribe, "--from-file", "-") == 0
    assert [r["job"] for r in lines(capsys.readouterr().out)] == ["f2"]
    jobs.write_text("f1\nwhat:is this\nf2\nno way\n")
    with pytest.raises(SystemExit) as caught:
        run(local_transcribe, "--from-file", str(jobs))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"{jobs}:2: unknown prefix 'what'" in err
    assert f"{jobs}:4: invalid job name 'no way'" in err
    with pytest.raises(SystemExit):
        run(local_transcribe, "--from-file", str(tmp_path / "missing.txt"))
    assert "cannot read" in capsys.readouterr().err


def test_demo_reports_the_right_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """A small demo of every kind finishes with every job reported as scripted, and
    figures per kind, in 80 columns."""
    argv = ["demo", "--standard", "6", "--medical", "3", "--call-analytics", "4"]
    argv += ["--medical-scribe", "3", "--longest", "0.3", "--seed", "3"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "16 reported of 16, 0 wrong outcomes or outputs" in out
    assert "detection latency" in out
    assert "requests/job" in out
    assert "Detection latency: from the moment" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert (rows["standard"], rows["medical"]) == ("6", "3")
    assert (rows["call-analytics"], rows["medical-scribe"]) == ("4", "3")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "6 standard, 3 medical, 4 call-analytics, 3 medical-scribe" in err
    # The first job to complete: its transcript fetched, its first line shown.
    shown = re.search(
        r"\n  (demo-\w+-[\w-]+)'s transcript, fetched in \d+ ms, begins:\n(.*)\n", out
    )
    assert shown is not None, out
    assert re.fullmatch(r"    \S+ 0\.0-\d+\.\d s: \S.*", shown[2]), shown[2]


def test_demo_of_one_kind_only(capsys: pytest.CaptureFixture[str]) -> None:
    """Kinds asked for none of are left out of what the demo says; no job at all is
    a usage error."""
    argv = ["demo", "--standard", "0", "--medical", "0", "--call-analytics", "2"]
    argv += ["--medical-scribe", "0", "--longest", "0.3"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "2 reported of 2" in out
    assert "standard" not in out
    assert "  2 call-analytics\n" in err
    with pytest.raises(SystemExit) as caught:  # a usage error, as argparse's own
        main([*argv[:6], "0", *argv[7:]])
    assert caught.value.code == 2
    assert "needs at least one job" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_with_130(local_transcribe: LocalTranscribe, tmp_path: Path) -> None:
    """SIGINT while waiting: polling stops, a summary is printed, exit status 130."""
    local_transcribe.start_job("quick", duration=0)
    local_transcribe.start_job("endless", duration=3600)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    command = [sys.executable, "-m", "transcribe_poller", "wait", "quick", "endless"]
    command += ["--region", "us-east-1", "--endpoint-url", local_transcribe.endpoint_url]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # "quick" has finished
        assert first["job"] == "quick"
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "1 unfinished" in err
    assert "interrupted" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--job-timeout", "0", "expected a positive number"),
        ("--max-rate", "nan", "expected a positive number"),
        ("--not-found-grace", "-1", "expected a number >= 0"),
        ("--max-rate", "fast", "expected a number"),
        ("--queue-url", "transcribe-events", "expected the queue's URL"),
    ],
)
def test_bad_option_values_are_usage_errors(
    capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    """A bad number exits 2 and names the option."""
    with pytest.raises(SystemExit) as caught:
        main(["wait", "job-1", option, value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert option in err
    assert message in err


@pytest.mark.usefixtures("aws_env")
def test_names_may_follow_options(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """`wait a --medical m b` waits for a, b and the medical m."""
    for name in ("a", "b"):
        local_transcribe.start_job(name, duration=0)
    local_transcribe.start_job("m", kind="medical", duration=0)
    assert run(local_transcribe, "a", "--medical", "m", "b") == 0
    assert sorted(r["job"] for r in lines(capsys.readouterr().out)) == ["a", "b", "m"]
    with pytest.raises(SystemExit):
        run(local_transcribe, "a", "--colour")
    assert "unrecognized arguments: --colour" in capsys.readouterr().err


def test_a_closed_stdout_stops_quietly(local_transcribe: LocalTranscribe) -> None:
    """`wait ... | head -1`: once stdout is gone, polling stops without a traceback."""
    for i in range(3):
        local_transcribe.start_job(f"p{i}", duration=0.1 * i)
    local_transcribe.start_job("p-long", duration=3600)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-m", "transcribe_poller", "wait", "p0", "p1", "p2", "p-long"]
    command += ["--region", "us-east-1", "--endpoint-url", local_transcribe.endpoint_url]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        json.loads(process.stdout.readline())
        process.stdout.close()  # the reader goes away, as head does
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1
    assert "Traceback" not in err


@pytest.mark.usefixtures("aws_env")
def test_verbose_goes_before_or_after_the_subcommand(
    local_transcribe: LocalTranscribe, capsys: pytest.CaptureFixture[str]
) -> None:
    """`wait NAME -v` logs like `-v wait NAME`; the two add up (-v ... -v is debug)."""
    local_transcribe.start_job("loud", duration=0)
    assert run(local_transcribe, "loud", "-v") == 0
    err = capsys.readouterr().err
    assert "job finished" in err
    assert "[debug" not in err
    url = local_transcribe.endpoint_url
    argv = ["-v", "wait", "--region", "us-east-1", "--endpoint-url", url, "loud", "--verbose"]
    assert main(argv) == 0
    assert "[debug" in capsys.readouterr().err


def test_wait_help_names_every_kind_and_when_uris_expire(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The help lists an option and a job file prefix per kind, expires_at, and the
    way to fresh URIs."""
    with pytest.raises(SystemExit):
        main(["wait", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for kind in JobKind:
        if kind is not JobKind.STANDARD:
            assert f"--{kind.value} NAME" in text
            assert f"{kind.value}:NAME" in text
    assert "clinical_document_uri, expires_at" in text
    assert "expire after about 15 minutes" in text
    assert "run wait again on the same names" in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package's version and exits 0."""
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"transcribe-poller {transcribe_poller.__version__}\n"


def test_sigterm_stops_cleanly_with_143(local_transcribe: LocalTranscribe) -> None:
    """SIGTERM while waiting: polling stops, the summary is printed, exit status 143."""
    local_transcribe.start_job("quick", duration=0)
    local_transcribe.start_job("endless", duration=3600)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-m", "transcribe_poller", "wait", "quick", "endless"]
    command += ["--region", "us-east-1", "--endpoint-url", local_transcribe.endpoint_url]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["job"] == "quick"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert "2 jobs in" in err
    assert "1 COMPLETED, 1 unfinished" in err
    assert "terminated; polling stopped" in err
    assert "Traceback" not in err


def test_no_credentials_exits_3(
    local_transcribe: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With no credentials anywhere, every job is an ERROR and the exit status is 3."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role lookup
    local_transcribe.start_job("signed", duration=0)
    assert run(local_transcribe, "signed", "--medical", "signed") == 3
    out, err = capsys.readouterr()
    assert {r["outcome"] for r in lines(out)} == {"ERROR"}
    assert "could not reach Transcribe or sign in" in err
    assert err.count("no AWS credentials found") == 1  # said once on stderr
    assert "giving up: no AWS credentials" in err
    assert "cannot be reached" not in err
    assert local_transcribe.traffic().total.requests == 0


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServiceUnreachableError("http://127.0.0.1:9", "connection refused"), True),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"), True),
        (botocore.exceptions.NoCredentialsError(), True),
        (client_error("UnrecognizedClientException", 400), True),
        (client_error("ExpiredTokenException", 400), True),
        (client_error("AccessDeniedException", 400), False),
        (client_error("InternalFailureException", 500), False),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), False),
        (None, False),
    ],
)
def test_what_counts_as_could_not_reach(error: BaseException | None, expected: bool) -> None:
    """Unreachable, or credentials missing, invalid or expired: exit 3. Access denied: 1."""
    assert could_not_reach(error) is expected


def queue_figures(err: str) -> tuple[int, int]:
    """The SQS requests and messages the summary counts."""
    found = re.search(r"Queue: (\d+) SQS requests?, (\d+) messages?\.", err)
    assert found is not None, err
    return int(found[1]), int(found[2])


@pytest.mark.usefixtures("aws_env")
def test_a_queue_url_brings_job_ends_as_events(
    local_transcribe_events: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--queue-url with AWS_ENDPOINT_URL_SQS: standard and Call Analytics jobs are read
    at once and then when their event comes; medical jobs are polled as before."""
    bed = local_transcribe_events
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", bed.moto_url)
    # No List for the kinds the queue covers: no sweep can find their jobs first, so
    # each is found by its event whenever the poller starts (else per-job Gets
    # would come only after 300 s, and --job-timeout would end it).
    bed.set_faults(denied=["ListTranscriptionJobs", "ListCallAnalyticsJobs"])
    # Long enough to outlast the command's start, so that their events bring them.
    bed.start_job("pushed", duration=2.0)
    bed.start_job("call", kind="call-analytics", duration=2.0)
    bed.start_job("polled", kind="medical", duration=0.1)
    argv = ["pushed", "--call-analytics", "call", "--medical", "polled", "--job-timeout", "30"]
    assert run(bed, *argv, "--queue-url", bed.events_queue_url) == 0
    out, err = capsys.readouterr()
    assert {(r["job"], r["outcome"]) for r in lines(out)} == {
        ("pushed", "COMPLETED"),
        ("call", "COMPLETED"),
        ("polled", "COMPLETED"),
    }
    traffic = bed.traffic()
    # The first look at once (a job may have ended before it was awaited), then the
    # Get the event asked for.
    assert traffic.job(JobRef.standard("pushed")).requests == 2
    assert traffic.job(JobRef.call_analytics("call")).requests == 2
    requests, messages = queue_figures(err)
    assert requests >= 2
    assert messages == 2


@pytest.mark.usefixtures("aws_env")
def test_output_events_push_medical_jobs_and_the_queue_url_names_its_host(
    local_transcribe: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--output-events medical,medical-scribe with no SQS endpoint configured: the
    queue URL's own host is asked, and medical jobs, which no List can find, end
    when their output objects are announced, with two Gets each."""
    bed = local_transcribe
    url = bed.enable_events(output_events=True, output_lead=(0.0, 0.0))
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    bed.set_faults(denied=["ListMedicalTranscriptionJobs", "ListMedicalScribeJobs"])
    bed.start_job("visit", kind="medical", duration=0.5)
    bed.start_job("consult", kind="medical-scribe", duration=0.6)
    argv = ["--medical", "visit", "--medical-scribe", "consult", "--job-timeout", "30"]
    argv += ["--queue-url", url, "--output-events", "medical,medical-scribe"]
    assert run(bed, *argv) == 0
    out = capsys.readouterr().out
    assert {(r["job"], r["outcome"]) for r in lines(out)} == {
        ("visit", "COMPLETED"),
        ("consult", "COMPLETED"),
    }
    # The first look at once (a job may have ended before it was awaited), then the
    # read its output object brought.
    # The first look at once, and the Get its output object asks for; one alone when
    # the command started after the job had ended (a slow start on a busy machine).
    assert bed.traffic().job(JobRef.medical("visit")).requests in (1, 2)
    assert bed.traffic().job(JobRef.medical_scribe("consult")).requests in (1, 2)


def test_output_events_need_a_queue(capsys: pytest.CaptureFixture[str]) -> None:
    """--output-events without --queue-url, or naming no kind: usage errors, exit 2."""
    with pytest.raises(SystemExit) as raised:
        main(["wait", "x", "--output-events", "medical"])
    assert raised.value.code == 2
    assert "--output-events needs --queue-url" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["wait", "x", "--queue-url", "https://h/q", "--output-events", "medical,dental"])
    assert raised.value.code == 2
    # The option and the kinds by their names on the command line, not Python's.
    err = capsys.readouterr().err
    assert err.endswith(
        "argument --output-events: unknown kind 'dental'; the kinds are standard, medical, "
        "call-analytics, medical-scribe (separated by commas: medical,medical-scribe)\n"
    )
    assert "output_events" not in err


@pytest.mark.usefixtures("aws_env")
def test_a_queue_that_cannot_be_read_exits_4(
    local_transcribe_events: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A queue missing at the SQS endpoint: exit 4 at once, saying what to check;
    nothing is printed on stdout and Transcribe is never asked."""
    bed = local_transcribe_events
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", bed.moto_url)
    bed.start_job("never-asked", duration=0)
    missing = bed.events_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    assert run(bed, "never-asked", "--queue-url", missing) == 4
    out, err = capsys.readouterr()
    assert out == ""
    assert f"cannot use the queue {missing}" in err
    assert "AWS_ENDPOINT_URL_SQS" in err
    assert "sqs:ReceiveMessage" in err
    assert "Traceback" not in err
    assert bed.traffic().total.requests == 0


def test_a_queue_without_credentials_exits_3(
    local_transcribe_events: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """No credentials to read the queue with: exit 3, as for Transcribe, not 4."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", local_transcribe_events.moto_url)
    url = local_transcribe_events.events_queue_url
    assert run(local_transcribe_events, "signed", "--queue-url", url) == 3
    err = capsys.readouterr().err
    assert "could not reach SQS or sign in" in err
    assert "no AWS credentials found" in err


def test_demo_with_push_tells_what_events_changed(capsys: pytest.CaptureFixture[str]) -> None:
    """demo --push: events through the local SQS queue, half of them lost; the summary
    accounts for every standard job (after its event, before it, or event lost and
    found by a sweep) and gives requests to Transcribe and SQS per job, in 80 columns."""
    argv = ["demo", "--push", "--loss", "0.5", "--duplicate", "0.2", "--reconcile", "0.5"]
    argv += ["--standard", "8", "--medical", "2", "--call-analytics", "3", "--medical-scribe", "0"]
    argv += ["--longest", "0.3", "--seed", "3"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "13 reported of 13, 0 wrong outcomes or outputs" in out
    assert "push: job state events to an SQS queue, 50% lost, 20% duplicated," in err
    assert "Queue: " in err
    assert max(len(line) for line in out.splitlines()) <= 80
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:4] == "    "}
    # Every job of each kind is counted once: its event arrived, or a sweep found it.
    assert int(rows["standard"][0]) + int(rows["standard"][3]) == 8
    assert int(rows["medical"][0]) + int(rows["medical"][3]) == 2
    assert int(rows["standard"][3]) > 0  # the seed loses some: they were found anyway
    assert re.fullmatch(r"\d+\.\d\d", rows["call-analytics"][6])
    assert "SQS: " in out


def test_push_options_need_push(capsys: pytest.CaptureFixture[str]) -> None:
    """--loss, --duplicate and --reconcile without --push: a usage error, nothing run."""
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--loss", "0.2", "--reconcile", "5"])
    assert caught.value.code == 2
    assert "--loss, --reconcile only apply with --push" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["demo", "--push", "--loss", "1.5"])
    assert caught.value.code == 2
    assert "expected a fraction from 0 to 1, got '1.5'" in capsys.readouterr().err


# -- issue 22: a shared queue, job files that are not UTF-8, regions Transcribe lacks --


def job_state_event(name: str) -> str:
    """The body EventBridge puts in the queue when the standard job ``name`` completes."""
    detail = {"TranscriptionJobName": name, "TranscriptionJobStatus": "COMPLETED"}
    event = {"version": "0", "id": "1", "detail-type": "Transcribe Job State Change"}
    event |= {"source": "aws.transcribe", "time": "2026-01-01T00:00:00Z", "region": "us-east-1"}
    return json.dumps({**event, "resources": [], "detail": detail})


def jobs_in_queue(sqs: Any, url: str, seconds: float) -> set[str]:
    """The jobs named by the queue's messages, each read as it becomes visible within
    ``seconds`` (and then hidden for a minute, so it is read once)."""
    names: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60
        )
        for message in answer.get("Messages", []):
            names.add(json.loads(message["Body"])["detail"]["TranscriptionJobName"])
    return names


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(("options", "left"), [([], {"not-mine"}), (["--delete-others"], set())])
def test_messages_about_other_jobs_stay_in_the_queue_unless_told(
    local_transcribe_events: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    left: set[str],
) -> None:
    """wait --queue-url leaves a message about a job it does not await in the queue, for
    the shared queue's other readers; --delete-others deletes it."""
    bed = local_transcribe_events
    url = bed.events_queue_url
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", bed.moto_url)
    sqs = botocore.session.get_session().create_client("sqs", **bed.sqs_client_kwargs())
    # A message received and left comes back after a second, for the check below.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody=job_state_event("not-mine"))
    # Found by its event only (no List), a second later: the other message came first.
    bed.set_faults(denied=["ListTranscriptionJobs"])
    bed.start_job("mine", duration=1.0)
    assert run(bed, "mine", "--job-timeout", "30", "--queue-url", url, *options) == 0
    out, err = capsys.readouterr()
    assert [r["outcome"] for r in lines(out)] == ["COMPLETED"]
    assert queue_figures(err)[1] >= 2  # not-mine's message was received, then left or not
    # Whatever becomes of mine's own message (deleted as the poller closes, or not).
    assert jobs_in_queue(sqs, url, seconds=2.5) - {"mine"} == left


def test_delete_others_needs_a_queue(capsys: pytest.CaptureFixture[str]) -> None:
    """--delete-others without --queue-url: a usage error, exit 2."""
    with pytest.raises(SystemExit) as raised:
        main(["wait", "x", "--region", "us-east-1", "--delete-others"])
    assert raised.value.code == 2
    assert "--delete-others needs --queue-url" in capsys.readouterr().err


def test_wait_help_says_other_jobs_messages_are_left_and_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The help gives --delete-others, says leaving is the default, and why."""
    with pytest.raises(SystemExit):
        main(["wait", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--delete-others" in text
    assert "are left in the queue by default: a queue may be shared" in text
    assert "default: leave them, for the other readers of a shared queue" in text


def one_error_line(err: str) -> str:
    """stderr's only line, a usage error's; no traceback."""
    assert err.count("\n") == 1, err
    assert err.startswith("transcribe-poller: error: "), err
    return err


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        (b"# tonight\nalpha\ncaf\xe9-job\nbeta\n", 3, "byte 0xe9 at column 4"),
        ("alpha\nbeta\n".encode("utf-16"), 1, "it looks like UTF-16"),
        (b"alpha\r\nbeta # \xff\xfe\r\n", 2, "byte 0xff at column 8"),
    ],
)
def test_a_job_file_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, line: int, what: str
) -> None:
    """wait --from-file of bytes that are not UTF-8: exit 2, one line naming the file and
    the (1-based) line of the first bad bytes."""
    jobs = tmp_path / "jobs.txt"
    jobs.write_bytes(content)
    with pytest.raises(SystemExit) as caught:
        main(["wait", "--region", "us-east-1", "--from-file", str(jobs)])
    assert caught.value.code == 2
    err = one_error_line(capsys.readouterr().err)
    assert f"{jobs}:{line}: not UTF-8 text ({what}); save it as UTF-8" in err


# Python reads stdin strictly in an en_US.UTF-8 locale or with PYTHONIOENCODING, and
# with surrogateescape in the C and POSIX locales.
@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_stdin_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, errors: str
) -> None:
    """wait --from-file - reading bytes that are not UTF-8: exit 2, one line naming the
    line, whatever error handler Python gave stdin."""
    stdin = io.TextIOWrapper(io.BytesIO(b"alpha\n\xffbeta\n"), "utf-8", errors)
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(SystemExit) as caught:
        main(["wait", "--region", "us-east-1", "--from-file", "-"])
    assert caught.value.code == 2
    err = one_error_line(capsys.readouterr().err)
    assert "<stdin>:2: not UTF-8 text (byte 0xff at column 1)" in err


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup fails the test that tried it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the network was used: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.mark.usefixtures("aws_env", "no_network")
@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("mars-west-9", "the closest are us-west-2, us-west-1, us-east-2"),
        ("US-EAST-1", "the closest are us-east-1, "),
        ("eu-west-1a", "that is an availability zone: its region is eu-west-1"),
    ],
)
def test_a_region_transcribe_lacks_is_a_usage_error_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, bad: str, hint: str
) -> None:
    """--region naming no region of Transcribe: exit 2 at once, one line naming it and
    the closest known ones, nothing sent."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    with pytest.raises(SystemExit) as caught:
        main(["wait", "job-1", "--region", bad])
    assert caught.value.code == 2
    assert time.monotonic() - started < 5  # not after 15 s of retries
    err = one_error_line(capsys.readouterr().err)
    assert f"argument --region: Transcribe has no region {bad!r}; {hint}" in err
    assert "pass --endpoint-url" in err


@pytest.mark.parametrize("name", ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"])
def test_regions_transcribe_has_pass_the_check(name: str) -> None:
    """Regions of Transcribe, in the aws, aws-cn and aws-us-gov partitions, are taken."""
    assert name in transcribe_regions()
    assert region_problem(name) is None
    check_region(argparse.Namespace(command="wait", region=name, endpoint_url=None))


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("how", ["--endpoint-url", "AWS_ENDPOINT_URL_TRANSCRIBE"])
def test_an_endpoint_takes_any_region(
    local_transcribe: LocalTranscribe,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """With --endpoint-url (or $AWS_ENDPOINT_URL_TRANSCRIBE) any region is taken: the
    requests, signed for it, go to that endpoint."""
    bed = local_transcribe
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    argv = ["wait", "job-1", "--region", "mars-west-9", "--job-timeout", "0.5"]
    if how == "--endpoint-url":
        monkeypatch.delenv("AWS_ENDPOINT_URL_TRANSCRIBE", raising=False)
        argv += ["--endpoint-url", bed.endpoint_url]
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_TRANSCRIBE", bed.endpoint_url)
    # The test bed serves us-east-1 only: it answers mars-west-9 with errors.
    assert main(argv) != 2
    assert "has no region" not in capsys.readouterr().err
    assert bed.traffic().total.requests > 0
