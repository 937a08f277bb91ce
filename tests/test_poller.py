"""The poller against the local test bed, with real aiobotocore clients."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import anyio
import pytest
import structlog

from transcribe_poller import (
    Backoff,
    CompletionEvent,
    InvalidJobNameError,
    JobRef,
    Outcome,
    Poller,
    PollerClosedError,
    Sweep,
)
from transcribe_poller.testing import Counts, LocalTranscribe

from ._batch import check_event, start_batch

pytestmark = pytest.mark.anyio

FAST = Backoff(initial=0.2, maximum=1.0)


async def collect(poller: Poller, jobs: object) -> list[CompletionEvent]:
    events = []
    async with poller.watch(jobs) as stream:  # type: ignore[arg-type]
        async for event in stream:
            events.append(event)
    return events


@pytest.mark.parametrize("mode", ["never", "auto"])
async def test_one_watch_reports_every_job_of_a_mixed_batch_once(
    local_transcribe: LocalTranscribe, mode: Literal["never", "auto"]
) -> None:
    """300 jobs (FAILED, redacted, medical, a shared name, unknown names): one event each,
    polling each job with Get, or sweeping with List."""
    expected = start_batch(local_transcribe, standard=200, medical=100, shortest=0.5, longest=4)
    async with (
        local_transcribe.client() as client,
        Poller(
            client, backoff=FAST, max_rate=50, not_found_grace=1.0, sweep=Sweep(mode=mode)
        ) as poller,
    ):
        events = await collect(poller, list(expected))
        stats = poller.statistics()
    assert len(events) == len(expected) == 302
    assert {event.job for event in events} == set(expected)
    for event in events:
        check_event(event, expected[event.job])
        assert (
            event.polls == local_transcribe.traffic().job(event.job.name, event.job.kind).requests
        )
    assert stats.jobs_pending == 0
    assert stats.jobs_finished == 302
    assert stats.outcomes[Outcome.NOT_FOUND] == 2
    assert stats.requests == local_transcribe.traffic().total.requests
    # Events come in completion order: each was delivered after its job ended.
    for event in events:
        if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
            script = local_transcribe.script(event.job.name, event.job.kind)
            assert script.first_terminal_read_at is not None


async def test_a_quota_and_a_legacy_client_lose_nothing_and_hold_the_rate(
    local_transcribe: LocalTranscribe,
) -> None:
    """Behind 20 requests/s per operation, with botocore's default retry mode: nothing is
    lost, and after the first seconds the poller sends at about the quota."""
    expected = start_batch(local_transcribe, standard=200, medical=100, shortest=7, longest=12)
    local_transcribe.set_faults(quota=20)
    window: dict[str, Counts] = {}
    async with (
        local_transcribe.client() as client,
        # Per-job Gets only: sweeps would need far fewer requests than the quota.
        Poller(client, not_found_grace=1.0, sweep=Sweep(mode="never")) as poller,
    ):

        async def measure() -> None:
            # Every job is still running between 3 s and 6 s: demand exceeds the quota.
            await anyio.sleep(3)
            local_transcribe.reset_traffic()
            started = time.monotonic()
            await anyio.sleep(3)
            elapsed = time.monotonic() - started
            for op, counts in local_transcribe.traffic().by_operation.items():
                window[op] = counts
                window[op + "/seconds"] = Counts(requests=round(elapsed * 1000))

        async with anyio.create_task_group() as tg:
            tg.start_soon(measure)
            events = await collect(poller, list(expected))
    assert len(events) == len(expected)
    for event in events:
        check_event(event, expected[event.job])
    for op in ("GetTranscriptionJob", "GetMedicalTranscriptionJob"):
        seconds = window[op + "/seconds"].requests / 1000
        sent = window[op].requests / seconds
        passed = (window[op].requests - window[op].throttled) / seconds
        assert passed >= 0.75 * 20, (op, passed)
        assert sent <= 1.25 * 20, (op, sent)


async def test_faults_and_an_outage_lose_nothing_and_duplicate_nothing(
    local_transcribe: LocalTranscribe,
) -> None:
    """10% HTTP 500s, 5% dropped connections and a 3 s outage: every job, exactly once."""
    expected = start_batch(local_transcribe, standard=60, medical=30, shortest=1, longest=6)
    local_transcribe.set_faults(error_rate=0.10, drop_rate=0.05, seed=11)
    async with (
        # No retries inside the client: every fault reaches the poller.
        local_transcribe.client(max_attempts=1) as client,
        Poller(client, backoff=FAST, not_found_grace=1.0, max_faults=20) as poller,
    ):
        async with anyio.create_task_group() as tg:

            async def outage() -> None:
                await anyio.sleep(1.5)
                await anyio.to_thread.run_sync(local_transcribe.outage, 3.0)

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


async def test_many_waits_on_one_job_share_one_poll_loop(
    local_transcribe: LocalTranscribe,
) -> None:
    """25 concurrent waits on one job: one loop polls it and all get the same event."""
    local_transcribe.start_job("popular", duration=1.5)
    results: list[CompletionEvent] = []
    async with local_transcribe.client() as client, Poller(client, backoff=FAST) as poller:

        async def waiter() -> None:
            results.append(await poller.wait("popular"))

        async with anyio.create_task_group() as tg:
            for _ in range(25):
                tg.start_soon(waiter)
    assert len(results) == 25
    assert all(event is results[0] for event in results)
    assert results[0].outcome is Outcome.COMPLETED
    assert local_transcribe.traffic().job("popular").requests == results[0].polls


async def test_cancelling_a_watch_stops_promptly_and_leaves_nothing_running(
    local_transcribe: LocalTranscribe,
) -> None:
    """Cancelling mid-watch returns within a second; no task or request goes on."""
    for i in range(50):
        local_transcribe.start_job(f"long-{i}", duration=600)
    async with local_transcribe.client() as client:
        tasks_before = asyncio.all_tasks()
        async with Poller(client, backoff=FAST) as poller:
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


async def test_leaving_the_poller_releases_waiters_with_a_clear_error(
    local_transcribe: LocalTranscribe,
) -> None:
    """A wait in another task when the poller closes raises PollerClosedError, not a hang."""
    local_transcribe.start_job("forever", duration=600)
    errors: list[BaseException] = []
    async with local_transcribe.client() as client:
        outer = anyio.create_task_group()
        async with outer, Poller(client, backoff=FAST) as poller:

            async def waiter() -> None:
                try:
                    await poller.wait("forever")
                except PollerClosedError as error:
                    errors.append(error)

            outer.start_soon(waiter)
            while poller.statistics().requests < 1:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        with pytest.raises(PollerClosedError, match="closed"):
            await poller.wait("forever")
    assert len(errors) == 1
    assert "forever" in str(errors[0])


async def test_job_timeout_ends_only_that_job(local_transcribe: LocalTranscribe) -> None:
    """job_timeout gives TIMED_OUT to the slow job while the quick one completes."""
    local_transcribe.start_job("quick", duration=0.2)
    local_transcribe.start_job("stuck", duration=600)
    async with (
        local_transcribe.client() as client,
        Poller(client, backoff=FAST, job_timeout=1.5) as poller,
    ):
        started = time.monotonic()
        events = {e.job.name: e for e in await collect(poller, ["quick", "stuck"])}
    assert events["quick"].outcome is Outcome.COMPLETED
    assert events["stuck"].outcome is Outcome.TIMED_OUT
    assert 1.5 <= events["stuck"].waited < 2.5
    assert time.monotonic() - started < 3
    assert events["stuck"].details["TranscriptionJobStatus"] in ("QUEUED", "IN_PROGRESS")


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
    assert "credentials" in str(event.error).lower()


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


@pytest.mark.parametrize("retry_mode", ["legacy", "standard", "adaptive"])
async def test_any_retry_mode_survives_throttling(
    local_transcribe: LocalTranscribe, retry_mode: str
) -> None:
    """Whatever the client's retry mode, a throttled batch completes in full."""
    expected = start_batch(local_transcribe, standard=30, medical=10, shortest=0.5, longest=2)
    local_transcribe.set_faults(quota=5, burst=2)
    async with (
        local_transcribe.client(retry_mode=retry_mode) as client,
        Poller(client, backoff=FAST, not_found_grace=0.5) as poller,
    ):
        events = await collect(poller, list(expected))
    assert len(events) == len(expected)
    for event in events:
        check_event(event, expected[event.job])
    assert local_transcribe.traffic().total.throttled > 0


async def test_errors_raised_in_the_block_come_out_unwrapped(
    local_transcribe: LocalTranscribe,
) -> None:
    """An exception leaving `async with Poller` is the exception itself, not a group."""
    async with local_transcribe.client() as client:
        with pytest.raises(InvalidJobNameError):
            async with Poller(client) as poller:
                await poller.wait("bad name")
        local_transcribe.start_job("slowpoke", duration=600)

        async def time_out_inside() -> None:
            async with Poller(client) as poller:
                with anyio.fail_after(0.3):
                    await poller.wait("slowpoke")

        with pytest.raises(TimeoutError):
            await time_out_inside()
