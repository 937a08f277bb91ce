"""A batch script: wait for the jobs listed in a file and write one JSON line per job.

    python examples/batch_from_file.py             # makes a file and jobs locally
    python examples/batch_from_file.py jobs.txt    # your file: NAME or KIND:NAME per line

With a file of your own it waits on AWS with your configured credentials and
region; with none it starts a local test bed and writes a sample file first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import anyio
import structlog

from transcribe_poller import JobKind, JobRef, Outcome, wait_for_jobs
from transcribe_poller.testing import LocalTranscribe


def read_jobs(path: Path) -> list[JobRef]:
    """NAME or KIND:NAME per line (medical:, call-analytics:, medical-scribe:);
    blank lines and # comments are skipped."""
    kinds = {kind.value for kind in JobKind}
    jobs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        kind, _, name = line.partition(":")
        if name and kind in kinds:
            jobs.append(JobRef(name, kind))  # type: ignore[arg-type]  # a JobKind value
        elif line:
            jobs.append(JobRef.standard(line))  # InvalidJobNameError names a bad one
    return jobs


async def run(jobs: list[JobRef], endpoint_url: str | None, region: str | None) -> int:
    events = await wait_for_jobs(jobs, region=region, endpoint_url=endpoint_url)
    for event in events:
        record = {
            "job": str(event.job),
            "outcome": event.outcome.value,
            "uri": event.preferred_uri,
            "failure_reason": event.failure_reason,
        }
        print(json.dumps(record))
    return 0 if all(event.outcome is Outcome.COMPLETED for event in events) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    args = parser.parse_args()
    if args.file is not None:
        try:
            jobs = read_jobs(args.file)
        except (OSError, ValueError) as error:  # ValueError: InvalidJobNameError among them
            print(f"{args.file}: {error}", file=sys.stderr)
            return 2
        return anyio.run(run, jobs, None, None)
    with LocalTranscribe() as bed, tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "jobs.txt"
        listing.write_text(
            "# tonight's batch\nnews-1\nnews-2\n\nmedical:ward-3\ncall-analytics:desk-4\nnews-404\n"
        )
        bed.start_job("news-1", duration=1)
        bed.start_job("news-2", duration=2, redaction="redacted")
        bed.start_job("ward-3", kind="medical", duration=1.5)
        bed.start_job("desk-4", kind="call-analytics", duration=1, redaction="redacted")
        # Dummy credentials for the local test bed, even when real ones are set: those
        # are for AWS. (With a file of your own, your AWS setup's credentials are used.)
        os.environ["AWS_ACCESS_KEY_ID"] = "testing"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
        os.environ.pop("AWS_SESSION_TOKEN", None)
        return anyio.run(run, read_jobs(listing), bed.endpoint_url, bed.region)


if __name__ == "__main__":
    # Results go to stdout as JSON lines, so the library's log lines go to stderr
    # (structlog configured: the library follows the application's configuration).
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    sys.exit(main())
