"""Await one Transcribe job, as a request handler would.

Runs as is against the local test bed (no AWS account needed):

    python examples/wait_one.py

Against AWS, drop the test bed and create the client from your own session.
"""

from __future__ import annotations

import logging

import anyio
import structlog

from transcribe_poller import Poller
from transcribe_poller.testing import LocalTranscribe


async def main(bed: LocalTranscribe) -> None:
    bed.start_job("meeting-2026-11-22", duration=3, redaction="redacted")
    async with bed.client() as client, Poller(client) as poller:
        event = await poller.wait("meeting-2026-11-22")
    print(f"{event.job.name}: {event.outcome} after {event.polls} polls, {event.waited:.1f} s")
    # The redacted transcript when there is one; presigned URIs expire in ~15 minutes.
    print("fetch:", event.preferred_uri)


if __name__ == "__main__":
    # The library logs through structlog and never configures it; this shows info and up.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    with LocalTranscribe() as bed:
        anyio.run(main, bed)
