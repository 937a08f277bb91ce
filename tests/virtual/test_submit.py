"""Starting batches within the account's limits, on FakeTranscribe under a virtual clock:
the cap and the Start quota hold, a slot is reused as soon as a job's end is known,
the account's own refusals adapt the batch, a re-run adopts by name, bad requests
stay local."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from transcribe_poller import (
    CompletionEvent,
    JobKind,
    JobRef,
    Outcome,
    Poller,
    PollerClosedError,
    StartRefusedError,
)
from transcribe_poller.testing import FakeTranscribe

pytestmark = pytest.mark.anyio

MEDIA = "s3://media/{}.wav"


def standard(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": MEDIA.format(name)},
        "LanguageCode": "en-US",
        **extra,
    }


def call(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "CallAnalyticsJobName": name,
        "Media": {"MediaFileUri": MEDIA.format(name)},
        **extra,
    }


async def run(
    poller: Poller, requests: Any, *, stop_after: int | None = None
) -> list[CompletionEvent]:
    seen: list[CompletionEvent] = []
    async with poller.submit(requests) as events:
        async for event in events:
            seen.append(event)
            if stop_after is not None and len(seen) == stop_after:
                break
    return seen


class Peak:
    """The most jobs of a kind running at once on the fake, sampled every 0.1 s."""

    def __init__(self, fake: FakeTranscribe, kind: JobKind) -> None:
        self.fake, self.kind, self.most = fake, kind, 0

    async def watch(self) -> None:
        while True:
            now = self.fake.now()
            running = sum(
                1
                for (kind, _), script in self.fake.scripts.items()
                if kind is self.kind and script.runs_from <= now < script.terminal_at
            )
            self.most = max(self.most, running)
            await anyio.sleep(0.1)


async def test_the_cap_holds_and_a_slot_is_reused_when_a_job_ends() -> None:
    """20 one-minute jobs, 5 at a time: no Start is refused, never more than 5 run,
    and the batch takes 4 waves plus the time to learn of each wave's end."""
    fake = FakeTranscribe(run_time=60)
    peak = Peak(fake, JobKind.STANDARD)
    async with Poller(fake, max_running=5) as poller, anyio.create_task_group() as tg:
        tg.start_soon(peak.watch)
        began = anyio.current_time()
        events = await run(poller, [standard(f"job-{i}") for i in range(20)])
        took = anyio.current_time() - began
        tg.cancel_scope.cancel()
    assert [e.outcome for e in events] == [Outcome.COMPLETED] * 20
    starts = fake.traffic().by_operation["StartTranscriptionJob"]
    assert (starts.requests, starts.throttled) == (20, 0)
    assert peak.most == 5
    assert 240 <= took <= 240 + 4 * 2.0  # each wave's end known within 2 s


async def test_the_start_quota_holds() -> None:
    """Starts keep within start_rate: 50 Starts at 10/s take about 5 s."""
    fake = FakeTranscribe(run_time=1)
    sent: list[float] = []
    original = fake.start_transcription_job

    async def timed(**params: Any) -> dict[str, Any]:
        sent.append(anyio.current_time())
        return await original(**params)

    fake.start_transcription_job = timed  # type: ignore[method-assign]
    async with Poller(fake, start_rate=10) as poller:
        await run(poller, [standard(f"q-{i}") for i in range(50)])
    assert len(sent) == 50
    for first, later in zip(sent, sent[10:], strict=False):
        assert later - first >= 0.99  # never more than 10 in a second


async def test_a_smaller_account_cap_never_reaches_the_caller() -> None:
    """Other processes hold slots (the account allows 3, the poller thinks 250):
    LimitExceededException answers adapt the batch, every job completes, and the
    refusals stay few."""
    fake = FakeTranscribe(run_time=30, concurrency={"standard": 3})
    peak = Peak(fake, JobKind.STANDARD)
    async with Poller(fake) as poller, anyio.create_task_group() as tg:
        tg.start_soon(peak.watch)
        events = await run(poller, [standard(f"s-{i}") for i in range(12)])
        tg.cancel_scope.cancel()
    assert {e.outcome for e in events} == {Outcome.COMPLETED}
    assert len(events) == 12
    assert peak.most == 3
    starts = fake.traffic().by_operation["StartTranscriptionJob"]
    refused = starts.requests - 12
    # The first burst finds the cap (9 of 12 refused), then at most one refused
    # probe for room per job end.
    assert refused <= 9 + 12


async def test_queued_requests_take_no_slot() -> None:
    """Requests asking for job queueing go to the service's queue at once."""
    fake = FakeTranscribe(run_time=60, concurrency={"standard": 2})
    role = "arn:aws:iam::123456789012:role/transcribe"
    deferred = {"AllowDeferredExecution": True, "DataAccessRoleArn": role}
    requests = [standard(f"d-{i}", JobExecutionSettings=deferred) for i in range(6)]
    async with Poller(fake, max_running=2) as poller:
        began = anyio.current_time()
        started: list[float] = []
        async with poller.submit(requests) as events:
            await anyio.sleep(2)
            started = [fake.script(f"d-{i}").started_at for i in range(6)]
            seen = [event async for event in events]
        took = anyio.current_time() - began
    assert all(at - began < 1 for at in started)  # all six Starts went at once
    assert len(seen) == 6
    assert 180 <= took <= 186  # the service ran them 2 at a time


async def test_a_rerun_adopts_by_name_and_starts_nothing_twice() -> None:
    """A batch stopped at half-way, run again: the jobs that ended are reported at
    once, those still running are awaited, none is started twice, and only the
    Starts already under way when the first one met a ConflictException conflict:
    from then on a Get comes first."""
    fake = FakeTranscribe(run_time=lambda job: 30 + int(job.name.split("-")[1]))
    requests = [standard(f"r-{i}") for i in range(40)]
    async with Poller(fake, max_running=10) as poller:
        first = await run(poller, requests, stop_after=20)  # the crash
    assert len(first) == 20
    async with Poller(fake, max_running=10) as poller:
        began = anyio.current_time()
        async with poller.submit(requests) as events:
            again = []
            async for event in events:
                if not again:
                    first_report = anyio.current_time() - began
                again.append(event)
    assert sorted(e.job.name for e in again) == sorted(f"r-{i}" for i in range(40))
    assert {e.outcome for e in again} == {Outcome.COMPLETED}
    assert first_report < 5
    starts = fake.traffic().by_operation["StartTranscriptionJob"].requests
    assert len(fake.scripts) == 40  # none started twice
    assert starts <= 1.1 * 40


async def test_a_name_taken_by_other_media_is_an_error_of_that_job() -> None:
    fake = FakeTranscribe(run_time=5)
    await fake.start_transcription_job(**standard("taken", Media={"MediaFileUri": "s3://x/y.wav"}))
    async with Poller(fake) as poller:
        events = await run(poller, [standard("taken"), standard("free")])
    by_name = {e.job.name: e for e in events}
    assert by_name["free"].outcome is Outcome.COMPLETED
    taken = by_name["taken"]
    assert taken.outcome is Outcome.ERROR
    assert isinstance(taken.error, StartRefusedError)
    assert "taken by a job of other media ('s3://x/y.wav'" in str(taken.error)


@pytest.mark.parametrize(
    ("request_", "job", "says"),
    [
        ({"Media": {"MediaFileUri": "s3://a"}}, "request-1", "names no job: it needs one of"),
        ("not a dict", "request-1", "is 'not a dict', not a dict of Start parameters"),
        (standard("a b"), "request-1", "TranscriptionJobName: invalid job name 'a b'"),
        ({"TranscriptionJobName": "m"}, "m", "the request has no Media.MediaFileUri"),
        (
            {**standard("two"), "CallAnalyticsJobName": "two"},
            "request-1",
            "names two jobs: TranscriptionJobName and CallAnalyticsJobName",
        ),
        (
            standard("bad-param", LanguageCode=5),
            "bad-param",
            "botocore refused the request: Parameter validation failed",
        ),
    ],
)
async def test_a_bad_request_is_its_own_error_and_the_batch_goes_on(
    request_: Any, job: str, says: str
) -> None:
    fake = FakeTranscribe(run_time=5)
    async with Poller(fake) as poller:
        events = await run(poller, [request_, standard("good")])
    by_name = {e.job.name: e for e in events}
    assert by_name["good"].outcome is Outcome.COMPLETED
    bad = by_name[job]
    assert bad.outcome is Outcome.ERROR
    assert isinstance(bad.error, StartRefusedError)
    assert says in str(bad.error)


async def test_a_start_denied_says_which_permission() -> None:
    fake = FakeTranscribe(run_time=5)
    fake.set_faults(denied=["StartCallAnalyticsJob"])
    role = "arn:aws:iam::123456789012:role/calls"
    async with Poller(fake) as poller:
        events = await run(poller, [call("c", DataAccessRoleArn=role), standard("s")])
    by_name = {e.job.name: e for e in events}
    assert by_name["s"].outcome is Outcome.COMPLETED
    assert str(by_name["c"].error) == (
        "job call-analytics:c was not started: access denied (AccessDeniedException): the "
        f"caller needs transcribe:StartCallAnalyticsJob and iam:PassRole on {role}"
    )


async def test_transient_faults_and_throttling_never_end_a_start() -> None:
    fake = FakeTranscribe(run_time=5)
    fake.set_faults(error_rate=0.5, drop_rate=0.2, quota={"StartTranscriptionJob": 2})
    async with Poller(fake) as poller:
        events = await run(poller, [standard(f"f-{i}") for i in range(10)])
    assert {e.outcome for e in events} == {Outcome.COMPLETED}
    assert len(events) == 10


async def test_requests_are_read_as_slots_free() -> None:
    """A generator of requests is read lazily: never far ahead of the slots."""
    fake = FakeTranscribe(run_time=60)
    read = 0

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal read
        for i in range(100_000):
            read += 1
            yield standard(f"g-{i}")

    async with Poller(fake, max_running=5) as poller, poller.submit(endless()) as events:
        async for _ in events:
            break
    assert read <= 5 + 1000 + 2  # the slots, the lane, the one in hand


async def test_an_async_iterable_and_call_analytics_alongside() -> None:
    fake = FakeTranscribe(run_time=20)

    async def both() -> AsyncIterator[dict[str, Any]]:
        for i in range(6):
            yield standard(f"a-{i}")
            yield call(f"c-{i}")

    peak = Peak(fake, JobKind.CALL_ANALYTICS)
    async with (
        Poller(fake, max_running={"call-analytics": 2}) as poller,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(peak.watch)
        events = await run(poller, both())
        tg.cancel_scope.cancel()
    assert len(events) == 12
    assert {e.job.kind for e in events} == {JobKind.STANDARD, JobKind.CALL_ANALYTICS}
    assert peak.most == 2


async def test_misuse_is_refused() -> None:
    fake = FakeTranscribe()
    poller = Poller(fake)
    with pytest.raises(TypeError, match="iterable"):
        poller.submit(standard("x"))  # type: ignore[arg-type]
    with pytest.raises(PollerClosedError):
        async with poller.submit([standard("x")]):
            pass
    async with poller:
        with pytest.raises(TypeError, match="must be entered first"):
            async for _ in poller.submit([standard("x")]):  # type: ignore[attr-defined]
                pass
    with pytest.raises(ValueError, match="max_running"):
        Poller(fake, max_running={"nope": 3})
    with pytest.raises(ValueError, match="start_rate"):
        Poller(fake, start_rate=0)


async def test_a_failing_iterator_is_raised_after_the_events_before_it() -> None:
    fake = FakeTranscribe(run_time=5)

    def broken() -> Iterator[dict[str, Any]]:
        yield standard("fine")
        raise OSError("manifest unreadable")

    async with Poller(fake) as poller:
        with pytest.raises(OSError, match="manifest unreadable"):
            await run(poller, broken())
    assert fake.script("fine").kind is JobKind.STANDARD


async def test_leaving_early_releases_the_jobs() -> None:
    fake = FakeTranscribe(run_time=600)
    async with Poller(fake, max_running=3) as poller:
        async with poller.submit([standard(f"e-{i}") for i in range(5)]):
            await anyio.sleep(5)
        assert poller.statistics().jobs_pending == 0
        # The slots went back: a new batch starts at once.
        events = await run(poller, [standard("after")])
    assert events[0].job == JobRef("after")


async def test_leaving_while_starts_wait_for_the_quota_keeps_no_slot() -> None:
    """Starts still waiting for the Start quota (or for a Get, or a retry) when the
    block is left give their slots back: the next batch runs at full width."""
    fake = FakeTranscribe(run_time=60)
    async with Poller(fake, max_running=10, start_rate=2) as poller:
        async with poller.submit([standard(f"a-{i}") for i in range(20)]):
            await anyio.sleep(1)  # 2 Starts sent, 8 wait for the quota
        began = anyio.current_time()
        events = await run(poller, [standard(f"b-{i}") for i in range(10)])
        took = anyio.current_time() - began
    assert len(events) == 10
    assert took < 60 + 5 + 5  # one wave (5 s of Starts at 2/s), not five


async def test_a_request_botocore_refuses_before_any_answer_ends_at_once() -> None:
    """A request the client will not send says nothing of whether the service can be
    reached: its job's ERROR comes at once, not after unreachable_after."""
    fake = FakeTranscribe(run_time=5)
    async with Poller(fake) as poller:
        began = anyio.current_time()
        events = await run(poller, [standard("typo", LanguageCode=3)])
        assert anyio.current_time() - began < 1
    assert "botocore refused the request" in str(events[0].error)
