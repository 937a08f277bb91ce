"""Faults that must never lose a job: outages, hung requests, rogue clients, odd answers."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import anyio
import anyio.lowlevel
import botocore.exceptions
import pytest
import structlog
import trio.testing

from transcribe_poller import Backoff, CompletionEvent, JobKind, JobRef, Outcome, Poller, Sweep
from transcribe_poller.testing import FakeTranscribe

from ._helpers import EXACT, Stub, collect

pytestmark = pytest.mark.anyio

GETS_ONLY = Sweep(mode="never")
OUTAGE_WARNING = "the service is failing; probing until it answers (no job ends for it)"
SIGNED = "https://bucket.s3.amazonaws.com/out.json?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"


async def timed(poller: Poller, jobs: list[str]) -> dict[str, tuple[float, CompletionEvent]]:
    """Each job's event and the virtual time it came."""
    seen: dict[str, tuple[float, CompletionEvent]] = {}
    async with poller.watch(jobs) as events:
        async for event in events:
            seen[event.job.name] = (anyio.current_time(), event)
    return seen


# -- service-wide faults ------------------------------------------------------------


@pytest.mark.parametrize("sweep", ["auto", "never"])
async def test_a_ten_minute_outage_loses_no_job(fake: FakeTranscribe, sweep: str) -> None:
    """500 jobs, the service refusing connections for 10 minutes from t=5 s: one warning,
    no ERROR, every job reported within 30 s of the service's return, swept or not."""
    rng = random.Random(18)
    names = [f"o-{i:03d}" for i in range(500)]
    for name in names:
        fake.start_job(name, duration=rng.uniform(10, 500))
    backoff = Backoff(rng=random.Random(18))
    with structlog.testing.capture_logs() as logs:
        async with (
            Poller(fake, backoff=backoff, sweep=sweep) as poller,
            anyio.create_task_group() as tg,
        ):

            async def outage() -> None:
                await anyio.sleep(5)
                fake.outage(600)

            tg.start_soon(outage)
            seen = await timed(poller, names)
            stats = poller.statistics()
    outcomes = {event.outcome for _, event in seen.values()}
    assert outcomes == {Outcome.COMPLETED}
    # Behind the account's cap some jobs end after the outage: each is reported
    # within 30 s of the later of its end and the service's return.
    late = max(at - max(605, fake.script(name).terminal_at) for name, (at, _) in seen.items())
    print(f"outage, sweep {sweep}: reported at most {late:.1f} s after recovery or end")
    assert late <= 30
    assert stats.outages == 1
    assert stats.outage_seconds == pytest.approx(600, abs=6)
    assert not stats.service_down
    said = [entry["event"] for entry in logs if entry["log_level"] in ("warning", "error")]
    assert said.count(OUTAGE_WARNING) == 1
    # Sweeping may give way once, before the outage is known as one; not again.
    assert said.count("sweeping stopped; polling each job") <= 1
    assert not any(event.startswith("job finished") for event in said)


async def test_http_500_for_every_job_is_an_outage_too(fake: FakeTranscribe) -> None:
    """Every Get answering HTTP 500 for 5 minutes: no job ends, the outage is counted
    once, and all complete after it."""
    names = [f"e-{i}" for i in range(30)]
    for name in names:
        fake.start_job(name, duration=120)
    backoff = Backoff(rng=random.Random(5))
    async with (
        Poller(fake, backoff=backoff, sweep=GETS_ONLY) as poller,
        anyio.create_task_group() as tg,
    ):

        async def storm() -> None:
            await anyio.sleep(2)
            fake.set_faults(error_rate=1.0)
            await anyio.sleep(300)
            fake.set_faults()

        tg.start_soon(storm)
        events = await collect(poller, names)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    assert stats.outages == 1
    # From the first fault seen (a job's next read, at most 20 s in) to the end.
    assert 300 - 20 <= stats.outage_seconds <= 300 + 6


async def test_probes_during_an_outage_are_few(fake: FakeTranscribe) -> None:
    """While Gets fail the poller sends one probe at a time, one per 5 s at most after
    the first few, rather than every job's retries."""
    names = [f"p-{i}" for i in range(50)]
    for name in names:
        fake.start_job(name, duration=400)
    during: list[float] = []

    async def answer(name: str) -> Any:
        if 2 <= anyio.current_time() < 302:
            during.append(anyio.current_time())
        return await fake.get_transcription_job(TranscriptionJobName=name)

    stub = Stub(fake, answer)
    async with Poller(stub, sweep=GETS_ONLY) as poller, anyio.create_task_group() as tg:

        async def outage() -> None:
            await anyio.sleep(2)
            fake.outage(300)

        tg.start_soon(outage)
        events = await collect(poller, names)
        stats = poller.statistics()
    assert all(e.outcome is Outcome.COMPLETED for e in events)
    print(f"probes: {len(during)} Gets sent during a 300 s outage of 50 jobs")
    # 5 faults to notice, probes after 0.5, 1, 2 and 4 s, then one per 5 s, one answer.
    # The faults of reads in flight as it began, probes after 0.5, 1, 2 and 4 s, then
    # one per 5 s, and one answer.
    assert len(during) <= 5 + 4 + 300 / 5 + 1
    assert stats.outages == 1


async def test_faults_of_one_job_end_it_only_with_max_faults(fake: FakeTranscribe) -> None:
    """HTTP 500 for one job while the others answer, with max_faults=3 set: that job
    alone ends with ERROR after its fourth fault; the others complete."""
    for i in range(10):
        fake.start_job(f"ok-{i}", duration=60)
    fake.start_job("sick", duration=60)

    async def answer(name: str) -> Any:
        if name == "sick":
            raise botocore.exceptions.ClientError(
                {
                    "Error": {"Code": "InternalFailureException", "Message": "oops"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                "GetTranscriptionJob",
            )
        return await fake.get_transcription_job(TranscriptionJobName=name)

    async with Poller(Stub(fake, answer), backoff=EXACT, max_faults=3, sweep=GETS_ONLY) as poller:
        events = await collect(poller, [f"ok-{i}" for i in range(10)] + ["sick"])
        stats = poller.statistics()
    by_name = {e.job.name: e for e in events}
    assert by_name["sick"].outcome is Outcome.ERROR
    assert by_name["sick"].polls == 4
    assert all(by_name[f"ok-{i}"].outcome is Outcome.COMPLETED for i in range(10))
    assert stats.outcomes[Outcome.ERROR] == 1


# -- hung requests --------------------------------------------------------------------


def hanging(fake: FakeTranscribe, prefix: str = "hung-") -> Stub:
    async def answer(name: str) -> Any:
        if name.startswith(prefix):
            await anyio.sleep_forever()
        return await fake.get_transcription_job(TranscriptionJobName=name)

    return Stub(fake, answer)


def hung_batch(fake: FakeTranscribe) -> tuple[list[str], list[str]]:
    """40 jobs whose Gets will hang (read once listings stop showing them running) and
    50 ordinary ones of 10 to 300 s."""
    rng = random.Random(2)
    hung = [f"hung-{i:02d}" for i in range(40)]
    ordinary = [f"job-{i:02d}" for i in range(50)]
    for name in hung:
        fake.start_job(name, duration=400)
    for name in ordinary:
        fake.start_job(name, duration=rng.uniform(10, 300))
    return hung, ordinary


async def test_hung_gets_never_starve_the_other_jobs_by_default(fake: FakeTranscribe) -> None:
    """40 jobs whose Gets never return and 50 ordinary jobs, default options: the 50
    are reported within 3 minutes of their end; the hung ones, retried for as long
    as they hang, end only with job_timeout."""
    hung, ordinary = hung_batch(fake)
    backoff = Backoff(rng=random.Random(2))
    async with Poller(hanging(fake), backoff=backoff, job_timeout=1200) as poller:
        seen = await timed(poller, hung + ordinary)
    late = max(seen[name][0] - fake.script(name).terminal_at for name in ordinary)
    assert late <= 180
    assert all(seen[name][1].outcome is Outcome.COMPLETED for name in ordinary)
    assert {seen[name][1].outcome for name in hung} == {Outcome.TIMED_OUT}


async def test_hung_gets_never_starve_the_other_jobs(fake: FakeTranscribe) -> None:
    """40 Gets that never return and 50 ordinary jobs, with max_faults=2: the 50 are
    reported within 3 minutes of their end; each hung job ends with ERROR at its
    third request deadline."""
    hung, ordinary = hung_batch(fake)
    backoff = Backoff(rng=random.Random(2))
    async with Poller(hanging(fake), backoff=backoff, max_faults=2) as poller:
        seen = await timed(poller, hung + ordinary)
    late = max(seen[name][0] - fake.script(name).terminal_at for name in ordinary)
    print(f"hung: ordinary jobs reported at most {late:.1f} s after their end")
    assert late <= 180
    assert all(seen[name][1].outcome is Outcome.COMPLETED for name in ordinary)
    for name in hung:
        event = seen[name][1]
        assert event.outcome is Outcome.ERROR
        assert "request_timeout" in (event.failure_reason or "")
        assert event.polls == 3  # max_faults=2: the third timeout ends it


async def test_job_timeout_fires_on_time_behind_hung_requests(fake: FakeTranscribe) -> None:
    """With 40 hung Gets and 50 jobs that outlast job_timeout, every job times out at
    job_timeout exactly, whatever it was waiting for."""
    names = [f"hung-{i:02d}" for i in range(40)] + [f"long-{i:02d}" for i in range(50)]
    for name in names:
        fake.start_job(name, duration=100_000)
    async with Poller(
        hanging(fake), job_timeout=600, request_timeout=10_000, sweep=GETS_ONLY
    ) as poller:
        seen = await timed(poller, names)
    assert {event.outcome for _, event in seen.values()} == {Outcome.TIMED_OUT}
    assert max(at for at, _ in seen.values()) == pytest.approx(600)
    assert all(event.waited == pytest.approx(600) for _, event in seen.values())


# -- cancellation and a scheduler's death ---------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_client_raising_cancelled_error_is_a_fault_of_that_job() -> None:
    """asyncio.CancelledError from the client (not from the poller's scopes) counts as
    a fault of that job; the other jobs of the kind are read as usual."""
    fake = FakeTranscribe()
    fake.start_job("ok", duration=0.05)
    fake.start_job("rogue", duration=0.05)

    async def answer(name: str) -> Any:
        if name == "rogue":
            raise asyncio.CancelledError()
        return await fake.get_transcription_job(TranscriptionJobName=name)

    backoff = Backoff(initial=0.01, maximum=0.02)
    async with Poller(Stub(fake, answer), backoff=backoff, max_faults=2, sweep=GETS_ONLY) as poller:
        events = {e.job.name: e for e in await collect(poller, ["ok", "rogue"])}
        fake.start_job("later", duration=0.05)
        later = await poller.wait("later")
    assert events["ok"].outcome is Outcome.COMPLETED
    assert events["rogue"].outcome is Outcome.ERROR
    assert "CancelledError" in (events["rogue"].failure_reason or "")
    assert later.outcome is Outcome.COMPLETED


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_list_raising_cancelled_error_is_a_fault_of_that_sweep() -> None:
    """asyncio.CancelledError from the client's List (nobody cancelled anything): a
    fault of that request; sweeping and the caller's block go on."""
    fake = FakeTranscribe()
    names = [f"s-{i}" for i in range(10)]
    for name in names:
        fake.start_job(name, duration=0.5)
    rogue = True

    async def list_jobs(**params: Any) -> Any:
        nonlocal rogue
        if rogue:
            rogue = False
            raise asyncio.CancelledError()
        return await fake.list_transcription_jobs(**params)

    class ListStub(Stub):
        async def list_transcription_jobs(self, **params: Any) -> Any:
            return await list_jobs(**params)

    stub = ListStub(fake, lambda name: fake.get_transcription_job(TranscriptionJobName=name))
    reached_the_end = False
    async with Poller(stub, backoff=Backoff(initial=0.01, maximum=0.02)) as poller:
        events = await collect(poller, names)
        reached_the_end = True
    assert reached_the_end
    assert not rogue
    assert {e.outcome for e in events} == {Outcome.COMPLETED}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_cancelling_a_waiter_during_a_request_still_cancels() -> None:
    """A real cancellation (a caller's deadline) is never taken for a client's fault."""
    fake = FakeTranscribe()
    fake.start_job("slow", duration=100)
    fake.set_faults(latency=0.5)
    async with Poller(fake, sweep=GETS_ONLY) as poller:
        with anyio.move_on_after(0.1) as scope:
            await poller.wait("slow")
    assert scope.cancelled_caught


async def test_a_scheduler_that_dies_ends_its_jobs_and_says_so(fake: FakeTranscribe) -> None:
    """A bug ending the standard scheduler: its jobs end with ERROR and an error line;
    medical jobs go on; a standard job awaited later ends at once."""
    std = [f"std-{i}" for i in range(10)]  # enough to be swept
    for name in std:
        fake.start_job(name, duration=30)
    fake.start_job("med", kind="medical", duration=30)

    def bug() -> None:
        raise RuntimeError("a bug")

    with structlog.testing.capture_logs() as logs:
        async with Poller(fake) as poller:
            poller._schedulers[JobKind.STANDARD]._hand_out = bug  # type: ignore[method-assign]
            events = {e.job.name: e for e in await collect(poller, [*std, JobRef.medical("med")])}
            later = await poller.wait("another")
    for name in std:
        assert events[name].outcome is Outcome.ERROR
        assert "a bug" in (events[name].failure_reason or "")
    assert events["med"].outcome is Outcome.COMPLETED
    assert later.outcome is Outcome.ERROR
    assert any(entry["event"].startswith("scheduler failed") for entry in logs)


# -- odd answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "said"),
    [
        ({"TranscriptionJobStatus": "DELETED"}, "TranscriptionJobStatus 'DELETED'"),
        ({"TranscriptionJobName": "odd"}, "no TranscriptionJobStatus"),
        (None, "no TranscriptionJob"),
    ],
)
async def test_an_unknown_or_missing_status_ends_the_job_after_three_reads(
    fake: FakeTranscribe, job: Any, said: str
) -> None:
    """An unknown or missing status: ERROR after three reads, naming what came back."""

    async def answer(name: str) -> Any:
        return {} if job is None else {"TranscriptionJob": job}

    async with Poller(Stub(fake, answer), backoff=EXACT, sweep=GETS_ONLY) as poller:
        event = await poller.wait("odd")
    assert event.outcome is Outcome.ERROR
    assert event.polls == 3
    assert said in (event.failure_reason or "")


async def test_a_none_answer_ends_the_job_saying_so(fake: FakeTranscribe) -> None:
    """A client answering None: ERROR with a reason; refresh() raises a TypeError."""
    fake.start_job("a", duration=0)
    nothing = False

    async def answer(name: str) -> Any:
        if nothing:
            return None
        return await fake.get_transcription_job(TranscriptionJobName=name)

    async with Poller(Stub(fake, answer), sweep=GETS_ONLY) as poller:
        done = await poller.wait("a")
        nothing = True
        event = await poller.wait("b")
        with pytest.raises(TypeError, match="answered a NoneType"):
            await poller.refresh(done)
    assert event.outcome is Outcome.ERROR
    assert "answered a NoneType, not a dict" in (event.failure_reason or "")


@pytest.mark.parametrize(
    "answer",
    [
        {"TranscriptionJob": [SIGNED]},
        {"TranscriptionJob": {"TranscriptionJobStatus": SIGNED}},
        RuntimeError(f"could not fetch {SIGNED}"),
    ],
)
async def test_no_presigned_query_string_reaches_a_message(
    fake: FakeTranscribe, answer: Any
) -> None:
    """Whatever the answer or error holds, no query string reaches a reason or a log."""

    async def get(name: str) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    with structlog.testing.capture_logs() as logs:
        async with Poller(Stub(fake, get), backoff=EXACT, sweep=GETS_ONLY) as poller:
            event = await poller.wait("leak")
    assert event.outcome is Outcome.ERROR
    texts = [event.failure_reason or "", repr(event), str(event.to_dict()), repr(logs)]
    assert all("X-Amz-Signature" not in text for text in texts)


# -- clients -------------------------------------------------------------------------


def test_a_sync_botocore_client_is_refused() -> None:
    """A synchronous botocore client is refused with a TypeError naming aiobotocore."""
    import botocore.session

    client = botocore.session.get_session().create_client(
        "transcribe", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with pytest.raises(TypeError, match="aiobotocore"):
        Poller(client)


async def test_a_standard_only_client_is_enough(fake: FakeTranscribe) -> None:
    """A client with the standard Get alone serves standard jobs; medical ones end with
    ERROR naming the missing method."""
    fake.start_job("a", duration=1)

    class StandardOnly:
        async def get_transcription_job(self, *, TranscriptionJobName: str) -> Any:
            return await fake.get_transcription_job(TranscriptionJobName=TranscriptionJobName)

    async with Poller(StandardOnly(), sweep=GETS_ONLY) as poller:  # type: ignore[arg-type]
        event = await poller.wait("a")
        medical = await poller.wait(JobRef.medical("m"))
    assert event.outcome is Outcome.COMPLETED
    assert medical.outcome is Outcome.ERROR
    assert "get_medical_transcription_job" in (medical.failure_reason or "")


async def test_releasing_a_job_abandons_its_hung_request(fake: FakeTranscribe) -> None:
    """Cancelling the waiters of jobs whose Gets hang cancels those Gets at once."""
    in_flight = 0

    async def answer(name: str) -> Any:
        nonlocal in_flight
        in_flight += 1
        try:
            await anyio.sleep_forever()
        finally:
            in_flight -= 1

    async with Poller(Stub(fake, answer), sweep=GETS_ONLY, request_timeout=1000) as poller:
        with anyio.move_on_after(30):
            await collect(poller, [f"hung-{i}" for i in range(40)])
        assert in_flight == 40
        # Before any time passes (every task has run as far as it can): released while
        # the Poller stays open, nothing is left waiting on the service.
        now = anyio.current_time()
        await trio.testing.wait_all_tasks_blocked()
        assert anyio.current_time() == now
        assert in_flight == 0


def test_the_request_deadline_follows_the_clients_timeouts() -> None:
    """request_timeout by default: the client's (connect + read) timeouts times its
    attempts, plus 5 s; 60 s for a client without a botocore config."""
    from types import SimpleNamespace

    from aiobotocore.config import AioConfig

    from transcribe_poller._client import request_deadline

    def client(**config: Any) -> Any:
        return SimpleNamespace(meta=SimpleNamespace(config=AioConfig(**config)))

    assert request_deadline(client(retries={"total_max_attempts": 1})) == 125
    assert request_deadline(client(read_timeout=10, connect_timeout=5)) == 5 * 15 + 5
    assert request_deadline(client(retries={"mode": "standard"})) == 3 * 120 + 5
    assert request_deadline(client(retries={"max_attempts": 1}, read_timeout=1)) == 2 * 61 + 5
    assert request_deadline(FakeTranscribe()) == 60
