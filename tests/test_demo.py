"""The demo's latency histogram: every bucket counted, the tail visible, 80 columns."""

from __future__ import annotations

import re

from transcribe_poller._demo import latency_histogram


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
