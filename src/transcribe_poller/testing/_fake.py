"""FakeTranscribe: an in-memory Transcribe client for fast unit tests.

No moto, no sockets, no botocore request machinery: the Get and List operations
answer from memory, with the shapes and the errors of the real service (errors are
botocore's own ``ClientError`` and connection exceptions, so the poller sorts them
exactly as it would on the wire). Jobs follow the event loop's clock
(``anyio.current_time()``), so under a virtual clock (trio's ``MockClock``, or
``looptime`` on asyncio) a test of a ten-minute job takes milliseconds.
"""

from __future__ import annotations

import collections
import contextlib
import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, TypeAlias

import anyio
import botocore.exceptions

from .._jobs import JobKind, JobRef
from .._kinds import KINDS, KindSpec
from ._account import DEFAULT_CONCURRENCY, MAX_QUEUED, Account, Concurrency
from ._answers import client_error, describe_job, list_page, not_found
from ._contract import ScriptingMixin
from ._fakequeue import FakeEventQueue
from ._faults import Counts, Faults, Gate, TrafficReport, Verdict
from ._script import JobSpec, ScriptedJob, check_duration
from ._start import (
    CONFLICT_MESSAGE,
    LIMIT_MESSAGE,
    QUEUE_FULL_MESSAGE,
    START_OPERATIONS,
    read_start,
)

ENDPOINT = "memory://fake-transcribe"
DEFAULT_RUN_TIME = 5.0  # seconds a job started through the API runs, by default

RunTime: TypeAlias = float | Callable[[JobRef], float]


class FakeTranscribe(ScriptingMixin):
    """An in-memory stand-in for an aiobotocore Transcribe client.

    Pass it wherever a client goes (``Poller(FakeTranscribe())``). Script jobs with
    :meth:`start_job` (the same arguments as ``LocalTranscribe.start_job``), faults
    and quotas with :meth:`set_faults` (the same as ``LocalTranscribe.set_faults``;
    ``drop_rate`` raises a dropped connection, ``hang_rate`` never answers), an
    unreachable service with :meth:`outage`, and read what was asked with
    :meth:`traffic`, per operation and per job (``traffic().job(JobRef.medical("x"))``).

    Code under test can start jobs itself, as on the service: the Start operation of
    every kind (``start_transcription_job``, ``start_medical_transcription_job``,
    ``start_call_analytics_job``, ``start_medical_scribe_job``) takes botocore's
    parameters and answers as the service does. Such a job runs ``run_time``
    seconds from when it gets its slot: a number, or a function of the job's
    :class:`JobRef` giving seconds.

    ``concurrency`` models the account's cap of jobs running at once, per kind:
    by default AWS's (250 standard, medical and Medical Scribe; 100 Call
    Analytics), an int for every kind, a mapping of kind to cap for some (the
    others keep the default), None for no cap. Jobs beyond the cap wait QUEUED,
    first in, first out, and start when a running job of their kind ends. A
    Start request over the cap gets LimitExceededException unless it asks for job
    queueing (``JobExecutionSettings`` with ``AllowDeferredExecution``, or a
    ``DataAccessRoleArn`` for Call Analytics), up to 10,000 queued jobs per kind.

    ``clock`` tells the time jobs follow; by default the running event loop's
    (``anyio.current_time``), so start jobs from inside it. Its readings are shown
    as today's date and time: the clock's reading when the fake was made (or first
    read, if it could not be read then) is the real time of day then, so the
    presigned URIs and their ``expires_at`` are current. Set ``credentials`` to
    False to answer as a client with no credentials would.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        clock: Callable[[], float] = anyio.current_time,
        credentials: bool = True,
        concurrency: Concurrency = DEFAULT_CONCURRENCY,
        run_time: RunTime = DEFAULT_RUN_TIME,
    ) -> None:
        if not callable(run_time):
            check_duration("run_time", run_time)
        self.region = region
        self.credentials = credentials
        self.meta = SimpleNamespace(endpoint_url=ENDPOINT, region_name=region)
        self._clock = clock
        self._run_time = run_time
        self._account = Account(concurrency)
        # (kind, name) -> script, the account's own dict: event queues read it.
        self._jobs = self._account.jobs
        self._gate = Gate()
        self._outage_until = -math.inf
        self._outages = 0
        self._by_op: collections.defaultdict[str, list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0, 0]
        )
        self._by_job: collections.defaultdict[tuple[str, str], list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0, 0]
        )
        # Seconds to add to a clock reading to make it a Unix time.
        self._wall_offset: float | None = None
        self._dates: dict[float, datetime] = {}
        with contextlib.suppress(Exception):  # anyio's clock outside an event loop
            self._wall_offset = time.time() - clock()

    def __repr__(self) -> str:
        return f"<FakeTranscribe jobs={len(self._jobs)} region={self.region!r}>"

    # -- scripting -----------------------------------------------------------------

    def _start_script(self, spec: JobSpec) -> ScriptedJob:
        script = spec.script(self._now())
        try:
            self._account.add(script)
        except KeyError as error:
            raise ValueError(f"name: {error.args[0]}") from None
        return script

    def _install_faults(self, faults: Faults) -> None:
        self._gate = Gate(faults)

    def event_queue(
        self,
        *,
        loss: float = 0.0,
        duplicate: float = 0.0,
        delay: tuple[float, float] = (0.0, 0.0),
        seed: int | None = None,
        output_events: bool = False,
        output_lead: tuple[float, float] = (0.0, 1.0),
    ) -> FakeEventQueue:
        """An in-memory SQS queue receiving this fake's job state events, as an
        EventBridge rule would deliver them: best effort, per ``loss``,
        ``duplicate`` and ``delay``; with ``output_events``, S3's events of the
        jobs' output objects too (see :class:`FakeEventQueue`)."""
        return FakeEventQueue(
            self,
            loss=loss,
            duplicate=duplicate,
            delay=delay,
            seed=seed,
            output_events=output_events,
            output_lead=output_lead,
        )

    @property
    def faults(self) -> Faults:
        """The faults injected now."""
        return self._gate.faults

    def outage(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` from now (``math.inf``: for good)."""
        if not (seconds >= 0):
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._outage_until = self._now() + seconds
        self._outages += 1

    def traffic(self) -> TrafficReport:
        """Requests, throttled answers and faults per operation and per job."""
        return TrafficReport(
            by_operation={op: Counts(*c) for op, c in self._by_op.items()},
            by_job={job: Counts(*c) for job, c in self._by_job.items()},
            outages=self._outages,
        )

    def reset_traffic(self) -> None:
        self._by_op.clear()
        self._by_job.clear()

    def reset(self) -> None:
        """Forget every job, fault and count."""
        self._account.clear()
        self._dates.clear()
        self.set_faults()
        self._outage_until = -math.inf
        self._outages = 0
        self.reset_traffic()

    def datetime_at(self, seconds: float) -> datetime:
        """A reading of this fake's clock as the (timezone-aware) UTC time it shows."""
        if self._wall_offset is None:
            self._now()
        assert self._wall_offset is not None
        return datetime.fromtimestamp(self._wall_offset + seconds, tz=timezone.utc)

    def _job_datetime(self, seconds: float) -> datetime:
        """datetime_at for a job's own times (creation, start, end), kept: a List
        answer shows them again and again, at most three per job."""
        found = self._dates.get(seconds)
        if found is None:
            found = self._dates[seconds] = self.datetime_at(seconds)
        return found

    # -- Start operations ------------------------------------------------------------

    async def start_transcription_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(JobKind.STANDARD, params)

    async def start_medical_transcription_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(JobKind.MEDICAL, params)

    async def start_call_analytics_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(JobKind.CALL_ANALYTICS, params)

    async def start_medical_scribe_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(JobKind.MEDICAL_SCRIBE, params)

    # -- the client's operations ----------------------------------------------------

    async def get_transcription_job(self, *, TranscriptionJobName: str) -> dict[str, Any]:
        return await self._get(KINDS[JobKind.STANDARD], TranscriptionJobName)

    async def get_medical_transcription_job(
        self, *, MedicalTranscriptionJobName: str
    ) -> dict[str, Any]:
        return await self._get(KINDS[JobKind.MEDICAL], MedicalTranscriptionJobName)

    async def get_call_analytics_job(self, *, CallAnalyticsJobName: str) -> dict[str, Any]:
        return await self._get(KINDS[JobKind.CALL_ANALYTICS], CallAnalyticsJobName)

    async def get_medical_scribe_job(self, *, MedicalScribeJobName: str) -> dict[str, Any]:
        return await self._get(KINDS[JobKind.MEDICAL_SCRIBE], MedicalScribeJobName)

    async def list_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.STANDARD], params)

    async def list_medical_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.MEDICAL], params)

    async def list_call_analytics_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.CALL_ANALYTICS], params)

    async def list_medical_scribe_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.MEDICAL_SCRIBE], params)

    # -- behind the operations -------------------------------------------------------

    def _now(self) -> float:
        try:
            now = self._clock()
        except Exception as error:  # anyio's clock outside an event loop
            raise RuntimeError(
                "FakeTranscribe follows the event loop's clock: call it inside the loop, "
                "or pass clock=time.monotonic"
            ) from error
        if self._wall_offset is None:
            self._wall_offset = time.time() - now
        return now

    async def _start(self, kind: JobKind, params: dict[str, Any]) -> dict[str, Any]:
        spec = KINDS[kind]
        operation = START_OPERATIONS[kind]
        # botocore checks the parameters before anything is sent.
        request = read_start(kind, params)
        await self._admit(operation, (kind.value, request.name))
        now = self._now()
        if (kind, request.name) in self._account:
            raise client_error(operation, 400, "ConflictException", CONFLICT_MESSAGE)
        if self._account.at_cap(kind, now):
            _, waiting = self._account.load(kind, now)
            if not request.deferrable:
                raise client_error(
                    operation, 400, "LimitExceededException", LIMIT_MESSAGE.format(kind=kind.value)
                )
            if waiting >= MAX_QUEUED:
                raise client_error(
                    operation,
                    400,
                    "LimitExceededException",
                    QUEUE_FULL_MESSAGE.format(kind=kind.value, limit=MAX_QUEUED),
                )
        script = request.script(now, self._run_time_of(JobRef(request.name, kind)))
        self._account.add(script)
        status = script.status_at(now)
        job = describe_job(spec, script, status, at=self.datetime_at, now=now, region=self.region)
        return {spec.job_field: job}

    def _run_time_of(self, job: JobRef) -> float:
        run_time = self._run_time
        seconds = run_time(job) if callable(run_time) else run_time
        return check_duration(f"run_time of {job}", seconds)

    async def _get(self, spec: KindSpec, name: str) -> dict[str, Any]:
        job_key = (spec.kind.value, name)
        await self._admit(spec.get_operation, job_key)
        script = self._account.get(spec.kind, name)
        if script is None:
            self._count(spec.get_operation, job_key, 2)
            raise not_found(spec)
        now = self._now()
        status = script.status_at(now)
        if status in ("COMPLETED", "FAILED") and script.first_terminal_read_at is None:
            script.first_terminal_read_at = now
        job = describe_job(spec, script, status, at=self.datetime_at, now=now, region=self.region)
        return {spec.job_field: job}

    async def _list(self, spec: KindSpec, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - {"Status", "JobNameContains", "NextToken", "MaxResults"}
        if unknown:
            raise TypeError(f"{spec.list_method}() got unexpected arguments {sorted(unknown)}")
        await self._admit(spec.list_operation, None)
        return list_page(spec, self._account, at=self._job_datetime, now=self._now(), **params)

    async def _admit(self, operation: str, job: tuple[str, str] | None) -> None:
        """Count the request and raise the fault it meets, as the wire would."""
        if not self.credentials:
            raise botocore.exceptions.NoCredentialsError()
        if self._now() < self._outage_until:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=ENDPOINT)
        self._count(operation, job, 0)
        latency = self._gate.faults.latency
        if latency:
            await anyio.sleep(latency)
        else:
            await anyio.lowlevel.checkpoint()
        decision = self._gate.admit(operation, self._now())
        if decision.count_index is not None:
            self._count(operation, job, decision.count_index)
        if decision.verdict is Verdict.PASS:
            return
        if decision.verdict is Verdict.DROP:
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=ENDPOINT)
        if decision.verdict is Verdict.HANG:
            # Accepted and never answered: the caller's own timeout must end it.
            await anyio.sleep_forever()
        raise client_error(
            operation, decision.status, decision.code, decision.message, decision.retry_after
        )

    def _count(self, operation: str, job: tuple[str, str] | None, index: int) -> None:
        self._by_op[operation][index] += 1
        if job is not None:
            self._by_job[job][index] += 1
