"""`transcribe-poller submit MANIFEST`: the command as a subprocess against the local
test bed (its endpoint and region passed as options, dummy credentials in the
environment), and the manifest's reading and the per-kind options alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from transcribe_poller import JobKind, JobRef
from transcribe_poller._cli._args import per_kind, per_kind_value, positive, whole_positive
from transcribe_poller._cli._manifest import (
    NAME_KEYS,
    START_OPERATIONS,
    Manifest,
    check,
    open_manifest,
)
from transcribe_poller._cli._status import UsageError
from transcribe_poller._cli._submit import EXAMPLES
from transcribe_poller.testing import LocalTranscribe

TIMEOUT = 60.0  # seconds; every run below ends in about one


def run_time(job: JobRef) -> float:
    """Jobs end as soon as they start, but those named slow-*: awaited a while."""
    return 0.3 if job.name.startswith("slow-") else 0.0


@pytest.fixture(scope="module")
def quick_bed() -> Iterator[LocalTranscribe]:
    with LocalTranscribe(run_time=run_time) as bed:
        yield bed


@pytest.fixture
def bed(quick_bed: LocalTranscribe) -> Iterator[LocalTranscribe]:
    quick_bed.reset()
    yield quick_bed
    quick_bed.reset()


@dataclass
class Ran:
    status: int
    lines: list[dict[str, Any]]
    err: str

    def by_job(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(line["job"], line["kind"]): line for line in self.lines}


def submit(
    bed: LocalTranscribe, *args: str, stdin: str | None = None, credentials: bool = True
) -> Ran:
    """``transcribe-poller submit ARGS`` against the bed, as a user runs it: with the
    bed's dummy credentials, or none anywhere."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    if credentials:
        environment.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    else:
        environment.update(
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_CONFIG_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",  # no instance role lookup
        )
    command = [sys.executable, "-m", "transcribe_poller", "submit", *args]
    command += ["--region", bed.region, "--endpoint-url", bed.endpoint_url]
    done = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=TIMEOUT,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return Ran(done.returncode, lines, done.stderr)


def standard(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://in/{name}.wav"},
        "LanguageCode": "en-US",
        "OutputBucketName": "out",
        **extra,
    }


def call_analytics(name: str) -> dict[str, Any]:
    return {
        "CallAnalyticsJobName": name,
        "Media": {"MediaFileUri": f"s3://in/{name}.wav"},
        "OutputLocation": "s3://out/calls/",
        "DataAccessRoleArn": "arn:aws:iam::123456789012:role/transcribe",
    }


def manifest(path: Path, *requests: dict[str, Any], head: str = "") -> Path:
    path.write_text(head + "".join(json.dumps(request) + "\n" for request in requests))
    return path


def completed(name: str, kind: str, uri: str) -> dict[str, Any]:
    """A COMPLETED job's line, less its polls and waited."""
    return {
        "job": name,
        "kind": kind,
        "outcome": "COMPLETED",
        "transcript_uri": uri,
        "redacted_transcript_uri": None,
        "subtitle_uris": [],
        "clinical_document_uri": None,
        "expires_at": None,
        "failure_reason": None,
        "error": None,
    }


def without_timing(line: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(line["polls"], int)
    assert isinstance(line["waited"], float | int)
    return {key: value for key, value in line.items() if key not in ("polls", "waited")}


BATCH = (
    standard("call-1"),
    standard("slow-call-2"),
    standard("call-3", OutputKey="calls/call-3.json"),
    call_analytics("call-1"),
)
BATCH_LINES = {
    ("call-1", "standard"): completed(
        "call-1", "standard", "https://s3.us-east-1.amazonaws.com/out/call-1.json"
    ),
    ("slow-call-2", "standard"): completed(
        "slow-call-2", "standard", "https://s3.us-east-1.amazonaws.com/out/slow-call-2.json"
    ),
    ("call-3", "standard"): completed(
        "call-3", "standard", "https://s3.us-east-1.amazonaws.com/out/calls/call-3.json"
    ),
    ("call-1", "call-analytics"): completed(
        "call-1", "call-analytics", "https://s3.us-east-1.amazonaws.com/out/calls/call-1.json"
    ),
}


def test_a_manifest_completes_and_a_rerun_adopts_every_job(
    bed: LocalTranscribe, tmp_path: Path
) -> None:
    """3 standard and 1 Call Analytics job (comments and blank lines skipped): each
    started once and reported once, exit 0. The same manifest again starts nothing:
    every job is adopted and reported with the same line, its script untouched."""
    path = manifest(tmp_path / "batch.jsonl", *BATCH, head="# tonight's calls\n\n")
    ran = submit(bed, str(path))
    assert ran.status == 0, ran.err
    assert {key: without_timing(line) for key, line in ran.by_job().items()} == BATCH_LINES
    assert len(ran.lines) == 4
    assert ran.by_job()["slow-call-2", "standard"]["polls"] >= 1
    assert "4 jobs in " in ran.err
    assert "4 COMPLETED." in ran.err
    scripts = bed.scripts
    assert sorted(scripts) == sorted((JobKind(kind), name) for name, kind in BATCH_LINES)
    traffic = bed.traffic().by_operation
    assert traffic["StartTranscriptionJob"].requests == 3
    assert traffic["StartCallAnalyticsJob"].requests == 1

    bed.reset_traffic()
    again = submit(bed, str(path))
    assert again.status == 0, again.err
    assert {key: without_timing(line) for key, line in again.by_job().items()} == BATCH_LINES
    assert len(again.lines) == 4
    # Counted from the lines: the poller's own figures miss jobs adopted as ended.
    assert "4 COMPLETED." in again.err
    assert "unfinished" not in again.err
    assert bed.scripts == scripts  # none started twice: the same jobs, the same starts
    starts = bed.traffic().by_operation
    # At most one Start per job (each refused: the name is in use), never a new job.
    assert starts["StartTranscriptionJob"].requests <= 3
    assert starts["StartCallAnalyticsJob"].requests <= 1


def test_a_bad_line_is_file_and_line_exit_2_and_nothing_sent(
    bed: LocalTranscribe, tmp_path: Path
) -> None:
    """Every bad line is named FILE:LINE with its reason, before any request."""
    path = tmp_path / "batch.jsonl"
    good = json.dumps(standard("call-1"))
    path.write_text(
        "\n".join(
            [
                good,
                "# a comment",
                '{"TranscriptionJobName": "call-2", "Media": {}}',
                good,
                '{"TranscriptionJobName": "call 3", "Media": {"MediaFileUri": "s3://x"}}',
                '{"Media": {"MediaFileUri": "s3://in/x.wav"}}',
                '{"TranscriptionJobName": "call-4",',
                json.dumps(standard("call-5", LanguageCode=3)),
                json.dumps(call_analytics("call-1")),  # another kind: not a repeat
            ]
        )
        + "\n"
    )
    ran = submit(bed, str(path))
    assert ran.status == 2
    assert ran.lines == []
    assert ran.err.splitlines() == [
        f"transcribe-poller: error: 6 bad lines in {path}:",
        f'{path}:3: no Media.MediaFileUri: the recording, e.g. "Media": '
        '{"MediaFileUri": "s3://..."}',
        f"{path}:4: TranscriptionJobName 'call-1' again: line 1 starts that job already",
        f"{path}:5: TranscriptionJobName: invalid job name 'call 3': may only hold "
        "0-9 a-z A-Z . _ - (found ' ')",
        f"{path}:6: no job name: the request needs one of TranscriptionJobName, "
        "MedicalTranscriptionJobName, CallAnalyticsJobName, MedicalScribeJobName",
        f"{path}:7: not JSON: Expecting property name enclosed in double quotes at column 35",
        f"{path}:8: botocore would refuse it: Invalid type for parameter LanguageCode, "
        "value: 3, type: <class 'int'>, valid types: <class 'str'>",
    ]
    assert bed.traffic().total.requests == 0
    assert bed.scripts == {}


def test_standard_input_is_read_as_a_manifest(bed: LocalTranscribe) -> None:
    """'-': the requests come from standard input; a bad line there is <stdin>:LINE."""
    lines = [json.dumps(request) for request in (standard("piped-1"), call_analytics("piped-2"))]
    ran = submit(bed, "-", stdin="\n".join(lines) + "\n")
    assert ran.status == 0, ran.err
    assert {key: without_timing(line) for key, line in ran.by_job().items()} == {
        ("piped-1", "standard"): completed(
            "piped-1", "standard", "https://s3.us-east-1.amazonaws.com/out/piped-1.json"
        ),
        ("piped-2", "call-analytics"): completed(
            "piped-2", "call-analytics", "https://s3.us-east-1.amazonaws.com/out/calls/piped-2.json"
        ),
    }
    bad = submit(bed, "-", stdin=lines[0] + "\n[1, 2]\n")
    assert bad.status == 2
    assert bad.err == (
        "transcribe-poller: error: <stdin>:2: expected a JSON object of Start parameters, "
        "got list\n"
    )


def test_a_start_the_service_refuses_is_that_jobs_error_and_the_rest_complete(
    bed: LocalTranscribe, tmp_path: Path
) -> None:
    """Job queueing asked without a role: the service's BadRequestException is that
    job's ERROR line, naming the field; the other jobs complete; exit 1."""
    queued = standard("queued", JobExecutionSettings={"AllowDeferredExecution": True})
    path = manifest(tmp_path / "batch.jsonl", standard("fine-1"), queued, call_analytics("fine-2"))
    ran = submit(bed, str(path))
    assert ran.status == 1, ran.err
    lines = ran.by_job()
    assert {key: line["outcome"] for key, line in lines.items()} == {
        ("fine-1", "standard"): "COMPLETED",
        ("queued", "standard"): "ERROR",
        ("fine-2", "call-analytics"): "COMPLETED",
    }
    assert lines["queued", "standard"]["error"] == (
        "job queued was not started: the service refused it (BadRequestException): "
        "JobExecutionSettings needs both AllowDeferredExecution and DataAccessRoleArn."
    )
    assert "2 COMPLETED, 1 ERROR." in ran.err
    assert ("queued", "standard") not in {(name, kind.value) for kind, name in bed.scripts}


def test_no_credentials_stops_at_the_first_start_with_3(
    bed: LocalTranscribe, tmp_path: Path
) -> None:
    """Nothing can be signed: one ERROR line, the rest not sent, exit 3, how to resume."""
    path = manifest(tmp_path / "batch.jsonl", *(standard(f"call-{i}") for i in range(5)))
    ran = submit(bed, str(path), credentials=False)
    assert ran.status == 3, ran.err
    assert [line["outcome"] for line in ran.lines] == ["ERROR"]
    assert "5 jobs in " in ran.err
    assert "4 unfinished" in ran.err
    assert "To resume, run the same submit again" in ran.err
    assert bed.traffic().total.requests == 0


# -- without the bed ------------------------------------------------------------------


def test_every_kind_has_its_name_key_and_start_operation() -> None:
    """As Poller.submit reads a request: a new JobKind must be added here too."""
    assert sorted(NAME_KEYS.values()) == sorted(JobKind)
    assert sorted(START_OPERATIONS) == sorted(JobKind)


def test_the_help_examples_pass_the_check() -> None:
    """One line of each kind, as the help and docs show them: all accepted."""
    read = Manifest(source="help", path="")
    check(EXAMPLES, read, copy=lambda line: None)
    assert read.kinds == dict.fromkeys(JobKind, 1)


def test_the_docs_show_the_help_examples() -> None:
    """docs/cli.md's manifest example is the help's, line for line."""
    docs = (Path(__file__).parent.parent / "docs" / "cli.md").read_text("utf-8")
    section = docs.split("### The manifest", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    assert [line for line in section.splitlines() if line.startswith("{")] == list(EXAMPLES)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_manifest_that_cannot_be_read_twice_is_spooled(tmp_path: Path) -> None:
    """A pipe (``submit <(command)``) is read once, into a copy the batch reads: no
    request lost to a second reading that finds the pipe empty."""
    fifo = tmp_path / "requests"
    os.mkfifo(fifo)
    lines = "".join(json.dumps(standard(f"piped-{i}")) + "\n" for i in range(3))
    writer = threading.Thread(target=fifo.write_text, args=(lines,))
    writer.start()
    with open_manifest(str(fifo)) as read:
        writer.join()
        assert read.source == str(fifo)
        assert [request["TranscriptionJobName"] for request in read.requests()] == [
            "piped-0",
            "piped-1",
            "piped-2",
        ]
        assert read.read_error is None
        spool = Path(read.path)
        assert spool.exists()
    assert not spool.exists()


def test_a_manifest_that_shrank_since_the_check_says_so(tmp_path: Path) -> None:
    """Requests missing at the second reading are an error, never jobs passed over."""
    path = manifest(tmp_path / "batch.jsonl", standard("a"), standard("b"))
    with open_manifest(str(path)) as read:
        manifest(path, standard("a"))
        assert len(list(read.requests())) == 1
    assert read.read_error == f"{path} has 1 request now, 2 when it was checked"


def test_an_empty_manifest_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^m\.jsonl: no requests"):
        check(["# nothing\n", "\n"], Manifest(source="m.jsonl", path=""), copy=lambda line: None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], None),
        (["10"], 10),
        (["10", "20"], 20),
        (["call-analytics=5"], {"call-analytics": 5}),
        (
            ["call-analytics=5", "10"],
            {"standard": 10, "medical": 10, "call-analytics": 5, "medical-scribe": 10},
        ),
    ],
)
def test_max_running_per_kind(given: list[str], expected: object) -> None:
    """N for every kind, KIND=N for one, whatever the order: the Poller's option."""
    assert per_kind_value([per_kind(whole_positive)(text) for text in given]) == expected


def test_start_rate_takes_fractions() -> None:
    assert per_kind_value([per_kind(positive)("medical=0.5")]) == {"medical": 0.5}
