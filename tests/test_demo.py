"""The demo: its mix of jobs of every kind, the check of what each reports, its tables
(the latency histogram: every bucket counted, the tail visible), all in 80 columns."""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from typing import Any

import pytest

from transcribe_poller import CompletionEvent, JobKind, JobRef, Outcome, Segment
from transcribe_poller._cli._demo import (
    as_scripted,
    first_line,
    kind_counts,
    opening,
    plan_jobs,
)
from transcribe_poller._cli._demo_report import (
    DemoResult,
    PushResult,
    PushSettings,
    TranscriptShown,
    latency_histogram,
    per_kind_table,
    push_report,
    transcript_lines,
)
from transcribe_poller._cli._progress import LINE_WIDTH
from transcribe_poller.testing import JobSpec, ScriptedJob
from transcribe_poller.testing._control import SPEC_DEFAULTS
from transcribe_poller.testing._script import default_bucket

DEFAULT_MIX = {
    JobKind.STANDARD: 100,
    JobKind.MEDICAL: 50,
    JobKind.CALL_ANALYTICS: 30,
    JobKind.MEDICAL_SCRIBE: 20,
}


def test_the_mix_has_every_kind_a_few_failing_some_redacted() -> None:
    """Each kind gets its jobs, 5% of them failing; Call Analytics and standard jobs
    are sometimes redacted, never the medical kinds; every plan is a valid script."""
    plans = plan_jobs(DEFAULT_MIX, random.Random(7), 30.0)
    assert len(plans) == 200
    for kind, count in DEFAULT_MIX.items():
        mine = [plan for job, plan in plans.items() if job.kind is kind]
        assert len(mine) == count
        assert sum("fail_with" in plan for plan in mine) == round(count * 0.05)
        redacted = sum("redaction" in plan for plan in mine)
        if kind in (JobKind.STANDARD, JobKind.CALL_ANALYTICS):
            assert 0 < redacted < count
        else:
            assert redacted == 0
        assert all(2.0 <= plan["duration"] <= 30.0 for plan in mine)
    for job, plan in plans.items():
        spec = {**SPEC_DEFAULTS, **plan, "kind": job.kind}
        spec["output_bucket"] = default_bucket(job.kind, None)
        JobSpec(job.name, **spec)  # raises if the test bed would refuse it
    assert plan_jobs(DEFAULT_MIX, random.Random(7), 30.0) == plans  # the seed decides
    # Every job says something; standard and medical jobs label their two speakers.
    assert all(plan["transcript"] for plan in plans.values())
    assert {job.kind for job, plan in plans.items() if plan.get("speakers") == 2} == {
        JobKind.STANDARD,
        JobKind.MEDICAL,
    }


def event(job: JobRef, **fields: Any) -> CompletionEvent:
    return CompletionEvent(job=job, outcome=Outcome.COMPLETED, **fields)


def script(job: JobRef, **fields: Any) -> ScriptedJob:
    spec = {**SPEC_DEFAULTS, "kind": job.kind, **fields}
    spec["output_bucket"] = default_bucket(job.kind, spec["output_bucket"])
    return JobSpec(job.name, **spec).script(time.time())


def test_an_event_must_tell_what_its_kind_produces() -> None:
    """A right outcome is not enough: the outputs must be those of the job's kind and
    redaction, and a failure must carry the job's reason."""
    call = JobRef.call_analytics("call-1")
    redacted = script(call, redaction="redacted")
    assert as_scripted(event(call, redacted_transcript_uri="r"), redacted)
    assert not as_scripted(event(call, transcript_uri="t"), redacted)
    both = script(call, redaction="redacted_and_unredacted")
    assert as_scripted(event(call, transcript_uri="t", redacted_transcript_uri="r"), both)
    scribe = JobRef.medical_scribe("visit-1")
    note = script(scribe)
    assert as_scripted(event(scribe, transcript_uri="t", clinical_document_uri="c"), note)
    assert not as_scripted(event(scribe, transcript_uri="t"), note)
    failing = script(scribe, fail_with="No speech")
    failed = CompletionEvent(job=scribe, outcome=Outcome.FAILED, failure_reason="No speech")
    assert as_scripted(failed, failing)
    assert not as_scripted(failed, note)
    other = CompletionEvent(job=scribe, outcome=Outcome.FAILED, failure_reason="Other")
    assert not as_scripted(other, failing)


def test_per_kind_table_fits_80_columns() -> None:
    """One row per kind started, within 80 columns even with large numbers."""
    counts = {**DEFAULT_MIX, JobKind.MEDICAL: 0, JobKind.STANDARD: 123_456}
    jobs = [JobRef(f"j{i}", kind) for kind in JobKind for i in range(3)]
    result = DemoResult(
        events=[event(job, redacted_transcript_uri="r") for job in jobs],
        latencies=[123.4] * len(jobs),
        wrong=0,
        requests=99_999,
        throttled=0,
        faults=0,
        elapsed=1.0,
        requests_by_kind={kind: 33_333 for kind in JobKind},
    )
    rows = per_kind_table(result, counts)
    assert [row.split()[0] for row in rows] == [
        "kind",
        "standard",
        "call-analytics",
        "medical-scribe",
    ]
    assert rows[1].split()[1:] == ["123456", "0", "3", "123.4", "s", "123.4", "s", "11111.00"]
    assert max(map(len, rows)) <= LINE_WIDTH


def test_opening_lines_fit_a_terminal() -> None:
    """The demo says what it started, kind by kind, in lines of 80 columns at most."""
    args = argparse.Namespace(longest=30.0, quota=12.5, faults=True, push=False)
    counts = dict.fromkeys(JobKind, 99_999)
    text = opening("http://127.0.0.1:65535", counts, args)
    assert max(map(len, text.splitlines())) <= LINE_WIDTH
    assert "99999 call-analytics, 99999 medical-scribe" in text
    assert "399996 jobs started, each taking up to 30 s:" in text
    assert "push" not in text
    pushed = argparse.Namespace(**vars(args), loss=0.125, duplicate=1.0, reconcile=1234.5)
    pushed.push = True
    text = opening("http://127.0.0.1:65535", counts, pushed)
    assert max(map(len, text.splitlines())) <= LINE_WIDTH
    assert "12.5% lost, 100% duplicated" in text
    assert "reconciling sweeps every 1234.5 s" in text


def push_result(arrived: int, swept: int, *, big: bool = False) -> DemoResult:
    """A demo's result with push: standard and medical jobs whose event arrived, and
    ``swept`` of each with none; huge numbers when ``big``."""
    scale = 1000.0 if big else 1.0
    jobs = [JobRef.standard(f"s{i}") for i in range(arrived + swept)]
    jobs += [JobRef.medical(f"m{i}") for i in range(arrived + swept)]
    push = PushResult(
        settings=PushSettings("http://127.0.0.1:1/123456789012/q", 0.1, 0.05, 30.0),
        arrived={JobKind.STANDARD: [0.2 * scale] * arrived, JobKind.MEDICAL: [0.5] * arrived},
        swept={
            JobKind.STANDARD: [(5.0 + i) * scale for i in range(swept)],
            JobKind.MEDICAL: [9.0] * swept,
        },
        sent=arrived,
        lost_events=swept,
        duplicated=2,
        queue_requests=len(jobs) * 2,
        queue_messages=len(jobs) + 2,
        output_rereads=3,
    )
    n = len(jobs)
    return DemoResult(
        events=[event(job) for job in jobs],
        latencies=[0.5 * scale] * n,
        wrong=0,
        requests=n + 3,
        throttled=0,
        faults=0,
        elapsed=1.0,
        requests_by_kind={JobKind.STANDARD: n // 2 + 4, JobKind.MEDICAL: n // 2 + 6},
        push=push,
    )


def test_push_report_sets_arrived_and_swept_side_by_side() -> None:
    """Per kind: jobs whose event arrived and those a sweep found, their p50 and p95
    after the status changed, and requests per job; then what the queue took."""
    lines = push_report(push_result(90, 10))
    text = " ".join(" ".join(lines).split())
    assert text.startswith("push, every kind (10% of events lost, reconciling sweeps every 30 s)")
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("    ")}
    assert rows["kind"] == ["jobs", "p50", "p95", "jobs", "p50", "p95", "requests/job"]
    assert rows["standard"] == ["90", "0.20", "0.20", "10", "9.00", "14.00", "1.04"]
    assert rows["medical"] == ["90", "0.50", "0.50", "10", "9.00", "9.00", "1.06"]
    assert "SQS: 2.00 requests per job (400 requests, 202 messages)" in text
    assert "3 Gets repeated while a status lagged its output" in text


def test_push_report_fits_80_columns() -> None:
    """Huge counts and latencies stay within 80 columns."""
    lines = push_report(push_result(123_456, 12_345, big=True))
    assert max(map(len, lines)) <= LINE_WIDTH


def test_push_report_with_no_swept_job() -> None:
    """A kind with every event arrived shows a dash where there is nothing to measure."""
    rows = {line.split()[0]: line.split()[1:] for line in push_report(push_result(3, 0))}
    assert rows["standard"][3:6] == ["0", "-", "-"]


def test_the_transcript_shown_fits_80_columns() -> None:
    """One job's transcript: a heading naming it, then its first line, cut to 80
    columns; a fetch that failed says why instead, wrapped."""
    job = JobRef.medical_scribe("demo-1a2b3c-medical-scribe-0000")
    long = Segment(0.0, 12.25, "word " * 40, "CLINICIAN_0")
    assert first_line(long, "").startswith("CLINICIAN_0 0.0-12.2 s: word word")
    assert first_line(Segment(0.4, 1.0, "Hi."), "") == "0.4-1.0 s: Hi."
    assert first_line(None, "Just text.") == "Just text."
    lines = transcript_lines(TranscriptShown(job, first_line(long, ""), seconds=0.012))
    assert lines[0] == f"  {job.name}'s transcript, fetched in 12 ms, begins:"
    assert lines[1].startswith("    CLINICIAN_0 0.0-12.2 s: word")
    assert lines[1].endswith("…")
    reason = f"transcript of job {job} (s3://bucket/key): " + "the output is gone " * 8
    failed = transcript_lines(TranscriptShown(job, error=reason))
    assert failed[0].endswith("was not fetched:")
    assert failed[1].startswith(f"    transcript of job {job}")
    assert max(map(len, lines + failed)) <= LINE_WIDTH


def test_histogram_counts_each_bucket() -> None:
    """Edges belong to the bucket above them; one line per bucket, in order."""
    latencies = [0.1, 0.49, 0.5, 0.9, 1.0, 1.5, 1.99, 2.0, 7.0, 10.0, 42.0]
    rows = [re.match(r"\s+(\S+ s)\s+(\d+)", line) for line in latency_histogram(latencies)]
    assert [(row[1], int(row[2])) for row in rows if row] == [
        ("<0.5 s", 2),
        ("0.5-1 s", 2),
        ("1-2 s", 3),
        ("2-5 s", 1),
        ("5-10 s", 1),
        (">=10 s", 2),
    ]


def test_histogram_keeps_a_lone_slow_job_visible() -> None:
    """Bars scale to the fullest bucket, yet a single job still gets a #; empty gets none."""
    lines = latency_histogram([0.7] * 5000 + [12.0])
    assert lines[1].endswith("#" * 20)
    assert lines[-1].endswith(" 1  #")
    assert "#" not in lines[0]


def test_histogram_fits_80_columns() -> None:
    """No line is wider than 80 columns, the fullest bar included."""
    lines = latency_histogram([0.2] * 123_456 + [3.0] * 7)
    assert max(len(line) for line in lines) == 80


def test_histogram_of_nothing_is_empty() -> None:
    """No latencies, no histogram (the demo then prints none)."""
    assert latency_histogram([]) == []


def test_demo_without_the_local_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without moto's server (the local extra) the demo says in one line what to install."""
    from transcribe_poller._cli._demo import run as run_demo
    from transcribe_poller._cli._main import build_parser

    monkeypatch.setitem(sys.modules, "moto.server", None)
    assert run_demo(build_parser().parse_args(["demo"])) == 2
    assert capsys.readouterr().err == (
        "transcribe-poller: the demo runs on the local test bed, which needs: "
        "pip install 'transcribe-poller[local]'\n"
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (100, 50, 30, 20)),
        (["--jobs", "20"], (10, 5, 3, 2)),
        (["--jobs", "5"], (3, 1, 1, 0)),
        (["--medical", "0"], (100, 0, 30, 20)),
        (["--jobs", "20", "--medical", "0"], (13, 0, 4, 3)),
        (["--jobs", "7", "--call-analytics", "2"], (3, 1, 2, 1)),
        (
            ["--standard", "4", "--medical", "0", "--call-analytics", "0", "--medical-scribe", "1"],
            (4, 0, 0, 1),
        ),
    ],
)
def test_jobs_is_the_number_in_all(argv: list[str], expected: tuple[int, ...]) -> None:
    """--jobs N starts N jobs in all, split by the default mix among the kinds not
    given a count of their own; without it, those kinds have their defaults."""
    from transcribe_poller._cli._main import build_parser

    counts = kind_counts(build_parser().parse_args(["demo", *argv]))
    assert tuple(counts.values()) == expected


def test_the_demo_reads_its_options_without_writing_them() -> None:
    """--push's defaults fill the demo's settings, not the options parsed."""
    from transcribe_poller._cli._demo import demo_settings
    from transcribe_poller._cli._main import build_parser

    args = build_parser().parse_args(["demo", "--push", "--loss", "0.5"])
    before = dict(vars(args))
    settings = demo_settings(args)
    assert vars(args) == before
    assert (settings.loss, settings.duplicate, settings.reconcile) == (0.5, 0.05, 30.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--jobs", "3", "--medical", "5"], "the kinds given add up to 5 jobs, more than --jobs 3"),
        (
            [
                "--jobs",
                "9",
                "--standard",
                "1",
                "--medical",
                "1",
                "--call-analytics",
                "1",
                "--medical-scribe",
                "1",
            ],
            "--jobs 9 but every kind's count is given, adding up to 4",
        ),
    ],
)
def test_jobs_that_cannot_be_split_is_a_usage_error(argv: list[str], message: str) -> None:
    """Counts per kind that do not fit --jobs are a usage error naming both."""
    from transcribe_poller._cli._main import build_parser
    from transcribe_poller._cli._status import UsageError

    with pytest.raises(UsageError) as refused:
        kind_counts(build_parser().parse_args(["demo", *argv]))
    assert str(refused.value) == message
