"""Fetching transcripts over the wire: aiohttp against the local bed's document server
on 127.0.0.1 (presigned URIs), aiobotocore's S3 client against moto (the caller's
bucket). What only the wire shows: HTTP status codes and S3's XML errors, a refused
connection during an outage, a Content-Length over the bound."""

from __future__ import annotations

import dataclasses

import anyio
import pytest

from transcribe_poller import JobRef, Poller, TranscriptUnavailableError
from transcribe_poller.testing import LocalTranscribe

pytestmark = pytest.mark.anyio

TEXT = "The results came back normal. See you in six months."


async def test_an_outage_only_delays_a_download(local_transcribe: LocalTranscribe) -> None:
    """Refused connections to the document server are transient faults: retried
    until it answers again."""
    local_transcribe.start_job("during-outage", duration=0.2, transcript=TEXT)
    async with local_transcribe.client() as client, Poller(client) as poller:
        with anyio.fail_after(30):
            event = await poller.wait("during-outage")
            local_transcribe.outage(1.0)
            read = await poller.fetch_transcript(event)
    assert read.text == TEXT


async def test_a_missing_object_is_gone_and_its_query_is_not_shown(
    local_transcribe: LocalTranscribe,
) -> None:
    """S3's 404 NoSuchKey for a presigned URI: an error naming the job and the URI
    without its query string; a 403 would have cost a Get, a 404 costs none."""
    local_transcribe.start_job("no-srt", duration=0.2, transcript=TEXT)
    async with local_transcribe.client() as client, Poller(client) as poller:
        with anyio.fail_after(30):
            event = await poller.wait("no-srt")
            assert event.transcript_uri is not None
            # Signed, but the job wrote no subtitles: the object does not exist.
            missing = event.transcript_uri.replace("asrOutput.json?", "asrOutput.srt?")
            gets = local_transcribe.traffic().job("no-srt").requests
            with pytest.raises(TranscriptUnavailableError) as caught:
                await poller.fetch_transcript(dataclasses.replace(event, transcript_uri=missing))
            assert local_transcribe.traffic().job("no-srt").requests == gets
    message = str(caught.value)
    assert "job no-srt" in message
    assert "the output is gone (NoSuchKey)" in message
    assert message.count("/asrOutput.srt") == 1
    assert "X-Amz" not in message
    assert caught.value.location is not None
    assert caught.value.location.startswith("http://127.0.0.1:")


async def test_content_length_over_the_bound_stops_the_download(
    local_transcribe: LocalTranscribe,
) -> None:
    local_transcribe.start_job("long", duration=0.2, transcript=TEXT)
    local_transcribe.start_job("long-visit", kind="medical", duration=0.2, transcript=TEXT)
    async with (
        local_transcribe.client() as client,
        local_transcribe.s3_client() as s3,
        Poller(client, s3=s3) as poller,
    ):
        with anyio.fail_after(30):
            for job in (JobRef("long"), JobRef.medical("long-visit")):
                event = await poller.wait(job)
                with pytest.raises(TranscriptUnavailableError, match="larger than max_bytes=100"):
                    await poller.fetch_transcript(event, max_bytes=100)
                assert (await poller.fetch_transcript(event)).text == TEXT
