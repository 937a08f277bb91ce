"""Where results go: JSON with what they were measured on."""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import Any

from _provenance import git_revision, machine, versions

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
RESULTS = HERE / "results"


def write_json(args: argparse.Namespace, name: str, body: dict[str, Any]) -> None:
    """The results with what they were measured on, to --output or benchmarks/results/."""
    now = datetime.datetime.now(datetime.timezone.utc)
    output = Path(args.output) if args.output else RESULTS / f"{name}-{now:%Y%m%dT%H%M%SZ}.json"
    document = {
        "benchmark": "compare_waiters",
        "date_utc": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "git": git_revision(),
        "seed": args.seed,
        **body,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1))
    print(f"\nJSON written to {output}")
