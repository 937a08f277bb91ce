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
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import anyio
import botocore.exceptions

from .._jobs import JobKind
from ._account import DEFAULT_CONCURRENCY, Account, Concurrency
from ._answers import client_error, describe_job, list_page, not_found, read_job
from ._contract import ScriptingMixin
from ._fakequeue import FakeEventQueue
from ._faults import Counts, Faults, Gate, TrafficReport, Verdict
from ._script import JobSpec, ScriptedJob
from ._served import FakeS3, serve_presigned
from ._service import WIRE, KindWire, validate
from ._start import DEFAULT_RUN_TIME, RunTime, read_start, run_time_of, start

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._eventwire import EventOptions

ENDPOINT = "memory://fake-transcribe"


class FakeTranscribe(ScriptingMixin):
    """An in-memory stand-in for an aiobotocore Transcribe client.

    Pass it wherever a client goes (``Poller(FakeTranscribe())``). It keeps the
    contract of :class:`TranscribeDouble` with LocalTranscribe, behaviour included:
    script jobs with :meth:`start_job`, faults and quotas with :meth:`set_faults`
    (``drop_rate`` raises a dropped connection, ``hang_rate`` never answers), an
    unreachable service with :meth:`outage`, job state events with
    :meth:`enable_events`, and read what was asked with :meth:`traffic`, per
    operation and per job (``traffic().job(JobRef.medical("x"))``).

    Code under test can start jobs itself, as on the service: the Start operation of
    every kind (``start_transcription_job``, ``start_medical_transcription_job``,
    ``start_call_analytics_job``, ``start_medical_scribe_job``) takes botocore's
    parameters and answers as the service does (a name in use is ConflictException).
    Such a job runs ``run_time`` seconds from when it gets its slot: a number, or a
    function of the job's :class:`JobRef` giving seconds. Every operation checks
    its parameters as botocore's client does before sending (ParamValidationError)
    and answers only the fields of botocore's model.

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
        self._run_time_of = run_time_of(run_time)
        self.region = region
        self.credentials = credentials
        self.meta = SimpleNamespace(endpoint_url=ENDPOINT, region_name=region)
        self._clock = clock
        self._account = Account(concurrency)
        self._gate = Gate()
        self._outage_until = -math.inf
        self._outages = 0
        self._by_op: collections.defaultdict[str, list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0, 0]
        )
        self._by_job: collections.defaultdict[tuple[str, str], list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0, 0]
        )
        self._events: FakeEventQueue | None = None
        self.s3 = FakeS3(lambda: self._account.jobs, self._now)
        """What the jobs wrote to the caller's buckets: an in-memory stand-in for an
        aiobotocore S3 client (``Poller(fake, s3=fake.s3)``)."""
        # Seconds to add to a clock reading to make it a Unix time.
        self._wall_offset: float | None = None
        self._dates: dict[float, datetime] = {}
        with contextlib.suppress(Exception):  # anyio's clock outside an event loop
            self._wall_offset = time.time() - clock()

    def __repr__(self) -> str:
        return f"<FakeTranscribe jobs={len(self._account.jobs)} region={self.region!r}>"

    # -- scripting -----------------------------------------------------------------

    def _start_script(self, spec: JobSpec) -> ScriptedJob:
        script = spec.script(self._now())
        self._account.add(script)
        return script

    def _install_faults(self, faults: Faults) -> None:
        self._gate = Gate(faults)

    def now(self) -> float:
        """A reading of the fake's clock: the one its jobs' times are on."""
        return self._now()

    @contextlib.asynccontextmanager
    async def client(
        self, *, retry_mode: str | None = None, max_attempts: int | None = None, **config: Any
    ) -> AsyncIterator[FakeTranscribe]:
        """This fake itself, which is its own client: as ``LocalTranscribe.client()``,
        so one test serves both doubles. The arguments are accepted and ignored: the
        fake answers each call once, as a client making one attempt would."""
        yield self

    @contextlib.asynccontextmanager
    async def s3_client(self, **config: Any) -> AsyncIterator[FakeS3]:
        """:attr:`s3`, as ``LocalTranscribe.s3_client()`` gives its moto's S3 client,
        so one test serves both doubles."""
        yield self.s3

    # -- events --------------------------------------------------------------------

    def enable_events(self, **options: Unpack[EventOptions]) -> str:
        """Deliver Transcribe's job state events to an in-memory SQS queue; return its URL.

        As ``LocalTranscribe.enable_events``, in memory: from then on each standard
        and Call Analytics job that ends puts the event an EventBridge rule
        delivers in the queue (the whole event JSON as the message body); medical
        and Medical Scribe jobs send none, nor does a job that ended before this
        call. The options (``EventOptions``) make delivery best effort: ``loss``,
        ``duplicate``, ``delay``, ``seed``; ``output_events`` and ``output_lead``
        add S3's events of jobs' output objects. Read the queue with
        :meth:`sqs_client` or :attr:`events_queue` (a :class:`FakeEventQueue`,
        which answers as an SQS client). Events stay on until :meth:`reset`;
        calling this again before then raises RuntimeError.
        """
        if self._events is not None:
            raise RuntimeError("events are enabled already; reset() turns them off")
        self._events = FakeEventQueue(self, **options)
        return self._events.url

    @property
    def events_queue_url(self) -> str:
        """The URL of the queue :meth:`enable_events` made."""
        return self.events_queue.url

    @property
    def events_queue(self) -> FakeEventQueue:
        """The in-memory queue :meth:`enable_events` made: an SQS client of its own."""
        if self._events is None:
            raise RuntimeError("events are not enabled: call enable_events() first")
        return self._events

    @contextlib.asynccontextmanager
    async def sqs_client(self, **config: Any) -> AsyncIterator[FakeEventQueue]:
        """The events queue as an SQS client, as ``LocalTranscribe.sqs_client()``
        gives one (``config`` is accepted and ignored)."""
        yield self.events_queue

    def event_queue(self, **options: Unpack[EventOptions]) -> FakeEventQueue:
        """Another in-memory SQS queue receiving this fake's events, besides the one
        :meth:`enable_events` makes (which it is, if events are not on yet): one per
        replica of a service, each with its own losses and delays.

        :meth:`enable_events` and :attr:`events_queue` are the contract both doubles
        share; several queues at once are the fake's alone.
        """
        if self._events is None:
            self.enable_events(**options)
            return self.events_queue
        return FakeEventQueue(self, **options)

    # -- faults and counts -----------------------------------------------------------

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
        """Forget every job, fault and count, and turn events off."""
        self._account.clear()
        self.s3.clear()
        self._dates.clear()
        self.set_faults()
        self._outage_until = -math.inf
        self._outages = 0
        self._events = None
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
        return await self._start(WIRE[JobKind.STANDARD], params)

    async def start_medical_transcription_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(WIRE[JobKind.MEDICAL], params)

    async def start_call_analytics_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(WIRE[JobKind.CALL_ANALYTICS], params)

    async def start_medical_scribe_job(self, **params: Any) -> dict[str, Any]:
        return await self._start(WIRE[JobKind.MEDICAL_SCRIBE], params)

    # -- the client's operations ----------------------------------------------------

    async def get_transcription_job(self, **params: Any) -> dict[str, Any]:
        return await self._get(WIRE[JobKind.STANDARD], params)

    async def get_medical_transcription_job(self, **params: Any) -> dict[str, Any]:
        return await self._get(WIRE[JobKind.MEDICAL], params)

    async def get_call_analytics_job(self, **params: Any) -> dict[str, Any]:
        return await self._get(WIRE[JobKind.CALL_ANALYTICS], params)

    async def get_medical_scribe_job(self, **params: Any) -> dict[str, Any]:
        return await self._get(WIRE[JobKind.MEDICAL_SCRIBE], params)

    async def list_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(WIRE[JobKind.STANDARD], params)

    async def list_medical_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(WIRE[JobKind.MEDICAL], params)

    async def list_call_analytics_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(WIRE[JobKind.CALL_ANALYTICS], params)

    async def list_medical_scribe_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(WIRE[JobKind.MEDICAL_SCRIBE], params)

    async def serve_url(self, url: str) -> tuple[int, bytes]:
        """``(status, body)`` S3 answers for one of this fake's presigned URIs: the
        document until 15 minutes (``X-Amz-Expires``) after the Get that gave the
        URI, by the fake's clock, then 403 "Request has expired". A Poller made
        with this fake fetches its presigned URIs here, in memory."""
        now = self._now()
        return serve_presigned(url, self._account.get, now=now, wall=self.datetime_at(now))

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

    async def _start(self, wire: KindWire, params: dict[str, Any]) -> dict[str, Any]:
        # botocore checks the parameters before anything is sent.
        request = read_start(wire.kind, params)
        await self._admit(wire.start_operation, (wire.kind.value, request.name))
        now = self._now()
        script = start(self._account, request, now, self._run_time_of)
        status = script.status_at(now)
        job = describe_job(wire, script, status, at=self.datetime_at, now=now, region=self.region)
        return {wire.job_field: job}

    async def _get(self, wire: KindWire, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get(wire.name_field)
        if len(params) != 1 or not isinstance(name, str):
            validate(wire.get_operation, params)  # raises what botocore would
        assert isinstance(name, str)
        job_key = (wire.kind.value, name)
        await self._admit(wire.get_operation, job_key)
        script = self._account.get(wire.kind, name)
        if script is None:
            self._count(wire.get_operation, job_key, 2)
            raise not_found(wire)
        return read_job(wire, script, at=self.datetime_at, now=self._now(), region=self.region)

    async def _list(self, wire: KindWire, params: dict[str, Any]) -> dict[str, Any]:
        validate(wire.list_operation, params)  # raises what botocore would
        await self._admit(wire.list_operation, None)
        return list_page(wire, self._account, at=self._job_datetime, now=self._now(), **params)

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
