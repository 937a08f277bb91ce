"""What a benchmark result was measured on: the checkout and the library versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def git_revision() -> dict[str, Any]:
    def run(*command: str) -> str:
        try:
            return subprocess.run(
                command, cwd=HERE.parent, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    import transcribe_poller

    measured = Path(transcribe_poller.__file__).resolve().parent
    return {
        "commit": run("git", "rev-parse", "HEAD"),
        "src_modified": bool(run("git", "status", "--porcelain", "--", "src")),
        # False when another copy came first on PYTHONPATH: commit and src_modified then
        # describe the checkout, not what was measured (see versions).
        "measured_this_checkout": measured.is_relative_to(HERE.parent / "src"),
    }


def versions(
    names: tuple[str, ...] = (
        "transcribe-poller",
        "aiobotocore",
        "botocore",
        "moto",
        "anyio",
        "structlog",
    ),
) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    import transcribe_poller

    # Which copy was measured: the working tree, or another one put first on PYTHONPATH.
    found["transcribe_poller_path"] = str(Path(transcribe_poller.__file__).parent)
    return found
