"""Every example runs as is against the local test bed and prints what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_wait_one() -> None:
    """wait_one.py awaits one redacted job and prints the URI to fetch."""
    result = run_example("wait_one.py")
    assert result.returncode == 0, result.stderr
    assert "meeting-2026-11-22: COMPLETED" in result.stdout
    assert "redacted-asrOutput.json" in result.stdout


def test_wait_many() -> None:
    """wait_many.py reports all 50 jobs, one of them FAILED."""
    result = run_example("wait_many.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("done ") for line in lines) == 49
    assert sum(line.startswith("failed ") for line in lines) == 1
    assert lines[-1].startswith("50 jobs, ")


def test_web_service() -> None:
    """web_service.py answers each request with the job's event, and 400 for a bad name."""
    result = run_example("web_service.py")
    assert result.returncode == 0, result.stderr
    statuses = sorted(line.split(" ", 1)[0] for line in result.stdout.splitlines())
    assert statuses == ["200", "200", "400"]
    assert "'outcome': 'FAILED'" in result.stdout
    assert "'outcome': 'COMPLETED'" in result.stdout


@pytest.mark.timeout(120)
def test_batch_from_file() -> None:
    """batch_from_file.py prints one JSON line per listed job and exits 1 for the missing one."""
    result = run_example("batch_from_file.py")
    assert result.returncode == 1, result.stderr
    records = {r["job"]: r["outcome"] for r in map(json.loads, result.stdout.splitlines())}
    assert records == {
        "news-1": "COMPLETED",
        "news-2": "COMPLETED",
        "medical:ward-3": "COMPLETED",
        "news-404": "NOT_FOUND",
    }
