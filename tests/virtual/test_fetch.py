"""Fetching transcripts, on FakeTranscribe under a virtual clock: expiry and its one Get,
every error a caller can meet (each naming the job), the download bound, and that
downloads never delay polling."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import botocore.exceptions
import pytest

from transcribe_poller import (
    JobKind,
    JobRef,
    Poller,
    PollerClosedError,
    TranscriptError,
    TranscriptUnavailableError,
)
from transcribe_poller.testing import FakeTranscribe

pytestmark = pytest.mark.anyio

TEXT = "Good morning. How can I help?"
MEDICAL = JobRef.medical("visit")
BUCKET_KEY = "s3://local-medical-output/medical/visit.json"


def s3_error(code: str, status: int, message: str = "") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        },
        "GetObject",
    )


class StubS3:
    """An S3 client whose GetObject answers from a script, then from the fake's S3."""

    def __init__(self, fake: FakeTranscribe, *answers: Any) -> None:
        self._fake = fake
        self._answers = list(answers)
        self.calls = 0

    async def get_object(self, **params: Any) -> Any:
        self.calls += 1
        if self._answers:
            answer = self._answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            if isinstance(answer, bytes):
                fake_answer = await self._fake.s3.get_object(**params)
                fake_answer["Body"] = Body(answer)
                fake_answer["ContentLength"] = len(answer)
                return fake_answer
        return await self._fake.s3.get_object(**params)


class Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, amt: int | None = None) -> bytes:
        data, self._data = self._data, b""
        return data

    async def __aenter__(self) -> Body:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    def close(self) -> None:
        pass


async def test_a_fetch_twenty_minutes_later_costs_one_get(fake: FakeTranscribe) -> None:
    """The presigned URI expired 15 minutes after its Get: S3 refuses it, one Get
    renews it, and the fetch succeeds; no second refresh."""
    fake.start_job("late", duration=30, transcript=TEXT)
    async with Poller(fake) as poller:
        event = await poller.wait("late")
        await anyio.sleep(20 * 60)
        assert event.expires_at is not None
        assert event.expires_at < fake.datetime_at(fake.now())
        gets = fake.traffic().job("late").requests
        read = await poller.fetch_transcript(event)
        assert read.text == TEXT
        assert fake.traffic().job("late").requests == gets + 1
        stats = poller.statistics()
        assert (stats.downloads, stats.download_refreshes, stats.download_failures) == (1, 1, 0)
        fresh = await poller.fetch_transcript(event)  # the event is unchanged: again one Get
        assert fresh.text == TEXT
        assert fake.traffic().job("late").requests == gets + 2


async def test_a_fresh_event_costs_no_get(fake: FakeTranscribe) -> None:
    fake.start_job("now", duration=5, transcript=TEXT)
    async with Poller(fake) as poller:
        event = await poller.wait("now")
        gets = fake.traffic().job("now").requests
        assert (await poller.fetch_transcript(event)).text == TEXT
        assert fake.traffic().job("now").requests == gets


async def test_a_name_or_jobref_costs_one_get(fake: FakeTranscribe) -> None:
    fake.start_job("by-name", duration=5, transcript=TEXT)
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    await anyio.sleep(6)
    async with Poller(fake, s3=fake.s3) as poller:
        assert (await poller.fetch_transcript("by-name")).text == TEXT
        assert (await poller.fetch_transcript(MEDICAL)).text == TEXT
    assert fake.traffic().job("by-name").requests == 1
    assert fake.traffic().job(MEDICAL).requests == 1


async def test_a_failed_or_unfinished_job_has_no_transcript(fake: FakeTranscribe) -> None:
    fake.start_job("broken", duration=5, fail_with="Unsupported media format.")
    fake.start_job("running", duration=600)
    async with Poller(fake) as poller:
        event = await poller.wait("broken")
        with pytest.raises(TranscriptUnavailableError, match="broken") as caught:
            await poller.fetch_transcript(event)
        assert "FAILED: Unsupported media format." in str(caught.value)
        with pytest.raises(TranscriptUnavailableError, match="running") as caught:
            await poller.fetch_transcript("running")
        assert "not finished: await it first" in str(caught.value)
        with pytest.raises(TranscriptUnavailableError, match="running"):
            await poller.fetch_transcript(JobRef("running"))


async def test_redacted_picks_and_says_what_is_missing(fake: FakeTranscribe) -> None:
    fake.start_job("only-redacted", duration=5, transcript="Card 4111.", redaction="redacted")
    fake.start_job("plain", duration=5, transcript=TEXT)
    async with Poller(fake) as poller:
        only, plain = await poller.wait("only-redacted"), await poller.wait("plain")
        assert (await poller.fetch_transcript(only)).text == "Card [PII]."
        assert (await poller.fetch_transcript(only, redacted=True)).text == "Card [PII]."
        with pytest.raises(TranscriptUnavailableError, match="only a redacted transcript"):
            await poller.fetch_transcript(only, redacted=False)
        with pytest.raises(TranscriptUnavailableError, match="no redacted transcript"):
            await poller.fetch_transcript(plain, redacted=True)
        with pytest.raises(TranscriptUnavailableError, match="only Medical Scribe"):
            await poller.fetch_clinical_document(plain)


async def test_output_in_your_bucket_needs_an_s3_client(fake: FakeTranscribe) -> None:
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    async with Poller(fake) as poller:
        event = await poller.wait(MEDICAL)
        with pytest.raises(TranscriptUnavailableError) as caught:
            await poller.fetch_transcript(event)
        assert "medical:visit" in str(caught.value)
        assert "pass an aiobotocore S3 client" in str(caught.value)
        assert caught.value.location == BUCKET_KEY
        assert (await poller.fetch_transcript(event, s3=fake.s3)).text == TEXT  # per call


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            s3_error("AccessDenied", 403, "Access Denied"),
            "S3 denied the read of bucket 'local-medical-output' (AccessDenied): the client "
            "needs s3:GetObject on arn:aws:s3:::local-medical-output/medical/visit.json",
        ),
        (
            s3_error("AccessDenied", 403, "User is not authorized to perform: kms:Decrypt"),
            "and kms:Decrypt on the bucket's KMS key",
        ),
        (s3_error("NoSuchKey", 404), "the output is gone (NoSuchKey)"),
        (s3_error("NoSuchBucket", 404), "the bucket 'local-medical-output' does not exist"),
    ],
)
async def test_s3_refusals_name_the_job_bucket_and_permission(
    fake: FakeTranscribe, error: Exception, says: str
) -> None:
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    stub = StubS3(fake, error)
    async with Poller(fake, s3=stub) as poller:
        event = await poller.wait(MEDICAL)
        with pytest.raises(TranscriptUnavailableError) as caught:
            await poller.fetch_transcript(event)
        assert says in str(caught.value)
        assert str(caught.value).startswith(f"transcript of job medical:visit ({BUCKET_KEY})")
        assert poller.statistics().download_failures == 1
    assert stub.calls == 1  # an answer that refuses the read is not retried


async def test_transient_s3_faults_are_retried(fake: FakeTranscribe) -> None:
    """503 SlowDown, 500 and a dropped connection only delay the fetch."""
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    stub = StubS3(
        fake,
        s3_error("SlowDown", 503, "Please reduce your request rate."),
        s3_error("InternalError", 500),
        botocore.exceptions.ConnectionClosedError(endpoint_url="https://s3.amazonaws.com"),
    )
    async with Poller(fake, s3=stub) as poller:
        event = await poller.wait(MEDICAL)
        assert (await poller.fetch_transcript(event)).text == TEXT
    assert stub.calls == 4


async def test_a_document_over_max_bytes_is_refused(fake: FakeTranscribe) -> None:
    fake.start_job("big", duration=5, transcript=TEXT)
    async with Poller(fake) as poller:
        event = await poller.wait("big")
        with pytest.raises(TranscriptUnavailableError, match=r"larger than max_bytes=64"):
            await poller.fetch_transcript(event, max_bytes=64)
        with pytest.raises(ValueError, match="max_bytes"):
            await poller.fetch_transcript(event, max_bytes=0)
        assert (await poller.fetch_transcript(event)).text == TEXT


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"results": 3}', "results is an int, not an object"),
        (b"<html>not json</html>", "the document is not JSON"),
        (b"[]", "the document is a list, not a dict"),
    ],
)
async def test_a_document_of_another_shape_is_a_transcript_error(
    fake: FakeTranscribe, body: bytes, says: str
) -> None:
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    async with Poller(fake, s3=StubS3(fake, body)) as poller:
        event = await poller.wait(MEDICAL)
        with pytest.raises(TranscriptError, match="medical:visit") as caught:
            await poller.fetch_transcript(event)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("https://example.com/out/job.json", "is not an S3 URI"),
        ("http://s3.amazonaws.com/bucket/job.json", "plain http to a host not this machine"),
        ("ftp://s3.amazonaws.com/bucket/job.json", "is not an https URI"),
        ("https://s3.amazonaws.com/bucket/job.json?token=1", "query string but no signature"),
    ],
)
async def test_only_the_services_uris_are_fetched(
    fake: FakeTranscribe, uri: str, says: str
) -> None:
    fake.start_job("a", duration=5, transcript=TEXT)
    stub = StubS3(fake)
    async with Poller(fake, s3=stub) as poller:
        event = dataclasses.replace(await poller.wait("a"), transcript_uri=uri)
        with pytest.raises(TranscriptUnavailableError, match="not fetched") as caught:
            await poller.fetch_transcript(event)
    assert says in str(caught.value)
    assert "token=1" not in str(caught.value)
    assert stub.calls == 0


async def test_a_uri_refused_even_fresh_is_an_error_without_its_query(
    fake: FakeTranscribe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One renewal per fetch: S3 refusing the fresh URI too is an error, and its
    message holds the URI without its query string (a credential)."""
    fake.start_job("a", duration=5, transcript=TEXT)

    async def refuse(url: str) -> tuple[int, bytes]:
        return 403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"

    monkeypatch.setattr(fake, "serve_url", refuse)
    async with Poller(fake) as poller:
        event = await poller.wait("a")
        gets = fake.traffic().job("a").requests
        with pytest.raises(TranscriptUnavailableError, match="even fresh from a Get") as caught:
            await poller.fetch_transcript(event)
        assert fake.traffic().job("a").requests == gets + 1
    assert "X-Amz" not in str(caught.value)
    assert "/asrOutput.json" in str(caught.value)


async def test_downloads_are_bounded_and_counted(fake: FakeTranscribe) -> None:
    """max_downloads at once; the others wait their turn."""
    names = [f"v{i}" for i in range(6)]
    for name in names:
        fake.start_job(name, kind="medical", duration=5, transcript=TEXT)
    running = peak = 0

    class SlowS3:
        async def get_object(self, **params: Any) -> Any:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                await anyio.sleep(10)
                return await fake.s3.get_object(**params)
            finally:
                running -= 1

    async with Poller(fake, s3=SlowS3(), max_downloads=2) as poller:
        await anyio.sleep(6)
        began = anyio.current_time()
        async with anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(poller.fetch_transcript, JobRef.medical(name))
            await anyio.sleep(1)
            assert poller.statistics().downloads_active == 2
        # Three waves at least (the virtual clock may jump on while a parse thread runs).
        assert anyio.current_time() - began >= 30
        stats = poller.statistics()
    assert peak == 2
    assert (stats.downloads, stats.downloads_active) == (6, 0)
    assert stats.download_bytes > 6 * len(TEXT)


async def test_a_hung_download_never_delays_polling(fake: FakeTranscribe) -> None:
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    fake.start_job("next", duration=60, transcript=TEXT)

    class HungS3:
        async def get_object(self, **params: Any) -> Any:
            await anyio.sleep_forever()

    failed: list[Exception] = []

    async def fetch() -> None:
        try:
            await poller.fetch_transcript(MEDICAL)
        except TranscriptUnavailableError as error:
            failed.append(error)

    async with Poller(fake, s3=HungS3()) as poller:
        await poller.wait(MEDICAL)
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await poller.wait("next")
    # Each request abandoned after request_timeout; an endpoint that never answered.
    assert "nothing answered at S3" in str(failed[0])
    script = fake.script("next")
    assert script.first_terminal_read_at is not None
    assert script.first_terminal_read_at - script.terminal_at <= 2.0


async def test_a_closed_poller_fetches_nothing(fake: FakeTranscribe) -> None:
    fake.start_job("a", duration=5, transcript=TEXT)
    async with Poller(fake) as poller:
        event = await poller.wait("a")
    with pytest.raises(PollerClosedError):
        await poller.fetch_transcript(event)


async def test_every_kind_by_name_with_the_fakes_s3(fake: FakeTranscribe) -> None:
    """Poller(fake, s3=fake.s3) fetches every kind, presigned or in a bucket."""
    for kind in JobKind:
        fake.start_job("same-name", kind=kind, duration=5, transcript=TEXT)
    await anyio.sleep(6)
    async with Poller(fake, s3=fake.s3) as poller:
        for kind in JobKind:
            read = await poller.fetch_transcript(JobRef("same-name", kind))
            assert read.text == TEXT, kind
            assert read.job == JobRef("same-name", kind)
        note = await poller.fetch_clinical_document(JobRef("same-name", JobKind.MEDICAL_SCRIBE))
        assert note.job.kind is JobKind.MEDICAL_SCRIBE


async def test_an_endpoint_that_never_answered_fails_after_unreachable_after(
    fake: FakeTranscribe,
) -> None:
    """A mistyped S3 endpoint fails fast, as a mistyped Transcribe endpoint does; one
    that answered once is only slow, and its faults are retried."""
    fake.start_job("visit", kind="medical", duration=5, transcript=TEXT)
    refused = botocore.exceptions.EndpointConnectionError(endpoint_url="https://s3.example")

    class Nowhere:
        async def get_object(self, **params: Any) -> Any:
            raise refused

    async with Poller(fake, s3=Nowhere(), unreachable_after=15) as poller:
        event = await poller.wait(MEDICAL)
        began = anyio.current_time()
        with pytest.raises(TranscriptUnavailableError, match=r"nothing answered at S3 for \d+ s"):
            await poller.fetch_transcript(event)
        # Known at the first fault from 15 s on: the backoff is at most 20 s.
        assert 15 <= anyio.current_time() - began <= 15 + 20
        once = StubS3(fake, s3_error("InternalError", 500), *[refused] * 1000)
        with pytest.raises(TimeoutError), anyio.fail_after(120):
            await poller.fetch_transcript(event, s3=once)
        assert once.calls > 5


async def test_a_name_the_service_does_not_know_is_unavailable(fake: FakeTranscribe) -> None:
    async with Poller(fake, not_found_grace=0) as poller:
        with pytest.raises(TranscriptUnavailableError, match="job nobody") as caught:
            await poller.fetch_transcript("nobody")
        assert "reading the job failed" in str(caught.value)
        assert poller.statistics().download_failures == 1
