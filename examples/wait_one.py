"""Await one Transcribe job and read its transcript, as a request handler would.

Runs as is against the local test bed (no AWS account needed):

    python examples/wait_one.py

Against AWS, drop the test bed and create the client from your own session.
"""

from __future__ import annotations

import logging

import anyio

from transcribe_poller import Poller
from transcribe_poller.testing import LocalTranscribe


async def main(bed: LocalTranscribe) -> None:
    bed.start_job(
        "meeting-2026-11-22",
        duration=3,
        redaction="redacted",
        transcript="Thanks for joining. Call me back on 555 0100.",
    )
    async with bed.client() as client, Poller(client) as poller:
        event = await poller.wait("meeting-2026-11-22")
        # The redacted transcript when there is one, as event.preferred_uri names it:
        # fetched before its presigned URI expires (one Get renews it if it has).
        transcript = await poller.fetch_transcript(event)
    print(f"{event.job.name}: {event.outcome} after {event.polls} polls, {event.waited:.1f} s")
    print(transcript.text)


if __name__ == "__main__":
    # The library logs to the logging logger "transcribe_poller" (structlog left
    # unconfigured): its lines go to stderr, so stdout holds only what this prints.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("transcribe_poller").setLevel(logging.INFO)  # its "job finished" too
    with LocalTranscribe() as bed:
        anyio.run(main, bed)
