"""The scale benchmark runs, at a tiny size, and every job is reported right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "scale.py"


def test_scale_benchmark_smoke() -> None:
    """`scale.py --smoke` prints a row per workload and exits 0 (no job lost or wrong)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split()[0] for line in done.stdout.splitlines()[2:]]
    assert rows == ["batch-1k", "batch-3k", "long", "push-1k", "service"]
