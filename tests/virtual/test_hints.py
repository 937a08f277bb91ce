"""Hint sources on one kind's scheduler: right, wrong, lost and repeated hints; sources
starting, stopping, falling back and restarting; several sources at once."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping

import anyio
import anyio.lowlevel
import pytest
import structlog

from transcribe_poller import CompletionEvent, JobRef, Outcome
from transcribe_poller._hints import HintFeed
from transcribe_poller._job import Policy
from transcribe_poller._kinds import KINDS
from transcribe_poller._ratelimit import RateLimiter
from transcribe_poller._request import Reachability, Sender
from transcribe_poller._scheduler import Scheduler
from transcribe_poller.testing import FakeTranscribe

from ._helpers import EXACT

pytestmark = pytest.mark.anyio
STANDARD = KINDS[JobRef("x").kind]


class ScriptedSource:
    """A hint source driven by the test: it runs ``script(feed)`` while wanted."""

    def __init__(
        self,
        script: Callable[[HintFeed], object],
        *,
        reconcile_after: float = 120.0,
        threshold: int = 1,
        name: str = "scripted",
    ) -> None:
        self.script = script
        self.reconcile_after = reconcile_after
        self.threshold = threshold
        self.name = name
        self.runs = 0
        self.cancelled = 0
        self.push = False
        self.reconcile_interval = reconcile_after

    def wanted(self, pending: int, running: bool, pushed: float | None) -> bool:
        return pending >= self.threshold

    def rate_limits(self) -> Mapping[str, float]:
        return {}

    async def run(self, feed: HintFeed) -> float:
        self.runs += 1
        try:
            result = await self.script(feed)  # type: ignore[misc]
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        return float(result)


class Events:
    """The scheduler's delivery: events by job name, with the time each came."""

    def __init__(self) -> None:
        self.by_name: dict[str, tuple[float, CompletionEvent]] = {}

    def deliver(self, event: CompletionEvent) -> None:
        assert event.job.name not in self.by_name, "one event per job"
        self.by_name[event.job.name] = (anyio.current_time(), event)


@pytest.fixture
async def world(fake: FakeTranscribe) -> AsyncIterator[World]:
    async with anyio.create_task_group() as tg:
        yield World(fake, tg)
        tg.cancel_scope.cancel()


class World:
    def __init__(self, fake: FakeTranscribe, tg: anyio.abc.TaskGroup) -> None:
        self.fake = fake
        self.tg = tg
        self.events = Events()

    async def scheduler(self, *sources: ScriptedSource) -> Scheduler:
        log = structlog.get_logger()
        sender = Sender(Reachability("memory", 15.0, log), log)
        scheduler = Scheduler(
            spec=STANDARD,
            client=self.fake,
            policy=Policy(STANDARD, EXACT, 5.0, 10, log),
            limiter=RateLimiter(25),
            sender=sender,
            sources=sources,
            delivery=self.events,
            job_timeout=None,
            log=log,
        )
        await self.tg.start(scheduler.run)
        return scheduler

    async def until_done(self, names: list[str]) -> None:
        """Wait (in virtual time, so at no cost) until each job has its event."""
        with anyio.fail_after(3600):
            while any(name not in self.events.by_name for name in names):  # noqa: ASYNC110
                await anyio.sleep(0.05)


async def forever(feed: HintFeed) -> float:
    await anyio.sleep_forever()
    raise AssertionError


async def test_a_right_hint_brings_the_only_read(world: World) -> None:
    """Under a covering source the first read waits for the hint, and one Get ends the job."""
    world.fake.start_job("a", duration=30)

    async def hint_at_31(feed: HintFeed) -> float:
        await anyio.sleep(31)
        feed.may_have_ended("a")
        await anyio.sleep_forever()
        raise AssertionError

    scheduler = await world.scheduler(ScriptedSource(hint_at_31))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    at, event = world.events.by_name["a"]
    assert event.outcome is Outcome.COMPLETED
    assert at == pytest.approx(31)
    assert event.polls == 1


async def test_a_wrong_hint_costs_one_read_and_its_repeats_are_ignored(world: World) -> None:
    """A hint for a running job costs one Get; hints right after it are ignored for a
    while; a hint after that pause is followed."""
    world.fake.start_job("a", duration=60)
    reads: list[int] = []

    async def hints(feed: HintFeed) -> float:
        await anyio.sleep(10)
        feed.may_have_ended("a")  # wrong: the job runs until 60 s
        await anyio.sleep(0.1)
        reads.append(world.fake.traffic().job("a").requests)
        feed.may_have_ended("a")  # within the pause: ignored
        feed.may_have_ended("a")
        await anyio.sleep(5)
        reads.append(world.fake.traffic().job("a").requests)
        await anyio.sleep(55)  # at 70 s, long after the pause
        feed.may_have_ended("a")
        await anyio.sleep_forever()
        raise AssertionError

    scheduler = await world.scheduler(ScriptedSource(hints))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    at, event = world.events.by_name["a"]
    assert reads == [1, 1]
    assert scheduler.counts.wrong_hints == 1
    assert event.polls == 2
    assert at == pytest.approx(70, abs=0.2)


async def test_repeated_hints_cost_one_read(world: World) -> None:
    """The same hint ten times at once is one Get."""
    world.fake.start_job("a", duration=5)

    async def hints(feed: HintFeed) -> float:
        await anyio.sleep(6)
        for _ in range(10):
            feed.may_have_ended("a")
        await anyio.sleep_forever()
        raise AssertionError

    scheduler = await world.scheduler(ScriptedSource(hints))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    assert world.events.by_name["a"][1].polls == 1


async def test_hints_about_unknown_jobs_are_ignored(world: World) -> None:
    """Hints for jobs nobody awaits here send nothing."""

    async def hints(feed: HintFeed) -> float:
        for i in range(100):
            feed.may_have_ended(f"other-{i}")
        await anyio.sleep_forever()
        raise AssertionError

    world.fake.start_job("a", duration=5)
    scheduler = await world.scheduler(ScriptedSource(hints, reconcile_after=10))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    assert world.fake.traffic().total.requests == 1


async def test_a_lost_hint_costs_latency_up_to_the_reconcile_interval(world: World) -> None:
    """With no hint at all, a covered job is read every reconcile_after seconds."""
    world.fake.start_job("a", duration=25)
    scheduler = await world.scheduler(ScriptedSource(forever, reconcile_after=10))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    at, event = world.events.by_name["a"]
    assert at == pytest.approx(30)  # reads at 10, 20, 30
    assert event.polls == 3


async def test_a_source_that_stops_hands_jobs_back_to_backoff_and_restarts(
    world: World,
) -> None:
    """A source returning 60 leaves its jobs to their backoff at once, and is started
    again 60 s later while jobs are still pending."""
    world.fake.start_job("a", duration=8)
    world.fake.start_job("b", duration=500)

    async def give_up(feed: HintFeed) -> float:
        await anyio.sleep(2)
        return 60.0

    source = ScriptedSource(give_up)
    scheduler = await world.scheduler(source)
    scheduler.add([JobRef("a")])
    scheduler.add([JobRef("b")])
    await world.until_done(["a"])
    at, _ = world.events.by_name["a"]
    assert at < 8 + 20  # by its backoff, not the 120 s reconciliation
    assert source.runs == 1
    await anyio.sleep(70 - anyio.current_time())
    assert source.runs >= 2


async def test_a_failing_source_is_not_restarted(world: World) -> None:
    """A source raising an error is logged and left off; jobs still end by their Gets."""

    async def broken(feed: HintFeed) -> float:
        raise RuntimeError("cannot parse")

    world.fake.start_job("a", duration=30)
    source = ScriptedSource(broken)
    scheduler = await world.scheduler(source)
    with structlog.testing.capture_logs() as logs:
        scheduler.add([JobRef("a")])
        await world.until_done(["a"])
    assert source.runs == 1
    assert any("cannot parse" in str(entry.get("error")) for entry in logs)
    assert world.events.by_name["a"][1].outcome is Outcome.COMPLETED


async def test_a_source_runs_only_while_wanted(world: World) -> None:
    """A source with a threshold of 3 starts with the third job and is cancelled when
    jobs drop below it again."""
    source = ScriptedSource(forever, threshold=3, reconcile_after=1)
    for name, duration in (("a", 5), ("b", 50), ("c", 50)):
        world.fake.start_job(name, duration=duration)
    scheduler = await world.scheduler(source)
    scheduler.add([JobRef("a")])
    scheduler.add([JobRef("b")])
    await anyio.lowlevel.checkpoint()
    assert source.runs == 0
    scheduler.add([JobRef("c")])
    await anyio.sleep(1)
    assert source.runs == 1
    await world.until_done(["a"])
    await anyio.sleep(0.1)
    assert source.cancelled == 1
    scheduler.release(JobRef("b"))
    scheduler.release(JobRef("c"))
    assert scheduler.count() == 0


async def test_two_sources_cover_one_kind_together(world: World) -> None:
    """The shorter reconcile interval applies; hints from either count; when one stops,
    the other keeps covering, so jobs do not fall back to backoff."""
    world.fake.start_job("a", duration=12)
    world.fake.start_job("b", duration=90)

    async def quick_then_stop(feed: HintFeed) -> float:
        await anyio.sleep(13)
        feed.may_have_ended("a")
        await anyio.sleep(1)
        return math.inf

    slow = ScriptedSource(forever, reconcile_after=40, name="slow")
    quick = ScriptedSource(quick_then_stop, reconcile_after=200, name="quick")
    scheduler = await world.scheduler(slow, quick)
    scheduler.add([JobRef("a")])
    scheduler.add([JobRef("b")])
    await world.until_done(["a", "b"])
    at_a, event_a = world.events.by_name["a"]
    at_b, event_b = world.events.by_name["b"]
    assert at_a == pytest.approx(13)
    assert event_a.polls == 1
    assert at_b == pytest.approx(120)  # reads at 40, 80, 120: still covered by "slow"
    assert event_b.polls == 3


async def test_a_hint_during_a_read_brings_another_read(world: World) -> None:
    """A hint that comes while a Get is under way is not lost: one more Get follows."""
    world.fake.start_job("a", duration=11)
    world.fake.set_faults(latency=1.0)

    async def hints(feed: HintFeed) -> float:
        await anyio.sleep(9.8)
        feed.may_have_ended("a")  # a Get from 9.8 to 10.8: answers IN_PROGRESS
        await anyio.sleep(0.5)
        feed.may_have_ended("a")  # while that Get is under way
        await anyio.sleep_forever()
        raise AssertionError

    scheduler = await world.scheduler(ScriptedSource(hints))
    scheduler.add([JobRef("a")])
    await world.until_done(["a"])
    at, event = world.events.by_name["a"]
    assert event.outcome is Outcome.COMPLETED
    assert at == pytest.approx(11.8, abs=0.05)
