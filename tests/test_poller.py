"""The poller against the local test bed, with real aiobotocore clients."""

from __future__ import annotations

import asyncio
import socket
import time

import anyio
import pytest
import structlog
from botocore.exceptions import NoCredentialsError

from transcribe_poller import (
    Backoff,
    CompletionEvent,
    InvalidJobNameError,
    JobRef,
    Outcome,
    Poller,
    ServiceUnreachableError,
    Sweep,
)
from transcribe_poller.testing import LocalTranscribe

from ._batch import check_event, start_batch

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.2, maximum=1.0)


async def collect(poller: Poller, jobs: object) -> list[CompletionEvent]:
    events = []
    async with poller.watch(jobs) as stream:  # type: ignore[arg-type]
        async for event in stream:
            events.append(event)
    return events


async def test_one_watch_reports_every_job_of_a_mixed_batch_once(
    local_transcribe: LocalTranscribe,
) -> None:
    """110 jobs of all four kinds (FAILED, redacted, a shared name, unknown names) through
    a real client: one event each, read from real answers, by sweeps and Gets."""
    expected = start_batch(
        local_transcribe,
        standard=60,
        medical=20,
        call_analytics=15,
        medical_scribe=12,
        shortest=0.5,
        longest=3,
    )
    async with (
        local_transcribe.client() as client,
        Poller(
            client, backoff=FAST, max_rate=50, not_found_grace=1.0, sweep=Sweep(interval=0.5)
        ) as poller,
    ):
        events = await collect(poller, list(expected))
        stats = poller.statistics()
    assert len(events) == len(expected) == 110
    assert {event.job for event in events} == set(expected)
    for event in events:
        check_event(event, expected[event.job])
        assert (
            event.polls == local_transcribe.traffic().job(event.job.name, event.job.kind).requests
        )
    assert stats.jobs_pending == 0
    assert stats.jobs_finished == 110
    assert stats.sweeps > 0
    assert stats.outcomes[Outcome.NOT_FOUND] == 3
    assert stats.requests == local_transcribe.traffic().total.requests
    # Each event came from a Get that saw the end: never before the job ended.
    # (Order of delivery is tested exactly on a virtual clock: tests/virtual.)
    for event in events:
        if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
            script = local_transcribe.script(event.job.name, event.job.kind)
            assert script.first_terminal_read_at is not None
            assert script.first_terminal_read_at >= script.terminal_at


async def test_faults_and_an_outage_lose_nothing_and_duplicate_nothing(
    local_transcribe: LocalTranscribe,
) -> None:
    """10% HTTP 500s, 5% dropped connections and a 2 s outage: every job, exactly once."""
    expected = start_batch(local_transcribe, standard=30, medical=15, shortest=1, longest=4)
    local_transcribe.set_faults(error_rate=0.10, drop_rate=0.05, seed=11)
    async with (
        # No retries inside the client: every fault reaches the poller.
        local_transcribe.client(max_attempts=1) as client,
        Poller(client, backoff=FAST, not_found_grace=1.0, max_faults=20) as poller,
    ):
        async with anyio.create_task_group() as tg:

            async def outage() -> None:
                await anyio.sleep(1.0)
                await anyio.to_thread.run_sync(local_transcribe.outage, 2.0)

            tg.start_soon(outage)
            events = await collect(poller, list(expected))
        stats = poller.statistics()
    assert sorted(str(e.job) for e in events) == sorted(str(j) for j in expected)
    for event in events:
        check_event(event, expected[event.job])
    traffic = local_transcribe.traffic()
    assert traffic.total.errors > 0
    assert traffic.total.dropped > 0
    assert traffic.outages == 1
    assert stats.retried_faults > 0


async def test_black_holed_requests_are_abandoned_at_the_poller_s_deadline(
    local_transcribe: LocalTranscribe,
) -> None:
    """A proxy that accepts a fifth of the requests and never answers them, behind a
    client whose read timeout is a minute: the poller abandons each at its own
    request_timeout, as a fault of that job, and every job still ends right."""
    expected = start_batch(local_transcribe, standard=12, medical=0, shortest=1, longest=2)
    local_transcribe.set_faults(hang_rate=0.2, seed=5)
    started = time.monotonic()
    async with (
        local_transcribe.client(max_attempts=1, read_timeout=60) as client,
        Poller(client, backoff=FAST, sweep="never", request_timeout=1.0) as poller,
    ):
        events = await collect(poller, list(expected))
        stats = poller.statistics()
    assert time.monotonic() - started < 30  # not a minute per hung request
    for event in events:
        check_event(event, expected[event.job])
    assert local_transcribe.traffic().total.hung > 0
    assert stats.retried_faults >= local_transcribe.traffic().total.hung


async def test_cancelling_a_watch_stops_promptly_and_leaves_nothing_running(
    local_transcribe: LocalTranscribe,
) -> None:
    """Cancelling mid-watch returns within a second; no task or request goes on."""
    for i in range(50):
        local_transcribe.start_job(f"long-{i}", duration=600)
    async with local_transcribe.client() as client:
        tasks_before = asyncio.all_tasks()
        # Gets only: requests in flight when the cancel comes are what this is about.
        async with Poller(client, backoff=FAST, sweep="never") as poller:
            with anyio.CancelScope() as scope:

                async def cancel_after_some_polls() -> None:
                    # No event marks "some requests sent": watch the counter.
                    while poller.statistics().requests < 5:  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                    scope.cancel()
                    nonlocal cancelled_at
                    cancelled_at = time.monotonic()

                cancelled_at = 0.0
                async with anyio.create_task_group() as tg:
                    tg.start_soon(cancel_after_some_polls)
                    await collect(poller, [f"long-{i}" for i in range(50)])
            returned_at = time.monotonic()
            assert scope.cancelled_caught
            assert returned_at - cancelled_at < 1.0
            assert poller.statistics().jobs_pending == 0
        assert asyncio.all_tasks() == tasks_before
        # A request sent just before the cancel may still reach the service, but none
        # is started afterwards.
        started = poller.statistics().requests
        await anyio.sleep(0.5)
        assert poller.statistics().requests == started
        assert local_transcribe.traffic().total.requests <= started


async def test_invalid_names_are_refused_before_anything_is_sent(
    local_transcribe: LocalTranscribe,
) -> None:
    """One bad name in a list raises InvalidJobNameError naming it; no request goes out."""
    local_transcribe.start_job("fine", duration=0)
    async with local_transcribe.client() as client, Poller(client) as poller:
        with pytest.raises(InvalidJobNameError, match="'bad name'"):
            async with poller.watch(["fine", "bad name"]):
                pass
        with pytest.raises(InvalidJobNameError, match=r"x{201}"):
            await poller.wait("x" * 201)
        async with poller.watch([]) as nothing:
            assert [event async for event in nothing] == []
        assert local_transcribe.traffic().total.requests == 0
        # Duplicates are one job, with one event.
        events = await collect(poller, ["fine", JobRef("fine"), "fine"])
    assert [e.job for e in events] == [JobRef("fine")]


async def test_missing_credentials_end_jobs_with_a_clear_error(
    local_transcribe: LocalTranscribe, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """With no credentials anywhere, each job ends with ERROR saying so; nothing hangs."""
    from aiobotocore.session import get_session

    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = get_session()
    with anyio.fail_after(20):
        async with (
            session.create_client(
                "transcribe", region_name="us-east-1", endpoint_url=local_transcribe.endpoint_url
            ) as client,
            Poller(client) as poller,
        ):
            event = await poller.wait("anything")
    assert event.outcome is Outcome.ERROR
    assert isinstance(event.error, ServiceUnreachableError)
    assert "credentials" in str(event.error).lower()
    assert isinstance(event.error.__cause__, NoCredentialsError)


async def test_nothing_listening_ends_jobs_naming_the_endpoint() -> None:
    """A wrong endpoint (nothing listens): one warning naming it at the first failure, and
    after unreachable_after every job ends with ServiceUnreachableError naming it."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    session = get_session()
    with structlog.testing.capture_logs() as logs, anyio.fail_after(20):
        async with (
            session.create_client(
                "transcribe",
                region_name="us-east-1",
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=AioConfig(retries={"total_max_attempts": 1}),
            ) as client,
            Poller(client, unreachable_after=1.0) as poller,
        ):
            events = await collect(poller, ["a", JobRef.medical("b")])
    assert all(e.outcome is Outcome.ERROR for e in events)
    assert all(isinstance(e.error, ServiceUnreachableError) for e in events)
    assert all(endpoint in (e.failure_reason or "") for e in events)
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["endpoint"] == endpoint


async def test_presigned_query_strings_never_reach_the_logs(
    local_transcribe: LocalTranscribe,
) -> None:
    """Log entries carry the transcript URI without its query string (a credential)."""
    local_transcribe.start_job("secret", duration=0.3, redaction="redacted_and_unredacted")
    local_transcribe.start_job("secret", kind="medical", duration=0.3)
    with structlog.testing.capture_logs() as logs:
        async with local_transcribe.client() as client, Poller(client, backoff=FAST) as poller:
            events = await collect(poller, ["secret", JobRef.medical("secret")])
    standard = next(e for e in events if e.job == JobRef("secret"))
    assert "X-Amz-Signature" in (standard.preferred_uri or "")
    assert all("X-Amz-Signature" not in repr(e) for e in events)
    finished = [entry for entry in logs if entry["event"] == "job finished"]
    assert len(finished) == 2
    assert all(entry["uri"] and "?" not in entry["uri"] for entry in finished)
    assert not any("X-Amz-" in repr(entry) for entry in logs)
    polls = [entry for entry in logs if entry["event"] == "poll"]
    assert polls
    assert {"job", "kind", "attempt"} <= set(polls[0])


async def test_every_retry_mode_survives_throttling(local_transcribe: LocalTranscribe) -> None:
    """Whatever the client's retry mode (legacy, standard, adaptive), a throttled batch
    completes in full. The three run at once, each its own batch, behind one quota."""
    modes = ("legacy", "standard", "adaptive")
    batches = {
        mode: start_batch(
            local_transcribe, standard=8, medical=4, shortest=0.5, longest=1.5, prefix=f"{mode}-"
        )
        for mode in modes
    }
    local_transcribe.set_faults(quota=8, burst=2)
    results: dict[str, list[CompletionEvent]] = {}

    async def run(mode: str) -> None:
        async with (
            local_transcribe.client(retry_mode=mode) as client,
            Poller(client, backoff=FAST, not_found_grace=0.5) as poller,
        ):
            results[mode] = await collect(poller, list(batches[mode]))

    async with anyio.create_task_group() as tg:
        for mode in modes:
            tg.start_soon(run, mode)
    for mode in modes:
        assert len(results[mode]) == len(batches[mode]), mode
        for event in results[mode]:
            check_event(event, batches[mode][event.job])
    assert local_transcribe.traffic().total.throttled > 0
