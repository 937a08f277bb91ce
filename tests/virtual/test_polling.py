"""Per-job polling: backoff, pacing, throttling, NOT_FOUND grace, faults, timeouts, waiters."""

from __future__ import annotations

import itertools
import random
from typing import Any

import anyio
import pytest

from transcribe_poller import (
    Backoff,
    CompletionEvent,
    JobRef,
    Outcome,
    Poller,
    PollerClosedError,
    Sweep,
)
from transcribe_poller.testing import FakeTranscribe

from ._helpers import EXACT, collect

pytestmark = pytest.mark.anyio

GETS_ONLY = Sweep(mode="never")


async def test_a_job_alone_is_read_at_the_budgets_pace_until_it_ends(
    fake: FakeTranscribe,
) -> None:
    """A job awaited alone is read every 1.25 s (the default budget, 0.8 requests/s):
    at 0, 1.25, ... 30 s, the 25th read sees the end, as it happens."""
    fake.start_job("talk", duration=30)
    async with Poller(fake, backoff=EXACT) as poller:
        event = await poller.wait("talk")
    assert event.outcome is Outcome.COMPLETED
    assert event.polls == 25
    assert event.waited == pytest.approx(30)
    assert fake.traffic().job("talk").requests == 25
    assert event.transcript_uri is not None
    assert "X-Amz-Signature" in event.transcript_uri


async def test_full_jitter_spreads_reads_below_the_bound(fake: FakeTranscribe) -> None:
    """With full jitter no two of 50 jobs started together read in step, and none waits
    longer between reads than the bound."""
    for i in range(50):
        fake.start_job(f"j{i}", duration=300)
    reads: dict[str, list[float]] = {}
    real_get = fake.get_transcription_job

    async def get(*, TranscriptionJobName: str) -> dict[str, Any]:
        reads.setdefault(TranscriptionJobName, []).append(anyio.current_time())
        return await real_get(TranscriptionJobName=TranscriptionJobName)

    fake.get_transcription_job = get  # type: ignore[method-assign]
    backoff = Backoff(initial=1, maximum=20)
    async with Poller(fake, backoff=backoff, sweep=GETS_ONLY) as poller:
        await collect(poller, [f"j{i}" for i in range(50)])
    second_reads = {round(times[1], 6) for times in reads.values()}
    assert len(second_reads) == 50
    for times in reads.values():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= 20 + 0.5  # the bound, plus pacing at 25 Gets/s


async def test_max_rate_paces_every_get_of_a_kind(fake: FakeTranscribe) -> None:
    """200 eager jobs under max_rate 10: never more than 10 Gets in any second."""
    for i in range(200):
        fake.start_job(f"j{i}", duration=60)
    sent: list[float] = []
    real_get = fake.get_transcription_job

    async def get(*, TranscriptionJobName: str) -> dict[str, Any]:
        sent.append(anyio.current_time())
        return await real_get(TranscriptionJobName=TranscriptionJobName)

    fake.get_transcription_job = get  # type: ignore[method-assign]
    fast = Backoff(initial=0.01, maximum=0.05)
    async with Poller(fake, backoff=fast, max_rate=10, sweep=GETS_ONLY) as poller:
        with anyio.move_on_after(30):
            await collect(poller, [f"j{i}" for i in range(200)])
    assert len(sent) >= 290  # it kept the pace up: 10/s for 30 s
    window = 0
    for i, t in enumerate(sent):
        while sent[window] <= t - 1.0:
            window += 1
        assert i - window + 1 <= 11, f"{i - window + 1} Gets in one second at {t}"


async def test_throttling_cuts_the_rate_and_loses_nothing(fake: FakeTranscribe) -> None:
    """Behind a 10/s quota, 150 jobs all end, the rate is cut, and the service still
    answers at least three quarters of its quota while demand exceeds it."""
    for i in range(150):
        fake.start_job(f"j{i}", duration=40)
    fake.set_faults(quota={"GetTranscriptionJob": (10, 10)})
    fast = Backoff(initial=0.2, maximum=1.0)
    async with Poller(fake, backoff=fast, max_rate=25, sweep=GETS_ONLY) as poller:
        async with anyio.create_task_group() as tg:
            window: dict[str, int] = {}

            async def measure() -> None:
                await anyio.sleep(10)
                before = fake.traffic().total
                await anyio.sleep(20)
                after = fake.traffic().total
                window["passed"] = (after.requests - after.throttled) - (
                    before.requests - before.throttled
                )
                window["sent"] = after.requests - before.requests

            tg.start_soon(measure)
            events = await collect(poller, [f"j{i}" for i in range(150)])
        stats = poller.statistics()
    assert len(events) == 150
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert stats.throttled > 0
    assert window["passed"] / 20 >= 0.75 * 10
    assert window["sent"] / 20 <= 1.5 * 10


async def test_not_found_comes_exactly_when_the_grace_ends(fake: FakeTranscribe) -> None:
    """An unknown job is reported NOT_FOUND at the end of its grace period, not a backoff
    step later, with the service's message as the reason."""
    async with Poller(fake, backoff=EXACT, not_found_grace=5) as poller:
        event = await poller.wait("ghost")
    assert event.outcome is Outcome.NOT_FOUND
    assert event.waited == pytest.approx(5)
    assert event.failure_reason is not None
    assert "couldn't be found" in event.failure_reason


async def test_a_job_that_appears_within_the_grace_is_followed(fake: FakeTranscribe) -> None:
    """A job started 3 s after polling began is found and followed to its end."""
    async with (
        Poller(fake, backoff=EXACT, not_found_grace=5) as poller,
        anyio.create_task_group() as tg,
    ):

        async def start_late() -> None:
            await anyio.sleep(3)
            fake.start_job("late", duration=2)

        tg.start_soon(start_late)
        event = await poller.wait("late")
    assert event.outcome is Outcome.COMPLETED


async def test_faults_past_the_budget_end_the_job_with_error(fake: FakeTranscribe) -> None:
    """Every Get answering HTTP 500: max_faults retries, then ERROR naming the fault."""
    fake.start_job("sick", duration=600)
    fake.set_faults(error_rate=1.0)
    async with Poller(fake, backoff=EXACT, max_faults=4) as poller:
        event = await poller.wait("sick")
        stats = poller.statistics()
    assert event.outcome is Outcome.ERROR
    assert event.polls == 5
    assert stats.retried_faults == 4
    assert "InternalFailureException" in (event.failure_reason or "")


async def test_faults_between_answers_do_not_add_up(fake: FakeTranscribe) -> None:
    """Only faults in a row count: 30% of Gets failing never exhausts a budget of 10."""
    for i in range(20):
        fake.start_job(f"j{i}", duration=120)
    fake.set_faults(error_rate=0.2, drop_rate=0.1, seed=3)
    backoff = Backoff(initial=0.5, maximum=2, rng=random.Random(3))
    async with Poller(fake, backoff=backoff, max_faults=10) as poller:
        events = await collect(poller, [f"j{i}" for i in range(20)])
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert stats.retried_faults > 20


async def test_a_denied_operation_ends_only_its_jobs(fake: FakeTranscribe) -> None:
    """Access denied to medical Gets ends the medical job at once; the standard one completes."""
    fake.start_job("both", duration=10)
    fake.start_job("both", kind="medical", duration=10)
    fake.set_faults(denied=["GetMedicalTranscriptionJob"])
    async with Poller(fake, backoff=EXACT) as poller:
        events = {e.job: e for e in await collect(poller, ["both", JobRef.medical("both")])}
    denied = events[JobRef.medical("both")]
    assert denied.outcome is Outcome.ERROR
    assert denied.polls == 1
    assert "AccessDeniedException" in (denied.failure_reason or "")
    assert events[JobRef("both")].outcome is Outcome.COMPLETED


async def test_job_timeout_ends_only_the_slow_job_on_time(fake: FakeTranscribe) -> None:
    """job_timeout=30: the slow job is TIMED_OUT at exactly 30 s; the quick one completes."""
    fake.start_job("quick", duration=5)
    fake.start_job("stuck", duration=600, queued_for=1)
    async with Poller(fake, backoff=EXACT, job_timeout=30, sweep=GETS_ONLY) as poller:
        events = {e.job.name: e for e in await collect(poller, ["quick", "stuck"])}
    assert events["quick"].outcome is Outcome.COMPLETED
    stuck = events["stuck"]
    assert stuck.outcome is Outcome.TIMED_OUT
    assert stuck.waited == pytest.approx(30)
    assert "job_timeout" in (stuck.failure_reason or "")
    assert stuck.details["TranscriptionJobStatus"] == "IN_PROGRESS"


async def test_job_timeout_cuts_a_request_in_flight(fake: FakeTranscribe) -> None:
    """A Get that hangs is abandoned at the job's deadline."""
    fake.start_job("slow-service", duration=600)
    fake.set_faults(latency=100)
    async with Poller(fake, job_timeout=5) as poller:
        event = await poller.wait("slow-service")
    assert event.outcome is Outcome.TIMED_OUT
    assert event.waited == pytest.approx(5)


async def test_many_waiters_of_one_job_share_one_read_schedule(fake: FakeTranscribe) -> None:
    """25 waits and a watch on one job: one series of Gets, the same event for all."""
    fake.start_job("popular", duration=20)
    results: list[CompletionEvent] = []
    async with Poller(fake, backoff=EXACT) as poller:

        async def waiter() -> None:
            results.append(await poller.wait("popular"))

        async def watcher() -> None:
            results.extend(await collect(poller, ["popular", JobRef("popular")]))

        async with anyio.create_task_group() as tg:
            for _ in range(25):
                tg.start_soon(waiter)
            tg.start_soon(watcher)
    assert len(results) == 26
    assert all(event is results[0] for event in results)
    # Read every 1.25 s, from 0 to 20 s.
    assert fake.traffic().job("popular").requests == results[0].polls == 17


async def test_events_arrive_in_completion_order(fake: FakeTranscribe) -> None:
    """Jobs ending 5 s apart are reported in the order they ended."""
    names = [f"j{i}" for i in range(12)]
    for i, name in enumerate(reversed(names)):  # started in reverse: names sort by end
        fake.start_job(name, duration=100 - 5 * i)
    async with Poller(fake, sweep=Sweep(mode="always")) as poller:
        events = await collect(poller, list(reversed(names)))
    ended = [e.job.name for e in events]
    by_end = sorted(names, key=lambda n: fake.script(n).terminal_at)
    assert ended == by_end
    for event in events:
        detected = fake.script(event.job.name).first_terminal_read_at
        assert detected is not None
        assert detected - fake.script(event.job.name).terminal_at < 2.0


async def test_leaving_a_watch_stops_polling_its_jobs(fake: FakeTranscribe) -> None:
    """Cancelling a watch of 50 long jobs: nothing pending, and no Get after it."""
    for i in range(50):
        fake.start_job(f"long-{i}", duration=600)
    async with Poller(fake, backoff=EXACT) as poller:
        with anyio.move_on_after(10):
            await collect(poller, [f"long-{i}" for i in range(50)])
        assert poller.statistics().jobs_pending == 0
        sent = fake.traffic().total.requests
        await anyio.sleep(300)
        assert fake.traffic().total.requests == sent


async def test_a_job_another_caller_awaits_keeps_being_polled(fake: FakeTranscribe) -> None:
    """One caller giving up on a job does not stop it for another still waiting."""
    fake.start_job("shared", duration=60)
    async with Poller(fake, backoff=EXACT) as poller, anyio.create_task_group() as tg:
        result: list[CompletionEvent] = []

        async def patient() -> None:
            result.append(await poller.wait("shared"))

        tg.start_soon(patient)
        with anyio.move_on_after(10):
            await poller.wait("shared")
    assert result[0].outcome is Outcome.COMPLETED


async def test_closing_the_poller_releases_waiters_in_other_tasks(fake: FakeTranscribe) -> None:
    """A wait in another task when the poller closes raises PollerClosedError naming the job."""
    fake.start_job("forever", duration=6000)
    errors: list[BaseException] = []
    async with anyio.create_task_group() as outer, Poller(fake) as poller:

        async def waiter() -> None:
            try:
                await poller.wait("forever")
            except PollerClosedError as error:
                errors.append(error)

        outer.start_soon(waiter)
        await anyio.sleep(5)
    assert len(errors) == 1
    assert "forever" in str(errors[0])
    with pytest.raises(PollerClosedError, match="closed"):
        await poller.wait("forever")


async def test_a_malformed_answer_ends_only_that_job(fake: FakeTranscribe) -> None:
    """An answer the poller cannot read, three times in a row, ends that job with ERROR
    naming what was wrong; the others complete."""
    fake.start_job("fine", duration=3)
    fake.start_job("odd", duration=3)
    real_get = fake.get_transcription_job

    async def get(*, TranscriptionJobName: str) -> dict[str, Any]:
        if TranscriptionJobName == "odd":
            return {"TranscriptionJob": ["not", "a", "dict"]}
        return await real_get(TranscriptionJobName=TranscriptionJobName)

    fake.get_transcription_job = get  # type: ignore[method-assign]
    async with Poller(fake, backoff=EXACT) as poller:
        events = {e.job.name: e for e in await collect(poller, ["fine", "odd"])}
    assert events["fine"].outcome is Outcome.COMPLETED
    assert events["odd"].outcome is Outcome.ERROR
    assert events["odd"].polls == 3
    assert "TranscriptionJob in the answer is a list, not a dict" in (
        events["odd"].failure_reason or ""
    )


async def test_requests_in_flight_grow_with_latency(fake: FakeTranscribe) -> None:
    """With 1 s per answer, Gets still go out at about max_rate: more workers take them."""
    for i in range(100):
        fake.start_job(f"j{i}", duration=600)
    fake.set_faults(latency=1.0)
    async with Poller(fake, backoff=Backoff(initial=0.1, maximum=0.2), sweep=GETS_ONLY) as poller:
        with anyio.move_on_after(20):
            await collect(poller, [f"j{i}" for i in range(100)])
        sent = fake.traffic().total.requests
    assert sent >= 0.8 * 20 * 20  # the default max_rate of 25/s would give 500


async def test_an_error_in_the_block_comes_out_unwrapped(fake: FakeTranscribe) -> None:
    """An exception leaving `async with Poller` is the exception itself, not a group."""
    fake.start_job("slowpoke", duration=600)

    async def time_out_inside() -> None:
        async with Poller(fake) as poller:
            with anyio.fail_after(3):
                await poller.wait("slowpoke")

    with pytest.raises(TimeoutError):
        await time_out_inside()


@pytest.mark.parametrize("budget", [0.8, 0.1])
async def test_hours_long_jobs_cost_milliseconds(fake: FakeTranscribe, budget: float) -> None:
    """A 3-hour job awaited alone is read at the budget's pace to the end (hours of
    virtual time in milliseconds); a smaller budget reads it less often."""
    fake.start_job("epic", duration=3 * 3600)
    async with Poller(fake, budget=budget) as poller:
        event = await poller.wait("epic")
    assert event.outcome is Outcome.COMPLETED
    assert event.polls == pytest.approx(3 * 3600 * budget + 1, abs=1)
