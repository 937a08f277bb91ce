"""The fault proxy: quotas, AWS-shaped errors, drops, outages, latency, and its counts."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import anyio
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from transcribe_poller.testing import Counts, LocalTranscribe

pytestmark = pytest.mark.anyio


def raw_get(bed: LocalTranscribe, name: str) -> tuple[int, dict[str, str], bytes]:
    """An unsigned request straight to the proxy, to see the exact wire form."""
    request = urllib.request.Request(
        bed.endpoint_url + "/",
        data=json.dumps({"TranscriptionJobName": name}).encode(),
        headers={
            "X-Amz-Target": "Transcribe.GetTranscriptionJob",
            "Content-Type": "application/x-amz-json-1.1",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("code", ["LimitExceededException", "ThrottlingException"])
def test_throttled_answer_has_the_aws_wire_form(
    local_transcribe: LocalTranscribe, code: str
) -> None:
    """HTTP 400 with x-amzn-ErrorType and a {"__type", "Message"} body, Retry-After if set."""
    local_transcribe.set_faults(quota=0.01, burst=1, throttle_error=code, retry_after=2)
    raw_get(local_transcribe, "any")  # spends the one token
    status, headers, body = raw_get(local_transcribe, "any")
    assert status == 400
    assert headers["x-amzn-ErrorType"].split(":")[0] == code
    assert headers["Retry-After"] == "2"
    assert json.loads(body) == {"__type": code, "Message": "Rate exceeded"}


async def test_quota_holds_its_rate_within_ten_percent(local_transcribe: LocalTranscribe) -> None:
    """Under a 20/s quota, requests let through over three seconds stay within 10% of 20/s."""
    local_transcribe.start_job("hot", duration=600)
    local_transcribe.set_faults(quota={"GetTranscriptionJob": (20, 5)})
    codes: set[str] = set()
    async with local_transcribe.client(max_attempts=1, max_pool_connections=16) as client:

        async def hammer(until: float) -> None:
            while time.monotonic() < until:
                try:
                    await client.get_transcription_job(TranscriptionJobName="hot")
                except ClientError as error:
                    codes.add(error.response["Error"]["Code"])

        # Warm up (connections, signing) for a second, then measure three seconds.
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(hammer, started + 4.0)
            await anyio.sleep(1.0)
            local_transcribe.reset_traffic()
            measured_from = time.monotonic()
        elapsed = time.monotonic() - measured_from
    counts = local_transcribe.traffic().by_operation["GetTranscriptionJob"]
    passed = counts.requests - counts.throttled
    assert codes == {"LimitExceededException"}
    assert counts.throttled > counts.requests / 3, "the load must exceed the quota"
    # The bucket holds between 0 and 5 tokens when the window opens.
    assert 20 * elapsed * 0.9 <= passed <= 20 * elapsed * 1.1 + 5


async def test_counts_per_operation_and_per_job(local_transcribe: LocalTranscribe) -> None:
    """Every request is counted once under its operation and its job, faults or not."""
    local_transcribe.start_job("a", duration=0)
    local_transcribe.start_job("b", kind="medical", duration=0)
    async with local_transcribe.client(max_attempts=1) as client:
        for _ in range(3):
            await client.get_transcription_job(TranscriptionJobName="a")
        for _ in range(2):
            await client.get_medical_transcription_job(MedicalTranscriptionJobName="b")
        await client.list_transcription_jobs()
        local_transcribe.set_faults(error_rate=1.0)
        with pytest.raises(ClientError, match="InternalFailureException"):
            await client.get_transcription_job(TranscriptionJobName="a")
    report = local_transcribe.traffic()
    assert report.by_operation == {
        "GetTranscriptionJob": Counts(requests=4, errors=1),
        "GetMedicalTranscriptionJob": Counts(requests=2),
        "ListTranscriptionJobs": Counts(requests=1),
    }
    assert report.job("a") == Counts(requests=4, errors=1)
    assert report.job("b", "medical") == Counts(requests=2)
    assert report.job("b") == Counts()
    assert report.total == Counts(requests=7, errors=1)
    local_transcribe.reset_traffic()
    assert local_transcribe.traffic().total == Counts()


async def test_internal_failure_is_http_500(local_transcribe: LocalTranscribe) -> None:
    """error_rate answers HTTP 500 InternalFailureException."""
    local_transcribe.start_job("a", duration=0)
    local_transcribe.set_faults(error_rate=1.0)
    async with local_transcribe.client(max_attempts=1) as client:
        with pytest.raises(ClientError) as caught:
            await client.get_transcription_job(TranscriptionJobName="a")
    assert caught.value.response["Error"]["Code"] == "InternalFailureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


async def test_dropped_connection_gives_no_answer(local_transcribe: LocalTranscribe) -> None:
    """drop_rate closes the connection before any answer."""
    local_transcribe.start_job("a", duration=0)
    local_transcribe.set_faults(drop_rate=1.0)
    async with local_transcribe.client(max_attempts=1) as client:
        with pytest.raises(ConnectionClosedError):
            await client.get_transcription_job(TranscriptionJobName="a")
    assert local_transcribe.traffic().job("a").dropped == 1


async def test_latency_is_added(local_transcribe: LocalTranscribe) -> None:
    """latency delays every answer by at least that long."""
    local_transcribe.start_job("a", duration=0)
    local_transcribe.set_faults(latency=0.3)
    async with local_transcribe.client() as client:
        started = time.monotonic()
        await client.get_transcription_job(TranscriptionJobName="a")
    assert time.monotonic() - started >= 0.3


async def test_outage_refuses_connections_then_recovers(local_transcribe: LocalTranscribe) -> None:
    """During an outage connections are refused; afterwards requests succeed again."""
    local_transcribe.start_job("a", duration=0)
    address = urlsplit(local_transcribe.endpoint_url)
    async with local_transcribe.client(max_attempts=1) as client:
        await client.get_transcription_job(TranscriptionJobName="a")  # a pooled connection
        local_transcribe.outage(1.0)
        ended = time.monotonic() + 1.0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address.hostname, address.port), timeout=5).close()
        with pytest.raises((EndpointConnectionError, ConnectionClosedError)):
            await client.get_transcription_job(TranscriptionJobName="a")
        await anyio.sleep(max(0.0, ended - time.monotonic()))
        with anyio.fail_after(5):
            while True:  # the listener comes back on the same port
                try:
                    answer = await client.get_transcription_job(TranscriptionJobName="a")
                    break
                except EndpointConnectionError:
                    await anyio.sleep(0.05)
    assert answer["TranscriptionJob"]["TranscriptionJobStatus"] == "COMPLETED"
    assert local_transcribe.traffic().outages == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"error_rate": 1.5}, "error_rate"),
        ({"drop_rate": -0.1}, "drop_rate"),
        ({"latency": -1.0}, "latency"),
        ({"quota": 0}, "rate"),
        ({"throttle_error": "SlowDown"}, "throttle_error"),
        ({"error_rate": 0.6, "drop_rate": 0.6}, "error_rate"),
    ],
)
def test_bad_faults_raise_value_error(
    local_transcribe: LocalTranscribe, kwargs: dict[str, object], field: str
) -> None:
    """Bad fault settings name the field and leave the current faults in place."""
    before = local_transcribe.set_faults(quota=7, error_rate=0.1)
    with pytest.raises(ValueError, match=field):
        local_transcribe.set_faults(**kwargs)  # type: ignore[arg-type]
    assert local_transcribe.faults == before
    assert before.default_quota is not None
    assert before.default_quota.rate == 7


async def test_hung_request_is_held_open_without_an_answer(
    local_transcribe: LocalTranscribe,
) -> None:
    """hang_rate accepts the request and never answers: the client's read timeout
    ends it, not a closed connection, and the proxy counts it as hung."""
    local_transcribe.start_job("a", duration=0)
    local_transcribe.set_faults(hang_rate=1.0)
    async with local_transcribe.client(max_attempts=1, read_timeout=0.5) as client:
        with pytest.raises(ReadTimeoutError):
            await client.get_transcription_job(TranscriptionJobName="a")
    assert local_transcribe.traffic().job("a") == Counts(requests=1, hung=1)
    local_transcribe.set_faults()
    async with local_transcribe.client(max_attempts=1) as client:
        await client.get_transcription_job(TranscriptionJobName="a")


def test_clear_faults_is_deprecated_for_set_faults(local_transcribe: LocalTranscribe) -> None:
    """The old spelling still clears the faults, with a DeprecationWarning pointing
    to set_faults(), which both doubles have."""
    local_transcribe.set_faults(error_rate=0.5)
    with pytest.warns(DeprecationWarning, match=r"set_faults\(\)"):
        local_transcribe.clear_faults()
    assert local_transcribe.faults.error_rate == 0
