"""Smoke runs of the benchmarks at tiny sizes: their command lines, tables and JSON work.

The figures of such small runs mean nothing; what is checked is that every part of
the scripts runs (child processes, the bed, tallies, tables, targets, JSON) and that
nothing is lost where nothing can be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# Jobs of 1 to 2 s; a job without a result 15 s after the longest should have ended
# counts as lost, far beyond what a poller needs for a job of 2 s.
TINY = ["--shortest", "1", "--longest", "2", "--grace", "15"]


def run(script: str, *args: str, output: Path) -> tuple[str, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args, "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(output.read_text())


def test_compare_waiters_contenders(tmp_path: Path) -> None:
    """Contenders in turn: each reports every job of its batch of four kinds."""
    stdout, result = run(
        "compare_waiters.py",
        *["--standard", "4", "--medical", "1", "--call-analytics", "1", "--medical-scribe", "1"],
        *TINY,
        *["--contenders", "poller,poller-push,fixed-loop", "--loop-interval", "0.5"],
        *["--reconcile-interval", "2"],
        output=tmp_path / "compare.json",
    )
    contenders = {c["contender"]: c for c in result["contenders"]}
    assert list(contenders) == ["poller", "poller-push", "fixed-loop"]
    for name, figures in contenders.items():
        assert (figures["jobs"], figures["reported"], figures["wrong_outcomes"]) == (7, 7, 0), name
        assert figures["uri_mismatches"] == 0, name
        assert set(figures["kinds"]) == {"standard", "medical", "call-analytics", "medical-scribe"}
    assert contenders["poller-push"]["push"]["kinds"]["standard"]["jobs"] == 4
    assert stdout.splitlines()[-1] == f"JSON written to {tmp_path / 'compare.json'}"
    assert "Targets" in stdout


def test_compare_waiters_replicas(tmp_path: Path) -> None:
    """Two poller processes in one account: a row each and one for all."""
    stdout, result = run(
        "compare_waiters.py",
        *["--replicas", "2", "--standard", "2", "--medical", "1"],
        *TINY,
        output=tmp_path / "replicas.json",
    )
    assert [p["replica"] for p in result["processes"]] == [0, 1]
    assert (result["aggregate"]["jobs"], result["aggregate"]["reported"]) == (6, 6)
    assert "No targets set for 2 replicas" in stdout


def test_overhead(tmp_path: Path) -> None:
    """The overhead benchmark measures both scenarios and checks its targets."""
    stdout, result = run(
        "overhead.py", "--quick", "--jobs", "200", output=tmp_path / "overhead.json"
    )
    assert result["settings"]["jobs"] == 200
    assert "poller - bare" in stdout
    assert "Targets:" in stdout


def test_transcripts(tmp_path: Path) -> None:
    """Transcripts fetched while jobs are awaited: every job reported, every document
    fetched and counted by statistics(), the memory row measured."""
    stdout, result = run("transcripts.py", "--smoke", output=tmp_path / "transcripts.json")
    runs = {r["contender"]: r for r in result["latency"]["runs"]}
    assert list(runs) == ["no-downloads", "fetching"]
    for name, figures in runs.items():
        assert (figures["jobs"], figures["reported"], figures["wrong"]) == (10, 10, 0), name
    assert runs["no-downloads"]["fetch"] is None
    fetch = runs["fetching"]["fetch"]
    assert (fetch["downloads"], fetch["returned"], fetch["failures"]) == (10, 10, 0)
    assert fetch["max_active"] <= 8  # sampled: a fetch this short may fall between samples
    [memory] = result["memory"]
    assert (memory["documents"], memory["threads"], memory["downloads"]) == (10, 1, 10)
    assert memory["traced_peak_bytes"] > 0
    assert "ratio to 'no-downloads', fetching" in stdout


def test_replicas_model() -> None:
    """The virtual-time model of several processes: a summary line, a JSON line per
    run with each process's p95, and nothing lost."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "replicas.py"), "--smoke", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary, *lines = done.stdout.splitlines()
    assert summary.startswith("4 processes, 2 runs")
    runs = [json.loads(line) for line in lines]
    assert [r["seed"] for r in runs] == [1, 2]
    for r in runs:
        assert len(r["p95s"]) == 4
        assert r["lost"] == 0
        assert r["spread"] == max(r["p95s"]) / min(r["p95s"])
