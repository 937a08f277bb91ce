"""LocalTranscribe: a local Amazon Transcribe for tests, examples, benchmarks and demos."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
import urllib.request
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from .._jobs import JobKind
from ._account import DEFAULT_CONCURRENCY, Account, Concurrency
from ._answers import describe_job, list_page, not_found, read_job, to_wire
from ._contract import ScriptingMixin
from ._eventwire import EventStatistics, settle_events
from ._faults import Faults, TrafficReport
from ._script import JobSpec, ScriptedJob
from ._served import serve_presigned
from ._service import OPERATIONS, KindWire
from ._start import DEFAULT_RUN_TIME, RunTime, read_start, run_time_of, start

if TYPE_CHECKING:
    from types_aiobotocore_transcribe import TranscribeServiceClient
    from typing_extensions import Unpack

    from ._emitter import EventEmitter
    from ._eventwire import EventOptions
    from ._objectwriter import OutputWriter

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
# Kinds moto has: a Get of a name no script holds is moto's to answer (its own jobs).
MOTO_KINDS = (JobKind.STANDARD, JobKind.MEDICAL)
# Without events, a job's caller-bucket output is written half a second before its
# status says COMPLETED: room for a burst of jobs ending at once (a write to moto
# takes a few milliseconds), so it is there whenever a Get first says COMPLETED.
PLAIN_LEAD = (0.5, 0.5)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


_MODELS = {
    JobKind.STANDARD: "transcribe::transcriptionjob",
    JobKind.MEDICAL: "transcribe::medicaltranscriptionjob",
}


class LocalTranscribe(ScriptingMixin):
    """A local Transcribe service on 127.0.0.1: a fault-injecting proxy in front of moto.

    Use it as a context manager (synchronous, so it fits a session-scoped pytest
    fixture and serves clients on any event loop)::

        with LocalTranscribe() as bed:
            bed.start_job("interview-1", duration=3)
            async with bed.client() as client:
                ...

    It keeps the contract of :class:`TranscribeDouble` with FakeTranscribe,
    behaviour included, over real HTTP: everything listens on 127.0.0.1, moto on a
    free port, the proxy on ``port`` (a free one when 0). ``endpoint_url`` is the
    proxy, which injects what :meth:`set_faults` and :meth:`outage` say and counts
    every request (:meth:`traffic`). The proxy answers the Start, Get and List
    operations of every kind from the bed's scripts, exactly as FakeTranscribe
    does in memory (jobs started by :meth:`start_job` or through a client, whose
    jobs run ``run_time`` seconds as on the fake); a Get of a standard or medical
    job no script holds goes on to moto (its own jobs, say, started at
    :attr:`moto_url`; see :meth:`set_time_progression`).
    :meth:`enable_events` sends Transcribe's job state events through moto's
    EventBridge to an SQS queue, as AWS does.
    moto keeps its jobs, queues and rules in process-wide state: two beds in one
    process share them, and one's :meth:`reset` clears the other's.

    ``concurrency`` models the account's cap of jobs running at once, as on
    FakeTranscribe: jobs beyond it wait QUEUED, first in, first out, by the wall
    clock, and a Start request over the cap gets LimitExceededException unless it
    asks for job queueing.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        port: int = 0,
        concurrency: Concurrency = DEFAULT_CONCURRENCY,
        run_time: RunTime = DEFAULT_RUN_TIME,
    ) -> None:
        self._run_time_of = run_time_of(run_time)
        self.region = region
        self._port = port
        self._state = "new"
        self._lock = threading.Lock()
        self._server: Any = None
        self._proxy: Any = None
        self._account = Account(concurrency)
        # Scripts are started from the caller's thread and from the proxy's, and read
        # from both.
        self._jobs_lock = threading.Lock()
        self._emitter: EventEmitter | None = None
        self._writer: OutputWriter | None = None
        self._queue_url: str | None = None
        self._botocore: Any = None  # a botocore session for the bed's own set-up calls
        self._setup_clients: dict[str, Any] = {}
        self._session: Any = None  # the aiobotocore session of the clients it gives

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self._state == "running" else ""
        return f"<LocalTranscribe {self._state}{where} region={self.region!r}>"

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> LocalTranscribe:
        with self._lock:
            if self._state == "running":
                raise RuntimeError("this LocalTranscribe is already running")
            if self._state == "stopped":
                raise RuntimeError("this LocalTranscribe was stopped; create a new one")
            try:
                from moto.server import ThreadedMotoServer
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "the local test bed needs moto: pip install 'transcribe-poller[local]'"
                ) from exc
            from . import _moto_patch
            from ._proxy import FaultProxy

            _moto_patch.install()
            # werkzeug logs every request at INFO; that drowns a test's output.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            proxy = FaultProxy(f"http://{host}:{port}", port=self._port)
            try:
                proxy.start()
            except BaseException:
                server.stop()
                raise
            proxy.set_local_answers(self._answer_locally)
            proxy.set_documents(self._serve_document)
            self._server, self._proxy = server, proxy
            self._state = "running"
        self._start_plain_writer()
        return self

    def stop(self) -> None:
        """Stop the proxy and moto; calling it again does nothing."""
        with self._lock:
            if self._state != "running":
                self._state = "stopped"
                return
            self._state = "stopped"
            self._disable_events()
            self._unset_time_progression()
            self._proxy.stop()
            self._server.stop()

    def __enter__(self) -> LocalTranscribe:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _running(self) -> None:
        if self._state != "running":
            state = "was stopped" if self._state == "stopped" else "is not started"
            raise RuntimeError(f"this LocalTranscribe {state}; use it inside 'with'")

    # -- where it is ---------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The URL clients should use: the fault proxy in front of moto."""
        self._running()
        return str(self._proxy.url)

    @property
    def moto_url(self) -> str:
        """moto itself, bypassing the proxy (no faults, no counts)."""
        self._running()
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def enable_control(self, on_start: Callable[[ScriptedJob], None] | None = None) -> str:
        """Let other processes start scripted jobs over HTTP; return the URL to POST to.

        ``POST {endpoint_url}/_local/jobs`` with a JSON object of :meth:`start_job`'s
        keyword arguments (``name`` required) starts a job; ``GET`` lists them.
        ``on_start`` hears of each job started that way, from the proxy's thread.
        """
        from ._control import JOBS_PATH, ControlEndpoint

        self._running()
        self._proxy.set_control(ControlEndpoint(self, on_start).handle)
        return self.endpoint_url + JOBS_PATH

    def client_kwargs(self) -> dict[str, Any]:
        """Arguments for ``session.create_client("transcribe", **kwargs)``."""
        return {
            "region_name": self.region,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        }

    @contextlib.asynccontextmanager
    async def client(
        self, *, retry_mode: str | None = None, max_attempts: int | None = None, **config: Any
    ) -> AsyncIterator[TranscribeServiceClient]:
        """An aiobotocore Transcribe client for this service with dummy credentials.

        With no ``retry_mode`` the client keeps botocore's default (legacy), as a
        user's client would. ``max_attempts`` counts every attempt, the first
        included (botocore's ``total_max_attempts``): 1 means no retries.
        """
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        retries: dict[str, Any] = {}
        if retry_mode is not None:
            retries["mode"] = retry_mode
        if max_attempts is not None:
            retries["total_max_attempts"] = max_attempts
        if retries:
            config["retries"] = retries
        session = self._aio_session(get_session)
        async with session.create_client(
            "transcribe", config=AioConfig(**config), **self.client_kwargs()
        ) as client:
            yield client

    # -- scripted jobs -------------------------------------------------------------

    def now(self) -> float:
        """A reading of the bed's clock, the one its jobs' times are on: ``time.time()``."""
        return time.time()

    def _start_script(self, spec: JobSpec) -> ScriptedJob:
        self._running()
        script = spec.script(time.time())
        with self._jobs_lock:
            self._account.add(script)
        self._plan_events(script)
        return script

    @property
    def scripts(self) -> Mapping[tuple[JobKind, str], ScriptedJob]:
        """Every job's script by ``(kind, name)``: a snapshot."""
        with self._jobs_lock:
            return dict(self._account.jobs)

    def _answer_locally(self, operation: str, body: bytes) -> tuple[int, bytes] | None:
        """Answer Start, Get and List of every kind from the scripts; None for what is
        moto's (a Get of a standard or medical job no script holds, other services)."""
        found = OPERATIONS.get(operation)
        if found is None:
            return None
        wire, verb = found
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError("not an object")
        except ValueError:
            return 400, to_wire({"__type": "SerializationException", "Message": "bad JSON"})
        now = time.time()
        try:
            if verb == "start":
                return self._answer_start(wire, params, now)
            with self._jobs_lock:
                if verb == "list":
                    page = list_page(wire, self._account, at=_utc, now=now, **params)
                    return 200, to_wire(page)
                script = self._account.get(wire.kind, str(params.get(wire.name_field)))
                if script is None:
                    if wire.kind in MOTO_KINDS:
                        return None
                    raise not_found(wire)
                job = read_job(
                    wire, script, at=_utc, now=now, region=self.region, service_host=self._proxy.url
                )
            return 200, to_wire(job)
        except botocore.exceptions.ClientError as error:
            wire_error = error.response["Error"]
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            return status, to_wire({"__type": wire_error["Code"], "Message": wire_error["Message"]})
        except (TypeError, botocore.exceptions.ParamValidationError) as error:
            # What a real client would not have sent (an unknown parameter, say).
            return 400, to_wire({"__type": "ValidationException", "Message": str(error)})

    def _answer_start(
        self, wire: KindWire, params: dict[str, Any], now: float
    ) -> tuple[int, bytes]:
        request = read_start(wire.kind, params)
        with self._jobs_lock:
            script = start(self._account, request, now, self._run_time_of)
            job = describe_job(
                wire,
                script,
                script.status_at(now),
                at=_utc,
                now=now,
                region=self.region,
                service_host=self._proxy.url,
            )
        self._plan_events(script)
        return 200, to_wire({wire.job_field: job})

    def reset(self) -> None:
        """Forget every job, fault and count, as if freshly started.

        Events stop too: moto's reset deletes the queue and the rule along with
        everything else, so call :meth:`enable_events` again for a new queue.
        """
        self._running()
        # Before moto's reset, so no event is sent into the state being cleared.
        self._disable_events()
        self._post("/moto-api/reset", {})
        self._unset_time_progression()
        with self._jobs_lock:
            self._account.clear()
        self._start_plain_writer()
        self._proxy.set_faults(Faults())
        self._proxy.end_outage()
        self._proxy.reset_counts()

    # -- Transcribe's job state events -----------------------------------------------

    def enable_events(self, **options: Unpack[EventOptions]) -> str:
        """Send Transcribe's job state events to an SQS queue in moto; return its URL.

        Creates in moto what the AWS set-up guide builds on AWS: the queue, a rule on the
        default bus matching "Transcribe Job State Change" and "Call Analytics Job
        State Change" events of COMPLETED and FAILED jobs, the queue as its target,
        and the queue policy letting the rule send (moto does not enforce it). From
        then on, each standard and Call Analytics job, started before or after, puts
        on the bus, when it ends, the event FakeEventQueue delivers, and moto's rule
        delivers the whole event JSON as the message body. Medical and
        Medical Scribe jobs send none, as on AWS. A job that ended before this call
        sends none either.

        The options are ``EventOptions``, as for ``FakeTranscribe.enable_events``.
        Best effort, like the service: ``loss`` and ``duplicate`` are the shares of
        events lost and sent twice; each is sent ``delay`` seconds (a
        ``(shortest, longest)`` range) after its job's end; ``seed`` makes the
        draws repeatable. :meth:`event_sent_at` and :meth:`event_statistics` tell
        what was sent.

        SQS is reached at moto's own URL, not through the fault proxy: on AWS it is
        another endpoint, and the proxy's faults, counts and outages are
        Transcribe's. Use :meth:`sqs_client` or :meth:`sqs_client_kwargs`. (An SQS
        client given :attr:`endpoint_url` works too: the proxy passes other
        services' requests through uncounted and unfaulted, but an :meth:`outage`
        refuses them with the rest.)

        With ``output_events``, jobs also write their output objects into moto's S3
        (``_objectwriter``): the output bucket is made with its notifications to
        EventBridge on, and a second rule routes its "Object Created" events to the
        same queue, as the AWS set-up guide does on AWS. Every job with a bucket of the
        caller's (all medical and Medical Scribe jobs) writes the write-access
        check object when it starts and, when it completes, its output (real
        transcript JSON) ``output_lead`` seconds (a range) before its status says
        COMPLETED; a FAILED job writes none. A job's objects are lost (written
        without an event) or written twice per ``loss`` and ``duplicate``.
        :meth:`output_written_at` tells when each was written.

        Events stay on until :meth:`reset` or :meth:`stop`; calling this again
        before then raises RuntimeError.
        """
        from ._emitter import EventEmitter, create_route
        from ._objectwriter import OutputWriter

        # Jobs ending while moto is being set up still count as ending after the call.
        since = time.time()
        settings = settle_events(options)
        self._running()
        if self._emitter is not None:
            raise RuntimeError("events are enabled already; reset() turns them off")
        if settings.output_events:
            plain, self._writer = self._writer, None
            if plain is not None:
                plain.stop()
        sqs, events = self._setup_client("sqs"), self._setup_client("events")
        queue_url, _ = create_route(sqs, events, self.region)
        emitter = EventEmitter(events, self.region, settings, since=since)
        writer = None
        if settings.output_events:
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            s3 = self._setup_client("s3")
            writer = OutputWriter(s3, events, queue_arn, settings, since=since)
        for script in self.scripts.values():
            emitter.add(script)
            if writer is not None:
                writer.add(script)
        emitter.start()
        if writer is not None:
            writer.start()
        self._emitter, self._queue_url = emitter, queue_url
        if writer is not None:
            self._writer = writer
        return queue_url

    def output_written_at(self, name: str, kind: JobKind | str = JobKind.MEDICAL) -> float | None:
        """When the job's output objects were written with their event on (``time.time()``),
        or None if not (yet), or if their event was lost on purpose."""
        writer = self._writer
        return None if writer is None else writer.written_at(JobKind(kind), name)

    @property
    def events_queue_url(self) -> str:
        """The URL of the queue :meth:`enable_events` made."""
        self._running()
        if self._queue_url is None:
            raise RuntimeError("events are not enabled: call enable_events() first")
        return self._queue_url

    def event_sent_at(self, name: str, kind: JobKind | str = JobKind.STANDARD) -> float | None:
        """When the job's first event was sent (``time.time()``), or None if none was.

        Taken just before the PutEvents call, which moto answers once the message is
        in the queue: no consumer can have it earlier. The ground truth for how soon
        a consumer of the queue learns of a job's end, as
        :attr:`ScriptedJob.first_terminal_read_at` is for Gets.
        """
        if self._emitter is None:
            return None
        return self._emitter.sent_at(JobKind(kind), name)

    def event_statistics(self) -> EventStatistics:
        """Events sent, lost, duplicated and still to send since :meth:`enable_events`."""
        return EventStatistics() if self._emitter is None else self._emitter.statistics()

    def sqs_client_kwargs(self) -> dict[str, Any]:
        """Arguments for ``session.create_client("sqs", **kwargs)``: moto's own URL."""
        return {**self.client_kwargs(), "endpoint_url": self.moto_url}

    @contextlib.asynccontextmanager
    async def sqs_client(self, **config: Any) -> AsyncIterator[Any]:
        """An aiobotocore SQS client of this bed's moto, with dummy credentials.

        aiobotocore's default read timeout (60 s) is above SQS's longest poll (20 s),
        as the push guide asks of a client given to ``EventBridgeQueue``.
        """
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        async with self._aio_session(get_session).create_client(
            "sqs", config=AioConfig(**config), **self.sqs_client_kwargs()
        ) as client:
            yield client

    def _setup_client(self, service: str) -> Any:
        """A blocking botocore client of moto, for set-up calls and the emitter's sends."""
        import botocore.session

        if self._botocore is None:
            self._botocore = botocore.session.get_session()
        client = self._setup_clients.get(service)
        if client is None:
            # botocore's clients are thread-safe; the emitter and writer share them.
            client = self._setup_clients[service] = self._botocore.create_client(
                service, **self.sqs_client_kwargs()
            )
        return client

    def _aio_session(self, get_session: Callable[[], Any]) -> Any:
        """One aiobotocore session for every client of this bed: each new session
        loads the service's model again, a tenth of a second per client."""
        if self._session is None:
            self._session = get_session()
        return self._session

    def _plan_events(self, script: ScriptedJob) -> None:
        emitter = self._emitter  # read once: reset() may clear it from another thread
        if emitter is not None:
            emitter.add(script)
        writer = self._writer
        if writer is not None:
            writer.add(script)

    def _disable_events(self) -> None:
        emitter, self._emitter, self._queue_url = self._emitter, None, None
        writer, self._writer = self._writer, None
        if emitter is not None:
            emitter.stop()
        if writer is not None:
            writer.stop()

    def _start_plain_writer(self) -> None:
        """Write jobs' caller-bucket output into moto's S3 without events, so it can be
        read with GetObject (``s3_client``); ``enable_events`` replaces it."""
        from ._objectwriter import OutputWriter

        settings = dataclasses.replace(
            settle_events({}), loss=0.0, duplicate=0.0, output_lead=PLAIN_LEAD
        )
        writer = OutputWriter(self._setup_client("s3"), None, None, settings, since=0.0)
        for script in self.scripts.values():
            writer.add(script)
        writer.start()
        self._writer = writer

    def _serve_document(self, url: str) -> tuple[int, bytes]:
        """A presigned URI's answer (``_served``), on the bed's clock."""
        now = time.time()
        with self._jobs_lock:
            return serve_presigned(url, self._account.get, now=now, wall=_utc(now))

    def s3_client_kwargs(self) -> dict[str, Any]:
        """Arguments for ``session.create_client("s3", **kwargs)``: moto's own URL, where
        jobs' output in the caller's buckets is written."""
        return self.sqs_client_kwargs()

    @contextlib.asynccontextmanager
    async def s3_client(self, **config: Any) -> AsyncIterator[Any]:
        """An aiobotocore S3 client of this bed's moto, with dummy credentials: it reads
        the output jobs write to the caller's buckets (``Poller(client, s3=s3)``)."""
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        async with self._aio_session(get_session).create_client(
            "s3", config=AioConfig(**config), **self.s3_client_kwargs()
        ) as client:
            yield client

    # -- moto's own progression ----------------------------------------------------

    def _post(self, path: str, payload: Mapping[str, Any]) -> None:
        request = urllib.request.Request(
            self.moto_url + path, data=json.dumps(payload).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def set_time_progression(self, seconds: float, kind: JobKind | str | None = None) -> None:
        """Make moto's own jobs (started at :attr:`moto_url`, past the proxy; every
        other job is the bed's) take one status step per ``seconds``."""
        kinds = [JobKind(kind)] if kind is not None else list(_MODELS)
        for job_kind in kinds:
            if job_kind not in _MODELS:
                raise ValueError(f"moto has no {job_kind.value} jobs to progress")
            self._post(
                "/moto-api/state-manager/set-transition",
                {
                    "model_name": _MODELS[job_kind],
                    "transition": {"progression": "time", "seconds": seconds},
                },
            )

    def _unset_time_progression(self) -> None:
        # Global per model and not cleared by /moto-api/reset, so undo it explicitly.
        from moto.moto_api import state_manager

        for model in _MODELS.values():
            state_manager.unset_transition(model)

    # -- faults --------------------------------------------------------------------

    def _install_faults(self, faults: Faults) -> None:
        self._running()
        self._proxy.set_faults(faults)

    @property
    def faults(self) -> Faults:
        """The faults the proxy injects now."""
        self._running()
        faults: Faults = self._proxy.faults
        return faults

    def clear_faults(self) -> None:
        """Deprecated since 0.3: ``set_faults()`` with no arguments does it, on both doubles."""
        warnings.warn(
            "LocalTranscribe.clear_faults() is deprecated: call set_faults() with no "
            "arguments, as on FakeTranscribe",
            DeprecationWarning,
            stacklevel=2,
        )
        self.set_faults()

    def outage(self, seconds: float) -> None:
        """Refuse every connection for ``seconds``, starting before this returns."""
        if not (seconds >= 0):
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._running()
        self._proxy.outage(seconds)

    def traffic(self) -> TrafficReport:
        """Requests, throttled answers and faults per operation and per job."""
        self._running()
        report: TrafficReport = self._proxy.report()
        return report

    def reset_traffic(self) -> None:
        self._running()
        self._proxy.reset_counts()
