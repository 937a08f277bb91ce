"""The submit benchmark runs, at a tiny size: every part prints its table, and no job
is lost, wrong, over its cap or started twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "submit.py"


def test_submit_benchmark_smoke() -> None:
    """`submit.py --smoke` prints each part's table and its rows, and exits 0."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for title in (
        "Parts 1-2: one batch of standard requests",
        "Part 3: crash after half the events, then a re-run",
        "Part 4: Call Analytics among standard, one manifest",
    ):
        assert title in lines
    heads = [line.split() for line in lines if line.startswith("contender ")]
    assert len(heads) == 2
    assert heads[0][:4] == ["contender", "jobs", "lost", "ERROR"]
    rows = [line.split() for line in lines if line.split()]
    names = [row[0] if row[0] != "mixed" else " ".join(row[:2]) for row in rows]
    for name in ("submit", "semaphore+wait", "semaphore+get10"):
        assert name in names
    for name in ("mixed standard", "mixed call-analytics"):
        assert name in names
    assert any(line.split()[:2] == ["jobs", "1st-run"] for line in lines)
    assert "Targets (smoke size: figures mean nothing)" in lines
