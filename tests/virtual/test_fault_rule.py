"""The one rule for faults: a transient fault never ends a job, whatever its shape."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from typing import Any

import anyio
import botocore.exceptions
import pytest
import structlog

from transcribe_poller import Backoff, CompletionEvent, EventBridgeQueue, Outcome, Poller, Sweep
from transcribe_poller.testing import FakeTranscribe

from ._helpers import Stub, client_error, collect

pytestmark = pytest.mark.anyio

GETS_ONLY = Sweep(mode="never")


async def reported(poller: Poller, names: list[str]) -> dict[str, tuple[float, CompletionEvent]]:
    seen: dict[str, tuple[float, CompletionEvent]] = {}
    async with poller.watch(names) as events:
        async for event in events:
            seen[event.job.name] = (anyio.current_time(), event)
    return seen


# -- faults of any shape and length, for one job or many --------------------------------


@pytest.mark.parametrize("jobs", [1, 3])
@pytest.mark.parametrize("fault", ["error_rate", "drop_rate", "hang_rate"])
async def test_ten_minutes_of_faults_end_no_job(
    fake: FakeTranscribe, jobs: int, fault: str
) -> None:
    """1 or 3 jobs through 10 minutes of HTTP 500s, dropped connections or hung
    requests, default options: every job COMPLETED, reported within 30 s of recovery."""
    names = [f"f-{i}" for i in range(jobs)]
    for name in names:
        fake.start_job(name, duration=60)
    async with Poller(fake) as poller, anyio.create_task_group() as tg:

        async def storm() -> None:
            await anyio.sleep(5)
            fake.set_faults(**{fault: 1.0})
            await anyio.sleep(600)
            fake.set_faults()

        tg.start_soon(storm)
        seen = await reported(poller, names)
    assert {event.outcome for _, event in seen.values()} == {Outcome.COMPLETED}
    late = max(at for at, _ in seen.values()) - 605
    print(f"{jobs} job(s), {fault}: reported {late:.1f} s after recovery")
    assert 0 <= late <= 30


async def test_gets_failing_while_lists_answer_end_no_job(fake: FakeTranscribe) -> None:
    """30 jobs, Gets answering HTTP 500 for 15 minutes while Lists answer: every job
    COMPLETED within 30 s of recovery, with one warning for the spell."""
    rng = random.Random(3)
    names = [f"g-{i:02d}" for i in range(30)]
    for name in names:
        fake.start_job(name, duration=rng.uniform(30, 600))

    async def get(name: str) -> Any:
        if 5 <= anyio.current_time() < 905:
            raise client_error("InternalFailureException", 500)
        return await fake.get_transcription_job(TranscriptionJobName=name)

    with structlog.testing.capture_logs() as logs:
        async with Poller(Stub(fake, get)) as poller:
            seen = await reported(poller, names)
            health = poller.health
    assert {event.outcome for _, event in seen.values()} == {Outcome.COMPLETED}
    late = max(at - max(905, fake.script(name).terminal_at) for name, (at, _) in seen.items())
    assert late <= 30
    failing = [e for e in logs if e["event"].startswith("the service is failing")]
    assert len(failing) == 1
    assert failing[0]["operation"] == "get_transcription_job"
    assert health.outages == 1
    assert not health.down


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ExpiredTokenException", "The security token included in the request is expired"),
        ("InvalidSignatureException", "Signature expired: 20261204T101010Z is now earlier than"),
    ],
)
async def test_a_minute_of_expired_credentials_ends_no_job(
    fake: FakeTranscribe, code: str, message: str
) -> None:
    """200 jobs through 60 s of expired credentials (or a skewed clock): every job
    COMPLETED, each within 30 s of recovery or of its end."""
    rng = random.Random(4)
    names = [f"e-{i:03d}" for i in range(200)]
    for name in names:
        fake.start_job(name, duration=rng.uniform(5, 120))

    async def get(name: str) -> Any:
        if 5 <= anyio.current_time() < 65:
            raise client_error(code, 400, message)
        return await fake.get_transcription_job(TranscriptionJobName=name)

    async def list_(params: dict[str, Any]) -> Any:
        if 5 <= anyio.current_time() < 65:
            raise client_error(code, 400, message)
        return await fake.list_transcription_jobs(**params)

    async with Poller(Stub(fake, get, list_)) as poller:
        seen = await reported(poller, names)
    assert {event.outcome for _, event in seen.values()} == {Outcome.COMPLETED}
    late = max(at - max(65, fake.script(name).terminal_at) for name, (at, _) in seen.items())
    assert late <= 30


async def test_a_wrong_key_still_ends_jobs_at_once(fake: FakeTranscribe) -> None:
    """InvalidSignatureException that is not about expiry (a wrong secret key) is an
    answer waiting cannot change: ERROR at the first read."""
    fake.start_job("k", duration=60)

    async def get(name: str) -> Any:
        raise client_error("InvalidSignatureException", 403, "The request signature we calculated")

    async with Poller(Stub(fake, get), sweep=GETS_ONLY) as poller:
        event = await poller.wait("k")
    assert event.outcome is Outcome.ERROR
    assert event.polls == 1


@pytest.mark.parametrize("answer", ["throttled", "not_found"])
async def test_any_answer_means_the_service_is_reachable(fake: FakeTranscribe, answer: str) -> None:
    """One refused connection at start, then 15 s of throttled (or NotFound) answers:
    no job ends as unreachable; all complete once the answers are good."""
    names = [f"u-{i:02d}" for i in range(50)]
    for name in names:
        fake.start_job(name, duration=30)
    calls = 0

    async def get(name: str) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="memory://x")
        if anyio.current_time() < 20:
            if answer == "throttled":
                raise client_error("ThrottlingException", 400, "Rate exceeded")
            raise client_error("BadRequestException", 400, "The requested job couldn't be found.")
        return await fake.get_transcription_job(TranscriptionJobName=name)

    async with Poller(Stub(fake, get), sweep=GETS_ONLY, not_found_grace=60) as poller:
        events = await collect(poller, names)
    assert {e.outcome for e in events} == {Outcome.COMPLETED}


# -- sweeping never switches off for good ---------------------------------------------


async def test_a_rejected_page_token_pauses_sweeping_for_a_minute_only(
    fake: FakeTranscribe,
) -> None:
    """50 one-hour jobs, a NextToken refused once: that sweep is given up, the next
    starts from the first page, and Gets stay near one per job over the hour."""
    names = [f"t-{i:02d}" for i in range(50)]
    for name in names:
        fake.start_job(name, duration=3600)
    refused = False

    async def list_(params: dict[str, Any]) -> Any:
        nonlocal refused
        if "NextToken" in params and not refused:
            refused = True
            raise client_error("BadRequestException", 400, "The NextToken is not valid.")
        return await fake.list_transcription_jobs(**params)

    async with Poller(Stub(fake, list_=list_), sweep=Sweep(page_size=20)) as poller:
        events = await collect(poller, names)
    assert {e.outcome for e in events} == {Outcome.COMPLETED}
    assert refused
    gets = fake.traffic().by_operation["GetTranscriptionJob"].requests
    print(f"rejected token: {gets} Gets for 50 one-hour jobs")
    assert gets <= 50 * 1.2


@pytest.mark.parametrize("token", [7, "refused"])
async def test_a_page_token_refused_every_time_falls_back_then_resumes(
    fake: FakeTranscribe, token: object
) -> None:
    """A NextToken refused by the service (or not a str) at every sweep: no complete
    sweep, so Gets take over for a while, and sweeping is tried again later."""
    names = [f"b-{i:02d}" for i in range(50)]
    for name in names:
        fake.start_job(name, duration=1800)

    async def list_(params: dict[str, Any]) -> Any:
        if "NextToken" in params:
            raise client_error("BadRequestException", 400, "The NextToken is not valid.")
        page = dict(await fake.list_transcription_jobs(**params))
        if page.get("NextToken"):
            page["NextToken"] = token
        return page

    with structlog.testing.capture_logs() as logs:
        async with Poller(Stub(fake, list_=list_), sweep=Sweep(page_size=20)) as poller:
            events = await collect(poller, names)
    assert {e.outcome for e in events} == {Outcome.COMPLETED}
    stops = [e for e in logs if e["event"].startswith("sweeping stopped")]
    assert stops
    assert all(math.isfinite(e["for_seconds"]) for e in stops)


async def test_a_page_token_that_never_ends_is_bounded_by_the_list_budget(
    fake: FakeTranscribe,
) -> None:
    """A NextToken that never ends: each listing stops at max_pages and every List
    counts against the budget: an hour costs at most 3600 * list_budget, a minute's
    burst, and the pages of the last sweep (two listings of max_pages)."""
    fake.start_job("loop", duration=3600)
    for i in range(5):
        fake.start_job(f"loop-{i}", duration=3600)
    lists = 0

    async def list_(params: dict[str, Any]) -> Any:
        nonlocal lists
        lists += 1
        params.pop("NextToken", None)
        page = dict(await fake.list_transcription_jobs(**params))
        page["NextToken"] = "again"
        return page

    async with Poller(Stub(fake, list_=list_), sweep="always") as poller:
        events = await collect(poller, ["loop"] + [f"loop-{i}" for i in range(5)])
    assert {e.outcome for e in events} == {Outcome.COMPLETED}
    print(f"endless NextToken: {lists} Lists in an hour")
    assert lists <= 3600 * 1.0 + 60 + 2 * 100


# -- no client can stop polling -------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_client_cancelling_its_own_task_stops_nothing() -> None:
    """A Transcribe client that cancels its own task during a Get (nobody else
    cancelled anything): a fault of that read; the job and jobs awaited later are
    reported, and the caller's block is not cancelled."""
    fake = FakeTranscribe()
    fake.start_job("self-cancel", duration=0.05)
    rogue = True

    async def get(name: str) -> Any:
        nonlocal rogue
        if rogue:
            rogue = False
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)
        return await fake.get_transcription_job(TranscriptionJobName=name)

    backoff = Backoff(initial=0.01, maximum=0.02)
    after_block = False
    async with Poller(Stub(fake, get), backoff=backoff, sweep=GETS_ONLY) as poller:
        event = await poller.wait("self-cancel")
        fake.start_job("later", duration=0.05)
        later = await poller.wait("later")
    after_block = True
    assert event.outcome is Outcome.COMPLETED
    assert later.outcome is Outcome.COMPLETED
    assert after_block


# -- answers are checked --------------------------------------------------------------


async def test_an_answer_about_another_job_is_never_reported(fake: FakeTranscribe) -> None:
    """A Get answer naming job-10 for job-1 is a fault of that read, logged; job-1 is
    reported from its own answer."""
    fake.start_job("job-1", duration=30)
    fake.start_job("job-10", duration=1)
    mixed = 2

    async def get(name: str) -> Any:
        nonlocal mixed
        if name == "job-1" and mixed:
            mixed -= 1
            return await fake.get_transcription_job(TranscriptionJobName="job-10")
        return await fake.get_transcription_job(TranscriptionJobName=name)

    with structlog.testing.capture_logs() as logs:
        async with Poller(Stub(fake, get), sweep=GETS_ONLY) as poller:
            event = await poller.wait("job-1")
    assert event.outcome is Outcome.COMPLETED
    assert event.details["TranscriptionJobName"] == "job-1"
    assert "job-1" in (event.transcript_uri or "")
    assert sum(e["event"].startswith("answer about another job") for e in logs) == 2


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda job: job.pop("Transcript"), "COMPLETED without Transcript.TranscriptFileUri"),
        (
            lambda job: job.__setitem__("Subtitles", {"SubtitleFileUris": "s3://b/k.srt"}),
            "Subtitles.SubtitleFileUris is not a list of str",
        ),
        (
            lambda job: job.__setitem__("Transcript", {"TranscriptFileUri": 7}),
            "Transcript.TranscriptFileUri is a int, not a str",
        ),
    ],
)
async def test_a_malformed_finished_job_is_read_again_then_named(
    fake: FakeTranscribe, change: Callable[[dict[str, Any]], object], said: str
) -> None:
    """COMPLETED without its URI, or a field of the wrong type: read again a few times
    (the next answer may be right), then ERROR naming the field; never coerced."""
    fake.start_job("m", duration=1)

    async def get(name: str) -> Any:
        answer = await fake.get_transcription_job(TranscriptionJobName=name)
        job = dict(answer["TranscriptionJob"])
        if job["TranscriptionJobStatus"] == "COMPLETED":
            change(job)
        return {"TranscriptionJob": job}

    async with Poller(Stub(fake, get), sweep=GETS_ONLY) as poller:
        event = await poller.wait("m")
    assert event.outcome is Outcome.ERROR
    assert said in (event.failure_reason or "")


async def test_a_right_answer_after_a_bare_one_completes(fake: FakeTranscribe) -> None:
    """COMPLETED without a URI once, then the full answer: the job COMPLETES with it."""
    fake.start_job("bare", duration=1)
    bare = True

    async def get(name: str) -> Any:
        nonlocal bare
        answer = await fake.get_transcription_job(TranscriptionJobName=name)
        job = dict(answer["TranscriptionJob"])
        if job["TranscriptionJobStatus"] == "COMPLETED" and bare:
            bare = False
            del job["Transcript"]
        return {"TranscriptionJob": job}

    async with Poller(Stub(fake, get), sweep=GETS_ONLY) as poller:
        event = await poller.wait("bare")
    assert event.outcome is Outcome.COMPLETED
    assert event.transcript_uri


async def test_refresh_refuses_a_name_now_used_by_another_job(fake: FakeTranscribe) -> None:
    """After the job was deleted and its name reused, refresh() raises naming the job,
    rather than hand out the new job's URIs."""
    fake.start_job("reused", duration=1)
    async with Poller(fake, sweep=GETS_ONLY) as poller:
        event = await poller.wait("reused")
        fake.reset()
        await anyio.sleep(10)
        fake.start_job("reused", duration=0)
        with pytest.raises(RuntimeError, match=r"reused.*now belongs to another job"):
            await poller.refresh(event)


# -- memory ---------------------------------------------------------------------------


async def test_a_released_job_leaves_no_deadline_behind(fake: FakeTranscribe) -> None:
    """With job_timeout set, released jobs are dropped at release, not at their
    deadline hours later."""
    names = [f"r-{i}" for i in range(100)]
    for name in names:
        fake.start_job(name, duration=3600)
    async with Poller(fake, job_timeout=12 * 3600) as poller:
        with anyio.move_on_after(10):
            await collect(poller, names)
        scheduler = poller._schedulers[next(iter(poller._schedulers))]
        assert len(scheduler._deadlines) == 0
        assert len(scheduler._jobs) == 0


# -- push: a job awaited after it ended -----------------------------------------------


@pytest.mark.parametrize("sweep", ["never", "auto"])
async def test_a_job_awaited_after_it_ended_is_read_at_once_under_push(
    fake: FakeTranscribe, sweep: str
) -> None:
    """With a queue, a job that ended before it was awaited (its event long gone) is
    read at once, as without a queue, not at the next reconciliation."""
    fake.start_job("early", duration=1)
    fake.start_job("running", duration=3600)
    queue = fake.event_queue()
    config = EventBridgeQueue(queue, queue.url)
    async with (
        Poller(fake, notifications=config, sweep=sweep) as poller,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(poller.wait, "running")  # push covers the kind from now
        await anyio.sleep(60)
        event = await poller.wait("early")
        assert anyio.current_time() - 60 <= 1
        tg.cancel_scope.cancel()
    assert event.outcome is Outcome.COMPLETED
