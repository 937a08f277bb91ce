"""The scale benchmark runs, at a tiny size, and every job is reported right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "scale.py"


def test_scale_benchmark_smoke() -> None:
    """`scale.py --smoke --waiter` prints a row per workload (and the waiter's beside
    the single waits) and exits 0 (no job lost or wrong)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--waiter"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [" ".join(line.split()[:2]) for line in done.stdout.splitlines()[2:]]
    names = ["batch-1k", "batch-3k", "long", "push-1k", "service", "alone", "note"]
    names += ["note-push", "note-push-late", "quiet", "tied-3k"]
    waited = {"service", "alone", "note", "quiet"}
    expected = []
    for name in names:
        expected.append(name)
        if name in waited:
            expected.append(f"{name} (waiter)")
    assert [row.split()[0] if "(" not in row else row for row in rows] == expected
