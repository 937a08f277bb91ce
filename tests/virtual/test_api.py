"""What a caller meets at the surface: argument checks, misuse, serialisation, a service
that cannot be reached, missing credentials, and where log lines go."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import subprocess
import sys
import textwrap

import anyio
import pytest
import structlog

from transcribe_poller import (
    Backoff,
    JobRef,
    Outcome,
    Poller,
    ServiceUnreachableError,
)
from transcribe_poller.testing import FakeTranscribe

from ._helpers import collect

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"backoff": 5}, TypeError, "backoff must be a Backoff"),
        ({"sweep": 3}, TypeError, "sweep must be a Sweep"),
        ({"sweep": "sometimes"}, ValueError, "Sweep.mode"),
        ({"max_rate": "5"}, TypeError, "max_rate must be a number"),
        ({"max_rate": 0}, ValueError, "max_rate must be a positive number"),
        ({"max_rate": math.inf}, ValueError, "max_rate"),
        ({"job_timeout": -1}, ValueError, "job_timeout"),
        ({"not_found_grace": math.nan}, ValueError, "not_found_grace"),
        ({"max_faults": 1.5}, TypeError, "max_faults"),
        ({"max_faults": -1}, ValueError, "max_faults"),
        ({"request_timeout": 0}, ValueError, "request_timeout"),
        ({"request_timeout": "9"}, TypeError, "request_timeout"),
        ({"unreachable_after": True}, TypeError, "unreachable_after"),
    ],
)
def test_bad_arguments_are_refused_at_construction(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    """Each bad option raises at once, naming the option and what it takes."""
    with pytest.raises(error, match=match):
        Poller(FakeTranscribe(), **kwargs)  # type: ignore[arg-type]


def test_a_client_that_is_not_one_is_refused() -> None:
    """Poller(None) says what a client must be, before anything runs."""
    with pytest.raises(TypeError, match="client must be an aiobotocore Transcribe client"):
        Poller(None)  # type: ignore[arg-type]


async def test_sweep_accepts_its_mode_by_name(fake: FakeTranscribe) -> None:
    """sweep="never" polls each job with Get only, even with many jobs pending."""
    for i in range(20):
        fake.start_job(f"j{i}", duration=5)
    async with Poller(fake, sweep="never") as poller:
        await collect(poller, [f"j{i}" for i in range(20)])
        assert poller.statistics().list_requests == 0


async def test_watch_used_without_async_with_says_how(fake: FakeTranscribe) -> None:
    """`async for` straight on watch() explains the `async with` it needs."""
    async with Poller(fake) as poller:
        with pytest.raises(TypeError, match=r"async with poller\.watch\(jobs\) as events"):
            async for _ in poller.watch(["a"]):  # type: ignore[attr-defined]
                pass


async def test_watch_of_no_jobs_yields_nothing(fake: FakeTranscribe) -> None:
    """An empty watch is an empty stream, like wait_for_jobs([]) is an empty list."""
    async with Poller(fake) as poller:
        assert await collect(poller, []) == []


async def test_events_and_statistics_serialise(fake: FakeTranscribe) -> None:
    """to_dict() is JSON-safe; asdict, deepcopy and pickle work; reprs are plain."""
    fake.start_job("done", duration=1, redaction="redacted")
    fake.start_job("gone", kind="medical", duration=1, fail_with="silence")
    async with Poller(fake) as poller:
        events = {e.job.name: e for e in await collect(poller, ["done", JobRef.medical("gone")])}
        stats = poller.statistics()
    done = events["done"]
    record = json.loads(json.dumps(done.to_dict()))
    assert record["job"] == "done"
    assert record["kind"] == "standard"
    assert record["outcome"] == "COMPLETED"
    assert record["redacted_transcript_uri"] == done.redacted_transcript_uri
    assert json.loads(json.dumps(events["gone"].to_dict()))["failure_reason"] == "silence"
    assert dataclasses.asdict(done)["details"]["TranscriptionJobStatus"] == "COMPLETED"
    assert pickle.loads(pickle.dumps(done)) == done
    with pytest.raises(TypeError):
        done.details["TranscriptionJobStatus"] = "QUEUED"  # type: ignore[index]
    plain = json.loads(json.dumps(stats.to_dict()))
    assert plain["outcomes"]["COMPLETED"] == 1
    assert plain["kinds"]["medical"]["outcomes"]["FAILED"] == 1
    text = repr(stats)
    assert "mappingproxy" not in text
    assert "<Outcome" not in text
    assert "COMPLETED: 1" in text
    assert stats.kinds[JobRef("x").kind].finished == 1


async def test_an_unreachable_service_ends_every_job_at_once(fake: FakeTranscribe) -> None:
    """No connection and no answer ever: one warning at the first failure, then after
    unreachable_after every job ends with ERROR naming the endpoint, with one error line."""
    for i in range(30):
        fake.start_job(f"j{i}", duration=600)
    fake.outage(math.inf)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake, unreachable_after=15) as poller:
            events = await collect(poller, [f"j{i}" for i in range(30)])
    assert all(e.outcome is Outcome.ERROR for e in events)
    assert all(isinstance(e.error, ServiceUnreachableError) for e in events)
    # 15 s after the first failed connection (the first sweep's, within 1.5 s).
    assert len({e.waited for e in events}) == 1
    assert 15 <= events[0].waited <= 16.5
    assert "memory://fake-transcribe" in str(events[0].error)
    assert "no request ever answered" in str(events[0].error)
    levels = [(entry["log_level"], entry["event"]) for entry in logs]
    assert sum(level == "warning" for level, _ in levels) == 1
    assert sum(level == "error" for level, _ in levels) == 1


async def test_connection_failures_after_a_success_are_only_faults(
    fake: FakeTranscribe,
) -> None:
    """Once the service has answered, a long outage is retried within the fault budget."""
    fake.start_job("a", duration=200)
    async with (
        Poller(fake, backoff=Backoff(maximum=5), unreachable_after=1) as poller,
        anyio.create_task_group() as tg,
    ):

        async def outage() -> None:
            await anyio.sleep(2)
            fake.outage(10)

        tg.start_soon(outage)
        event = await poller.wait("a")
    assert event.outcome is Outcome.COMPLETED


async def test_missing_credentials_end_every_job_with_one_error() -> None:
    """Without credentials, all jobs end at once with one error line, not one per job."""
    fake = FakeTranscribe(credentials=False)
    with structlog.testing.capture_logs() as logs:
        async with Poller(fake) as poller:
            events = await collect(poller, [f"j{i}" for i in range(10)])
    assert all(e.outcome is Outcome.ERROR for e in events)
    assert len({e.waited for e in events}) == 1  # at once, at the first request
    assert events[0].waited <= 1.5
    assert "no AWS credentials" in str(events[0].error)
    assert sum(entry["log_level"] in ("warning", "error") for entry in logs) == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
def test_log_lines_stay_off_stdout_without_logging_set_up(anyio_backend: str) -> None:
    """With neither structlog nor logging configured, the library prints nothing to stdout
    and only its warnings to stderr."""
    script = textwrap.dedent(
        """
        import anyio
        from transcribe_poller import Poller
        from transcribe_poller.testing import FakeTranscribe

        async def main():
            fake = FakeTranscribe()
            fake.start_job("quiet", duration=0.2)
            async with Poller(fake, not_found_grace=0.2) as poller:
                await poller.wait("quiet")
                await poller.wait("missing-job")  # NOT_FOUND: a warning

        anyio.run(main)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "event=poll" not in result.stderr  # no debug lines
    assert 'event="job finished" job=missing-job' in result.stderr


async def test_an_aiobotocore_client_on_trio_is_refused_in_one_line() -> None:
    """aiobotocore runs on asyncio only: entering a Poller with one on trio raises
    TypeError saying so, instead of every job ending with ERROR a minute later."""
    from aiobotocore.client import AioBaseClient

    class Client(AioBaseClient):  # type: ignore[misc]
        async def get_transcription_job(self, **params: object) -> dict[str, object]:
            raise AssertionError("never sent")

    # Enough of a client for the check, without a session (which needs asyncio).
    client = object.__new__(Client)
    poller = Poller(client)
    with pytest.raises(TypeError, match="aiobotocore client, which runs on asyncio only"):
        async with poller:
            pass
