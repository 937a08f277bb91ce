"""A batch of Start requests: admitted within the account's limits, each job then awaited.

``Poller.submit(requests)`` reads the requests lazily, one lane per kind (a lane
holds at most :data:`LANE` requests, so a manifest of any length is never in memory
at once), and starts each as its kind's :class:`~._admission.Admission` allows.
Each started job is awaited like ``watch()``'s, and its event frees its slot the
moment the poller delivers it. The rules for a Start's answer:

* accepted: the job is awaited;
* ``ConflictException`` (the name is in use: a crash and a re-run, or a retried
  Start the service had accepted): one Get reads the job; the same media and kind
  is this job, adopted (awaited, or reported at once if it ended); other media is
  an ERROR event saying the name is taken. From the first conflict on, the batch
  ran before: each later request of the kind is read with a Get first and started
  only if the service does not know it, so a re-run starts nothing twice and sends
  no Start it knows will conflict;
* ``LimitExceededException``: the account's cap or Start quota; the slot goes
  back, the capacity follows the account (``_admission``), and the request waits
  for a slot again; never reaches the caller;
* throttling and transient faults: retried along the backoff, as everywhere;
* any other refusal (validation, a missing permission, a request botocore will not
  send): that job's ERROR event, naming the field or the permission; the batch
  goes on.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import anyio
import anyio.lowlevel
import botocore.exceptions
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._admission import Admission
from ._backoff import Backoff
from ._classify import Verdict, classify, service_message
from ._events import CompletionEvent, event_from_job
from ._exceptions import PollerClosedError
from ._jobs import JobKind, JobRef
from ._kinds import KINDS, TERMINAL_STATUSES
from ._request import Sender
from ._startrequest import StartRequest, read_request, refused

LANE = 1000  # requests read ahead per kind


class _Unknown:
    """A job the service does not know: start it."""


_UNKNOWN = _Unknown()
STARTING = 100  # Starts under way at once per kind (queued requests take no slot)

Requests = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]


class Starter:
    """What a submission needs of its poller: made by the Poller, one per poller."""

    def __init__(
        self,
        *,
        client: Any,
        sender: Sender,
        admissions: Mapping[JobKind, Admission],
        backoff: Backoff,
        read: Callable[[JobRef], Awaitable[Mapping[str, Any]]],
        subscribe: Callable[[list[JobRef], Any], None],
        unsubscribe: Callable[[list[JobRef], Any], None],
    ) -> None:
        self.client = client
        self.sender = sender
        self.admissions = admissions
        self.backoff = backoff
        self.read = read
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe


class Submission:
    """What :meth:`Poller.submit` returns: use it with ``async with``."""

    def __init__(self, starter: Callable[[], Starter], requests: Requests) -> None:
        if not isinstance(requests, (Iterable, AsyncIterable)) or isinstance(
            requests, (str, bytes, Mapping)
        ):
            raise TypeError(
                "submit() takes an iterable (or async iterable) of Start requests, each a "
                f"dict of the Start operation's parameters; got {requests!r}"
            )
        self._starter_of = starter
        self._requests = requests
        self._pending = 0  # requests read whose event has not gone out
        self._fed = False
        self._failure: BaseException | None = None
        self._holding: collections.Counter[JobRef] = collections.Counter()
        self._look_first: set[JobKind] = set()  # kinds that met a ConflictException
        self._awaited: collections.Counter[JobRef] = collections.Counter()
        self._task_group: TaskGroup | None = None
        send, receive = anyio.create_memory_object_stream["CompletionEvent | None"](math.inf)
        self._send: MemoryObjectSendStream[CompletionEvent | None] = send
        self._receive: MemoryObjectReceiveStream[CompletionEvent | None] = receive

    async def __aenter__(self) -> AsyncIterator[CompletionEvent]:
        self._starter = self._starter_of()  # the poller must be open
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        task_group.start_soon(self._feed)
        return self._events()

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        await self._task_group.__aexit__(None, None, None)
        # Jobs left behind run on; nobody here awaits them, and their slots go back.
        for job, count in self._awaited.items():
            self._starter.unsubscribe([job] * count, self)
        for job, count in self._holding.items():
            for _ in range(count):
                self._starter.admissions[job.kind].release()
        self._holding.clear()
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> AsyncIterator[CompletionEvent]:
        raise TypeError(
            "poller.submit() must be entered first: "
            "'async with poller.submit(requests) as events: async for event in events: ...'"
        )

    async def _events(self) -> AsyncIterator[CompletionEvent]:
        async for event in self._receive:
            if event is None:
                raise PollerClosedError("the Poller closed before every submitted job finished")
            yield event
        if self._failure is not None:
            raise self._failure

    # -- the poller's side: events of awaited jobs ------------------------------------

    def send_nowait(self, event: CompletionEvent | None) -> None:
        """Delivery of an awaited job's event (or None: the poller closed)."""
        if event is None:
            self._send.send_nowait(None)
            return
        self._awaited[event.job] -= 1
        if self._awaited[event.job] <= 0:
            del self._awaited[event.job]
        if self._holding[event.job] > 0:
            self._holding[event.job] -= 1
            self._starter.admissions[event.job.kind].release()
        self._emit(event)

    def _emit(self, event: CompletionEvent) -> None:
        self._pending -= 1
        self._send.send_nowait(event)
        self._close_if_done()

    def _close_if_done(self) -> None:
        if self._fed and self._pending == 0:
            self._send.close()

    # -- reading and admitting ----------------------------------------------------------

    async def _feed(self) -> None:
        lanes: dict[JobKind, MemoryObjectSendStream[StartRequest]] = {}
        async with anyio.create_task_group() as task_group:
            try:
                index = 0
                async for request in _each(self._requests):
                    index += 1
                    self._pending += 1
                    read = read_request(request, index)
                    if isinstance(read, CompletionEvent):
                        self._emit(read)
                        continue
                    lane = lanes.get(read.job.kind)
                    if lane is None:
                        lane, taken = anyio.create_memory_object_stream[StartRequest](LANE)
                        lanes[read.job.kind] = lane
                        task_group.start_soon(self._admit, read.job.kind, taken)
                    await lane.send(read)
            except Exception as error:
                # The requests' own iterator failed: the jobs read so far go on, and
                # the error is raised after their events.
                self._failure = error
            finally:
                for lane in lanes.values():
                    lane.close()
        self._fed = True
        self._close_if_done()

    async def _admit(self, kind: JobKind, lane: MemoryObjectReceiveStream[StartRequest]) -> None:
        admission = self._starter.admissions[kind]
        starting = anyio.CapacityLimiter(STARTING)
        async with anyio.create_task_group() as task_group, lane:
            async for request in lane:
                await starting.acquire_on_behalf_of(request)
                slot = _Slot(admission)
                if not request.deferred:
                    await slot.take()
                task_group.start_soon(self._start, request, slot, starting)

    async def _start(
        self, request: StartRequest, slot: _Slot, starting: anyio.CapacityLimiter
    ) -> None:
        try:
            event = await self._start_one(request, slot)
        finally:
            slot.release()  # unless handed over to an awaited job (or cancelled)
            starting.release_on_behalf_of(request)
        if event is not None:
            self._emit(event)

    async def _start_one(self, request: StartRequest, slot: _Slot) -> CompletionEvent | None:
        """Start ``request``'s job (in its slot, unless deferred) and await it; or the
        event that ends it here."""
        starter = self._starter
        job = request.job
        call = getattr(starter.client, KINDS[job.kind].start_method, None)
        if call is None:
            return refused(job, f"the client has no {KINDS[job.kind].start_method}()")
        if job.kind in self._look_first:
            known = await self._known(request, slot)
            if not isinstance(known, _Unknown):
                return known
        attempt = 0
        while True:
            reply = await starter.sender.send(slot.admission.limiter, call, request.params)
            if reply.verdict is None:
                if slot.held:
                    slot.admission.started()
                self._await(job, slot)
                return None
            error = reply.error
            assert error is not None
            code = _code(error)
            if code == "ConflictException":
                self._look_first.add(job.kind)
                return await self._adopt(request, slot)
            attempt += 1
            if code == "LimitExceededException" and slot.held:
                slot.refused()
                await slot.admission.wait_change(starter.backoff.delay(attempt))
                await slot.take()
                continue
            if reply.verdict in (Verdict.THROTTLED, Verdict.TRANSIENT):
                await anyio.sleep(starter.backoff.delay(attempt))
                continue
            return refused(job, _refusal(error, job, request.params), error)

    async def _known(self, request: StartRequest, slot: _Slot) -> CompletionEvent | _Unknown | None:
        """A Get before the Start: :data:`_UNKNOWN` if the service does not know the
        job, else what :meth:`_adopt_read` makes of it."""
        try:
            details = await self._starter.read(request.job)
        except Exception as error:
            if classify(error)[0] is Verdict.NOT_FOUND:
                return _UNKNOWN
            return _unread(request, error)
        return self._adopt_read(request, slot, details)

    async def _adopt(self, request: StartRequest, slot: _Slot) -> CompletionEvent | None:
        """The name is in use: this job (same media) is awaited, or reported if it
        ended; a job of other media is an error."""
        try:
            details = await self._starter.read(request.job)
        except Exception as error:
            return _unread(request, error)
        return self._adopt_read(request, slot, details)

    def _adopt_read(
        self, request: StartRequest, slot: _Slot, details: Mapping[str, Any]
    ) -> CompletionEvent | None:
        job = request.job
        spec = KINDS[job.kind]
        media = details.get("Media")
        theirs = media.get("MediaFileUri") if isinstance(media, Mapping) else None
        if theirs != request.media:
            return refused(
                job,
                f"the name is taken by a job of other media ({theirs!r}, not "
                f"{request.media!r}); choose another name",
            )
        if details.get(spec.status_field) in TERMINAL_STATUSES:
            return event_from_job(job, spec, details, polls=1, waited=0.0)
        self._await(job, slot)  # running: it keeps its slot
        return None

    def _await(self, job: JobRef, slot: _Slot) -> None:
        """Await the job started (or adopted); its slot, if it holds one, is now freed
        by its event."""
        if slot.hand_over():
            self._holding[job] += 1
        self._awaited[job] += 1
        self._starter.subscribe([job], self)


class _Slot:
    """Whether one request holds a slot of its kind: one place to give it back, so
    that a Start cancelled anywhere (the block left early) never keeps one."""

    __slots__ = ("admission", "held")

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.held = False

    async def take(self) -> None:
        await self.admission.take()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.admission.release()

    def refused(self) -> None:
        if self.held:
            self.held = False
            self.admission.refused()

    def hand_over(self) -> bool:
        """The slot, if held, now belongs to the awaited job."""
        held, self.held = self.held, False
        return held


def _unread(request: StartRequest, error: Exception) -> CompletionEvent:
    return refused(request.job, f"its name is in use and reading that job failed: {error}", error)


async def _each(requests: Requests) -> AsyncIterator[Mapping[str, Any]]:
    if isinstance(requests, AsyncIterable):
        async for request in requests:
            yield request
    else:
        for request in requests:
            yield request
            await anyio.lowlevel.checkpoint()


def _code(error: BaseException) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def _refusal(error: BaseException, job: JobRef, params: Mapping[str, Any]) -> str:
    """Why the service (or botocore) refused the Start, and what to change."""
    code = _code(error)
    operation = _operation(KINDS[job.kind].start_method)
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
        needs = f"transcribe:{operation}"
        role = params.get("DataAccessRoleArn") or (params.get("JobExecutionSettings") or {}).get(
            "DataAccessRoleArn"
        )
        if role:
            needs += f" and iam:PassRole on {role}"
        return f"access denied ({code}): the caller needs {needs}"
    if isinstance(error, botocore.exceptions.ParamValidationError):
        return f"botocore refused the request: {error}"
    if code:
        return f"the service refused it ({code}): {service_message(error)}"
    return service_message(error)


def _operation(method: str) -> str:
    """``start_transcription_job`` -> ``StartTranscriptionJob``."""
    return re.sub(r"(?:^|_)(\w)", lambda m: m.group(1).upper(), method)
