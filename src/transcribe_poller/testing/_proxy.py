"""A reverse proxy in front of moto that injects throttling, faults and outages.

It runs its own asyncio loop in a daemon thread, so the test bed can be started and
stopped from synchronous code (a session-scoped pytest fixture, a script) and serves
clients on any event loop. Every Transcribe request passes through it, faults or not, so it can
count requests per operation and per job; other services' requests pass untouched.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from ._faults import Counts, Faults, Gate, TrafficReport, Verdict

# Answers an operation the test bed answers itself: (HTTP status, JSON body), or
# None to ask moto.
LocalAnswer = Callable[[str, bytes], "tuple[int, bytes] | None"]
# Answers the test bed's own control paths (see _control.py), never counted or faulted.
ControlHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_local/"
DocumentHandler = Callable[[str], tuple[int, bytes]]
# The service bucket's path on S3, which the bed's presigned URIs keep.
DOCUMENTS_PREFIX = "/aws-transcribe-"
# The X-Amz-Target prefix of Transcribe's operations (awsJson1_1).
TRANSCRIBE_TARGET = "Transcribe."

# Hop-by-hop headers and those aiohttp sets itself must not be copied across.
_SKIP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}
)


def _aws_error(
    status: int, error_type: str, message: str, retry_after: float | None = None
) -> web.Response:
    """An error in the wire form of the awsJson1_1 protocol that Transcribe speaks."""
    headers = {
        "x-amzn-ErrorType": f"{error_type}:",
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Type": "application/x-amz-json-1.1",
    }
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    body = json.dumps({"__type": error_type, "Message": message})
    return web.Response(status=status, text=body, headers=headers)


def _job_key(body: bytes) -> tuple[str, str] | None:
    if not body:
        return None
    try:
        params = json.loads(body)
    except ValueError:
        return None
    if not isinstance(params, dict):
        return None
    for field_name, kind in (
        ("MedicalTranscriptionJobName", "medical"),
        ("TranscriptionJobName", "standard"),
        ("CallAnalyticsJobName", "call-analytics"),
        ("MedicalScribeJobName", "medical-scribe"),
    ):
        name = params.get(field_name)
        if isinstance(name, str):
            return (kind, name)
    return None


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", *, port: int = 0) -> None:
        self._upstream = upstream.rstrip("/")
        self._host = host
        self._port = port  # 0: a free port, kept from then on (outages listen again on it)
        self._control: ControlHandler | None = None
        self._documents: DocumentHandler | None = None
        self._local: LocalAnswer | None = None
        self._gate = Gate()
        self._lock = threading.Lock()
        self._by_op: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        self._by_job: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        self._outages = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._web_server: web.Server | None = None
        self._session: aiohttp.ClientSession | None = None
        self._outage_task: asyncio.Task[None] | None = None
        self._hung: set[asyncio.Future[None]] = set()  # requests never to be answered

    # -- life cycle (called from any thread) --------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def start(self) -> None:
        ready: threading.Event = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._close())
                loop.close()

        self._thread = threading.Thread(target=run, name="transcribe-fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("the fault proxy did not start within 30 s")
        if failure:
            raise RuntimeError(f"the fault proxy failed to start: {failure[0]!r}") from failure[0]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None

    def _call(self, coro: Any, timeout: float = 30.0) -> Any:
        if self._loop is None:
            raise RuntimeError("the fault proxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- configuration and counts (called from any thread) ------------------------

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._gate.faults

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self._gate = Gate(faults)

    def set_local_answers(self, answer: LocalAnswer | None) -> None:
        """Answer some operations here instead of moto (the test bed's scripted jobs)."""
        self._local = answer

    def set_documents(self, handler: DocumentHandler | None) -> None:
        """Serve GETs of presigned output URIs (paths under ``/aws-transcribe-``) with
        ``handler(url) -> (status, body)``: not Transcribe's traffic, never faulted."""
        self._documents = handler

    def set_control(self, handler: ControlHandler | None) -> None:
        """Answer requests under ``/_local/`` with ``handler`` (None: forward them)."""
        self._control = handler

    def outage(self, seconds: float) -> None:
        """Refuse connections from now for ``seconds``; returns once they are refused."""
        self._call(self._begin_outage(seconds))

    def end_outage(self) -> None:
        self._call(self._end_outage())

    def report(self) -> TrafficReport:
        with self._lock:
            return TrafficReport(
                by_operation={op: Counts(*c) for op, c in self._by_op.items()},
                by_job={job: Counts(*c) for job, c in self._by_job.items()},
                outages=self._outages,
            )

    def reset_counts(self) -> None:
        with self._lock:
            self._by_op.clear()
            self._by_job.clear()
            self._outages = 0

    # -- inside the proxy's loop ---------------------------------------------------

    async def _open(self) -> None:
        # One connection per request upstream: werkzeug closes each one anyway.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=64),
            timeout=aiohttp.ClientTimeout(total=60),
            auto_decompress=False,
        )
        self._web_server = web.Server(self._handle)
        await self._listen()

    async def _listen(self) -> None:
        assert self._web_server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._web_server, self._host, self._port, reuse_address=True, backlog=512
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        for never in list(self._hung):
            never.cancel()
        if self._outage_task is not None:
            self._outage_task.cancel()
        await self._drop_listener()
        if self._web_server is not None:
            await self._web_server.shutdown(timeout=1)
        if self._session is not None:
            await self._session.close()

    async def _drop_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # Open keep-alive connections would otherwise outlive the outage.
        if self._web_server is not None:
            for handler in list(self._web_server.connections):
                handler.force_close()
                if handler.transport is not None:
                    handler.transport.abort()

    async def _begin_outage(self, seconds: float) -> None:
        if self._outage_task is not None:
            self._outage_task.cancel()
        with self._lock:
            self._outages += 1
        await self._drop_listener()

        async def restore() -> None:
            await asyncio.sleep(seconds)
            await self._listen()
            self._outage_task = None

        self._outage_task = asyncio.get_running_loop().create_task(restore())

    async def _end_outage(self) -> None:
        if self._outage_task is not None:
            self._outage_task.cancel()
            self._outage_task = None
            await self._listen()

    def _count(self, operation: str, job: tuple[str, str] | None, index: int) -> None:
        with self._lock:
            self._by_op[operation][index] += 1
            if job is not None:
                self._by_job[job][index] += 1

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        control = self._control
        if control is not None and request.path.startswith(CONTROL_PREFIX):
            # Before faults and counts: starting a job is not traffic of the service.
            return await control(request)
        documents = self._documents
        if (
            documents is not None
            and request.method == "GET"
            and request.path.startswith(DOCUMENTS_PREFIX)
        ):
            status, payload = documents(str(request.url))
            kind = "application/json" if status == 200 else "application/xml"
            return web.Response(status=status, body=payload, headers={"Content-Type": kind})
        body = await request.read()
        target = request.headers.get("X-Amz-Target", "")
        if target and not target.startswith(TRANSCRIBE_TARGET):
            # Another service's client (SQS, for the bed's events) given this URL: its
            # requests are not Transcribe's traffic, so neither counted nor faulted.
            return await self._forward(request, body)
        operation = target.rpartition(".")[2] or "unknown"
        job = _job_key(body)
        with self._lock:
            faults = self._gate.faults
            self._by_op[operation][0] += 1
            if job is not None:
                self._by_job[job][0] += 1
        if faults.latency:
            await asyncio.sleep(faults.latency)
        with self._lock:
            decision = self._gate.admit(operation, time.monotonic())
        if decision.count_index is not None:
            self._count(operation, job, decision.count_index)
        if decision.verdict is Verdict.DROP:
            if request.transport is not None:
                request.transport.abort()
            # Nothing reaches the client: the transport is gone.
            return web.Response(status=500)
        if decision.verdict is Verdict.HANG:
            # Accepted and never answered: the connection stays open until the client
            # gives up, or the proxy stops (which cancels the wait).
            never = asyncio.get_running_loop().create_future()
            self._hung.add(never)
            try:
                await never
            finally:
                self._hung.discard(never)
        if decision.verdict is not Verdict.PASS:
            return _aws_error(
                decision.status, decision.code, decision.message, decision.retry_after
            )
        local = self._local
        if local is not None:
            answered = local(operation, body)
            if answered is not None:
                status, payload = answered
                if status >= 400:
                    error = json.loads(payload)
                    return _aws_error(status, error["__type"], error["Message"])
                return web.Response(
                    status=status,
                    body=payload,
                    headers={"Content-Type": "application/x-amz-json-1.1"},
                )
        return await self._forward(request, body)

    async def _forward(self, request: web.BaseRequest, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP_HEADERS}
        async with self._session.request(
            request.method, self._upstream + request.path_qs, headers=headers, data=body
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _SKIP_HEADERS}
            return web.Response(status=upstream.status, body=payload, headers=out)


__all__ = ["CONTROL_PREFIX", "ControlHandler", "FaultProxy"]
