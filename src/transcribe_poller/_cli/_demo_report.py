"""The demo's report: what it found (:class:`DemoResult`) and how it is shown, in
tables of 80 columns at most: the totals, each kind's figures, the latency
histogram, one job's transcript's first line, and with ``--push`` what the events
changed."""

from __future__ import annotations

import bisect
import itertools
import statistics
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .. import CompletionEvent, JobKind, JobRef, Outcome
from ._progress import LINE_WIDTH, plural

# Upper edges of the latency histogram's buckets, in seconds: fine where most jobs
# land, coarse in the tail, which is what the histogram is there to show.
LATENCY_EDGES = (0.5, 1.0, 2.0, 5.0, 10.0)
LATENCY_MEANS = (
    "Detection latency: from the moment a job's end could be read (its status COMPLETED "
    "or FAILED) to the poller's event for it."
)


@dataclass(frozen=True)
class PushSettings:
    """What ``--push`` asked for, and the queue the test bed made."""

    queue_url: str
    loss: float
    duplicate: float
    reconcile: float


@dataclass(frozen=True)
class PushResult:
    """What push did, per kind, from the test bed's ground truth.

    ``arrived``: for each kind, how long after its status changed each job whose
    event arrived (a Transcribe event, or an output object) was reported, in
    seconds. ``swept``: the same for jobs with no event (lost on purpose, or a
    failed medical job, which writes no output), found by reconciling sweeps.
    ``sent``, ``lost_events`` and ``duplicated`` count Transcribe's events
    (standard and Call Analytics); ``output_rereads`` the Gets repeated because
    an object came before its job's status changed.
    """

    settings: PushSettings
    arrived: Mapping[JobKind, list[float]]
    swept: Mapping[JobKind, list[float]]
    sent: int
    lost_events: int
    duplicated: int
    queue_requests: int
    queue_messages: int
    output_rereads: int = 0


@dataclass(frozen=True)
class TranscriptShown:
    """The transcript fetched of the first job to complete: its first line and how
    long the fetch took, or why it failed (neither while it is under way)."""

    job: JobRef
    first_line: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class DemoResult:
    """What one run of the demo found: each event with its detection latency, the
    events that were not as scripted, and the test bed's counts of the traffic."""

    events: list[CompletionEvent]
    latencies: list[float]  # of each event, in the same order
    wrong: int
    requests: int
    throttled: int
    faults: int
    elapsed: float
    requests_by_kind: Mapping[JobKind, int] = field(default_factory=dict)
    push: PushResult | None = None
    transcript: TranscriptShown | None = None


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _bucket_labels(edges: Sequence[float]) -> list[str]:
    labels = [f"<{edges[0]:g} s"]
    labels += [f"{low:g}-{high:g} s" for low, high in itertools.pairwise(edges)]
    return [*labels, f">={edges[-1]:g} s"]


def latency_histogram(
    latencies: Sequence[float],
    edges: Sequence[float] = LATENCY_EDGES,
    width: int = LINE_WIDTH,
) -> list[str]:
    """One line per bucket, ``label  count  ###``, none longer than ``width``.

    Bars are scaled to the fullest bucket, and a bucket with any job gets at least
    one ``#``: a single slow job is the tail worth seeing.
    """
    if not latencies:
        return []
    counts = [0] * (len(edges) + 1)
    for latency in latencies:
        counts[bisect.bisect_right(edges, latency)] += 1
    labels = _bucket_labels(edges)
    label_width = max(map(len, labels))
    count_width = len(str(max(counts)))
    room = width - 2 - label_width - 2 - count_width - 2
    peak = max(counts)
    lines = []
    for label, n in zip(labels, counts, strict=True):
        bar = "#" * max(1, round(room * n / peak)) if n else ""
        lines.append(f"  {label:>{label_width}}  {n:>{count_width}}  {bar}".rstrip())
    return lines


def percent(share: float) -> str:
    return f"{100 * share:.3g}%"


def push_report(result: DemoResult, width: int = LINE_WIDTH) -> list[str]:
    """What push did, in lines of ``width`` columns at most: per kind, how soon after
    its status changed each job was reported when its event arrived, and when it had
    none and a reconciling sweep found it, side by side; requests per job; what the
    queue took. Without --push, the same jobs (same --seed) are all found by sweeps
    at their usual pace: the plain demo's per-kind rows."""
    push = result.push
    assert push is not None
    settings = push.settings
    heading = (
        f"push, every kind ({percent(settings.loss)} of events lost, reconciling sweeps "
        f"every {settings.reconcile:g} s): seconds from a job's status changing to its "
        "report, when its event arrived and when a sweep found it (no event: lost, or a "
        "failed job writing no output)"
    )
    lines = textwrap.wrap(heading, width, initial_indent="  ", subsequent_indent="  ")
    table = [("kind", "jobs", "p50", "p95", "jobs", "p50", "p95", "requests/job")]
    for kind in JobKind:
        came, swept = push.arrived.get(kind, []), push.swept.get(kind, [])
        count = len(came) + len(swept)
        if not count:
            continue
        table.append(
            (
                kind.value,
                str(len(came)),
                _seconds(_percentile(came, 0.5)),
                _seconds(_percentile(came, 0.95)),
                str(len(swept)),
                _seconds(_percentile(swept, 0.5)),
                _seconds(_percentile(swept, 0.95)),
                f"{result.requests_by_kind.get(kind, 0) / count:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    rows = []
    for row in table:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        rows.append(("  ".join(cells[:4]), "  ".join(cells[4:7]), cells[7]))
    first = len(rows[0][0]) - len("  ".join(table[0][1:4]).rjust(sum(widths[1:4]) + 4))
    groups = " " * first + "event arrived".rjust(sum(widths[1:4]) + 4)
    groups += "    " + "no event: swept".rjust(sum(widths[4:7]) + 4)
    lines.append(("    " + groups).rstrip())
    lines += [f"    {a}    {b}  {c}".rstrip() for a, b, c in rows]
    jobs = max(sum(len(v) for v in push.arrived.values()) + sum(map(len, push.swept.values())), 1)
    tail = (
        f"SQS: {push.queue_requests / jobs:.2f} requests per job "
        f"({plural(push.queue_requests, 'request')}, {plural(push.queue_messages, 'message')}); "
        f"Transcribe's events: {push.sent} sent ({plural(push.duplicated, 'duplicate')}), "
        f"{push.lost_events} lost; {plural(push.output_rereads, 'Get')} repeated while a "
        "status lagged its output. Without --push, the same jobs (same --seed) are all "
        "found by sweeps: the plain demo's per-kind rows."
    )
    lines += textwrap.wrap(tail, width, initial_indent="  ", subsequent_indent="  ")
    return lines


def _seconds(value: float) -> str:
    """Seconds in a narrow column: hundredths where they matter, whole ones past 100."""
    if value != value:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def per_kind_table(result: DemoResult, counts: Mapping[JobKind, int]) -> list[str]:
    """One row per kind of job started: jobs, failed, redacted, detection latency and
    requests per job (its Gets and Lists), within 80 columns."""
    header = ("kind", "jobs", "failed", "redacted", "p50", "p95", "requests/job")
    rows = [header]
    for kind, count in counts.items():
        if not count:
            continue
        mine = [
            (e, lat)
            for e, lat in zip(result.events, result.latencies, strict=True)
            if e.job.kind is kind
        ]
        latencies = [latency for _, latency in mine]
        rows.append(
            (
                kind.value,
                str(count),
                str(sum(e.outcome is Outcome.FAILED for e, _ in mine)),
                str(sum(e.redacted_transcript_uri is not None for e, _ in mine)),
                f"{_percentile(latencies, 0.5):.1f} s",
                f"{_percentile(latencies, 0.95):.1f} s",
                f"{result.requests_by_kind.get(kind, 0) / max(len(mine), 1):.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  "
        + "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def transcript_lines(shown: TranscriptShown, width: int = LINE_WIDTH) -> list[str]:
    """The fetched transcript's first line under a heading naming its job, or why it
    could not be fetched; in lines of ``width`` columns at most."""
    if shown.error is not None:
        heading = f"{shown.job.name}'s transcript was not fetched:"
        lines = textwrap.wrap(heading, width, initial_indent="  ", subsequent_indent="  ")
        return lines + textwrap.wrap(
            shown.error, width, initial_indent="    ", subsequent_indent="    "
        )
    heading = f"{shown.job.name}'s transcript, fetched in {1000 * shown.seconds:.0f} ms, begins:"
    lines = textwrap.wrap(heading, width, initial_indent="  ", subsequent_indent="  ")
    return [*lines, _cut(f"    {shown.first_line}", width)]


def print_report(result: DemoResult, counts: Mapping[JobKind, int]) -> None:
    """The whole report on stdout: totals, per kind, the histogram, then push's table."""
    outcomes = Counter(event.outcome for event in result.events)
    jobs = len(result.events)
    rows = [
        (
            "jobs",
            f"{jobs} reported of {sum(counts.values())}, {result.wrong} wrong outcomes or outputs",
        ),
        ("outcomes", ", ".join(f"{o.value} {outcomes[o]}" for o in Outcome if outcomes[o])),
        (
            "detection latency",
            f"p50 {_percentile(result.latencies, 0.5):.1f} s, "
            f"p95 {_percentile(result.latencies, 0.95):.1f} s, "
            f"max {max(result.latencies, default=float('nan')):.1f} s",
        ),
        # Per job once, in the line above (the poller's count, per finished job).
        ("requests", f"{result.requests}, as the test bed counted them (Get and List)"),
        (
            "throttled answers",
            f"{result.throttled} "
            f"({100 * result.throttled / max(result.requests, 1):.1f}% of requests)",
        ),
        ("faults injected", str(result.faults)),
        ("wall time", f"{result.elapsed:.1f} s"),
    ]
    if result.latencies:
        rows.insert(3, ("mean latency", f"{statistics.fmean(result.latencies):.1f} s"))
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print()
    print(
        "\n".join(
            textwrap.wrap(LATENCY_MEANS, LINE_WIDTH, initial_indent="  ", subsequent_indent="  ")
        )
    )
    print("\n  per kind of job (detection latency p50, p95):")
    print("\n".join(per_kind_table(result, counts)))
    histogram = latency_histogram(result.latencies)
    if histogram:
        print("\n  detection latency, jobs per bucket:")
        print("\n".join(histogram))
    if result.transcript is not None:
        print()
        print("\n".join(transcript_lines(result.transcript)))
    if result.push is not None:
        print()
        print("\n".join(push_report(result)))
