"""The Poller: opens and closes, owns one scheduler per kind of job, and delivers events.

Polling itself belongs to the schedulers (``_scheduler``): one per kind, each with
its own Get rate limit and hint sources. The poller keeps who awaits which job, and
hands each job's one event to every waiter: ``wait()`` is a ``watch()`` of one job.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import _check
from ._admission import Admission
from ._backoff import Backoff
from ._client import (
    TranscribeClient,
    check_client,
    check_event_loop,
    endpoint_of,
    request_deadline,
)
from ._download import MAX_BYTES, Downloader, ServesUrls
from ._events import CompletionEvent, Outcome
from ._exceptions import PollerClosedError
from ._fetch import Fetcher
from ._health import ServiceHealth
from ._hints import HintSource
from ._job import Policy
from ._jobs import JobKind, JobLike, JobRef, as_job_ref, as_job_refs
from ._kinds import KINDS
from ._log import get_logger
from ._options import REQUEST_TIMEOUT, PollerOptions, settle
from ._queue import QueueConsumer
from ._ratelimit import RateLimiter
from ._request import Reachability, Sender
from ._scheduler import Scheduler
from ._stats import PollerStatistics, RequestCounts, compose
from ._submit import Requests, Starter, Submission
from ._sweep import LIST_RETRY_INITIAL, LIST_RETRY_MAXIMUM, Sweeper
from ._transcript import ClinicalDocument, Transcript

if TYPE_CHECKING:
    from typing_extensions import Unpack


class _Listener(Protocol):
    """Who awaits jobs: a watch's stream, or a submission."""

    def send_nowait(self, item: CompletionEvent | None, /) -> None: ...


class Poller:
    """Polls Transcribe jobs until each is COMPLETED or FAILED.

    ``client`` is an aiobotocore Transcribe client the caller owns, in any retry
    mode (or :class:`transcribe_poller.testing.FakeTranscribe` in tests). Use the
    poller as an async context manager; however many callers await a job, it is
    polled once::

        async with Poller(client) as poller:
            event = await poller.wait("interview-1")

    Options (:class:`PollerOptions`; the defaults are :data:`DEFAULT_OPTIONS`):

    * ``backoff``: delays between two reads of a job after a fault or a throttled
      answer (:class:`Backoff`); ordinary reads follow ``budget``.
    * ``budget``: requests per second each kind of job with jobs pending spends on
      reading them one by one (default 0.8): a job awaited alone is read every
      1.25 s; from two jobs on the kind is swept instead, every 1.5 s, within its
      List budget (:class:`Sweep`), so a job is known about a second after it ends
      however many are pending. More budget,
      sooner known; every process of the account shares its quotas (Get 30/s, List
      5/s per operation by default), so with N processes keep ``N * budget`` well
      under them.
    * ``max_rate``: requests per second for each Get operation, shared by all jobs
      (default 25, under AWS's default quota of 30): the ceiling for bursts (a
      batch's ends, a fallback from sweeps). Cut at once when throttled, recovered
      over seconds.
    * ``job_timeout``: seconds after which a job gets a TIMED_OUT event (default:
      no limit).
    * ``not_found_grace``: seconds a job may stay unknown to the service before it
      is reported NOT_FOUND; a job just started may not be visible yet (default 5).
    * ``max_faults``: transient faults (HTTP 5xx, dropped connections, timeouts) in
      a row after which one job ends with ERROR (default None: never; faults only
      slow a job's reads, see the failure semantics page).
    * ``sweep``: when to list unfinished jobs instead of polling each one
      (:class:`Sweep`, or its mode ``"auto"``, ``"always"`` or ``"never"``; by
      default once 2 jobs of a kind are pending, until none is).
    * ``unreachable_after``: seconds of faults, with no answer of any kind since the
      poller started (throttled and error answers count as answers), after which
      every job ends with ERROR and a :class:`ServiceUnreachableError` naming the
      endpoint (default 15): a mistyped endpoint fails fast. Missing credentials
      end them at once.
    * ``notifications``: an :class:`EventBridgeQueue` to learn of standard and Call
      Analytics jobs' ends from Transcribe's own events, and of the kinds named in
      its ``output_events`` from their output objects in S3, with sweeps and Gets
      as reconciliation (default: none; polling only).
    * ``request_timeout``: seconds after which a request still unanswered is
      abandoned and counts as a transient fault (default 20: a Get or a List
      answers within a second; less when the client's own timeouts and retries,
      ``(connect_timeout + read_timeout) * attempts``, give up sooner).
    * ``s3``: an aiobotocore S3 client for :meth:`fetch_transcript` to read output
      in your own buckets with (every medical and Medical Scribe job's; default
      none: pass one per call, or such a fetch says it needs one).
    * ``max_downloads``: transcripts downloaded at once (default 8); the others
      wait their turn. Downloads never delay polling.
    * ``max_running``: jobs :meth:`submit` runs at once per kind (an int for every
      kind, or a mapping of kind to int; default AWS's caps: 250, and 100 for Call
      Analytics). Set it to your account's quota, less what other processes run.
    * ``start_rate``: Start requests per second per kind for :meth:`submit` (a
      number, or a mapping of kind to number; default AWS's quotas: 25, and 10 for
      Call Analytics).

    A transient fault (throttling, HTTP 5xx, a dropped, refused or hung
    connection, expired credentials) never ends a job, however long it lasts: it
    slows the job's reads, and while an operation's requests all fail the poller
    sends one probe at a time until it answers, says so once (``health``), and
    reads every faulted job again as soon as it does. ``job_timeout`` bounds the
    wait, if wanted.
    """

    def __init__(self, client: TranscribeClient, **options: Unpack[PollerOptions]) -> None:
        check_client(client)
        settings = settle(options)
        self._client = client
        self._backoff = settings.backoff
        self._budget = settings.budget
        self._max_rate = settings.max_rate
        self._max_running = settings.max_running
        self._start_rate = settings.start_rate
        self._starter: Starter | None = None
        self._job_timeout = settings.job_timeout
        self._not_found_grace = settings.not_found_grace
        self._max_faults = settings.max_faults
        self._sweep = settings.sweep
        self._unreachable_after = settings.unreachable_after
        self._queue = settings.notifications
        self._request_timeout = (
            min(request_deadline(client), REQUEST_TIMEOUT)
            if settings.request_timeout is None
            else settings.request_timeout
        )
        self._downloader = Downloader(
            limit=settings.max_downloads,
            backoff=self._backoff,
            request_timeout=self._request_timeout,
            s3=settings.s3,
            urls=client if isinstance(client, ServesUrls) else None,
            unreachable_after=settings.unreachable_after,
        )
        self._fetcher = Fetcher(self._downloader, self._read, self.refresh)
        self._consumer: QueueConsumer | None = None
        self._sender: Sender | None = None
        self._schedulers: dict[JobKind, Scheduler] = {}
        self._waiters: dict[JobRef, list[_Listener]] = {}
        self._sweepers: list[Sweeper] = []
        self._task_group: TaskGroup | None = None
        self._state = "new"

    def __repr__(self) -> str:
        pending = sum(s.count() for s in self._schedulers.values())
        return f"<Poller {self._state} pending={pending} max_rate={self._max_rate:g}>"

    # -- life cycle ----------------------------------------------------------------

    async def __aenter__(self) -> Poller:
        if self._state != "new":
            raise RuntimeError("a Poller can be entered only once; create a new one")
        check_event_loop(self._client)
        self._state = "opening"
        # Bound now, after the application has configured its logging.
        log = get_logger()
        reach = Reachability(endpoint_of(self._client), self._unreachable_after, log)
        sender = self._sender = Sender(
            reach,
            log,
            request_timeout=self._request_timeout,
            longest_probe=self._backoff.maximum,
        )
        consumer = (
            None
            if self._queue is None
            else QueueConsumer(self._queue, log, request_timeout=self._request_timeout)
        )
        if consumer is not None:
            await consumer.check()  # a missing queue or no permission: raised now
        self._consumer = consumer
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        try:
            for kind, spec in KINDS.items():
                sources: list[HintSource] = []
                if consumer is not None and kind in consumer.config.covered_kinds:
                    sources.append(consumer.coverage(kind))
                if self._sweep.mode != "never":
                    retry = Backoff(LIST_RETRY_INITIAL, LIST_RETRY_MAXIMUM, rng=self._backoff.rng)
                    sweeper = Sweeper(
                        client=self._client,
                        spec=spec,
                        settings=self._sweep,
                        sender=sender,
                        retry=retry,
                        log=log,
                    )
                    self._sweepers.append(sweeper)
                    sources.append(sweeper)
                policy = Policy(spec, self._backoff, self._not_found_grace, self._max_faults, log)
                scheduler = self._schedulers[kind] = Scheduler(
                    spec=spec,
                    client=self._client,
                    policy=policy,
                    limiter=RateLimiter(self._max_rate),
                    sender=sender,
                    sources=sources,
                    delivery=_Delivery(self),
                    job_timeout=self._job_timeout,
                    log=log,
                    budget=self._budget,
                )
                await task_group.start(scheduler.run, name=f"scheduler {kind.value}")
            self._starter = Starter(
                client=self._client,
                sender=sender,
                admissions={
                    kind: Admission(self._max_running[kind], self._start_rate[kind])
                    for kind in KINDS
                },
                backoff=self._backoff,
                read=self._read,
                subscribe=self._subscribe,
                unsubscribe=self._unsubscribe,
            )
            task_group.start_soon(self._end_all_if_unreachable, reach)
            if consumer is not None:
                task_group.start_soon(consumer.run, name="queue")
        except BaseException:
            task_group.cancel_scope.cancel()
            await task_group.__aexit__(None, None, None)
            raise
        self._task_group = task_group
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        self._state = "closed"
        # Leaving stops all polling: nobody left inside the block is waiting for it.
        self._task_group.cancel_scope.cancel()
        try:
            if isinstance(exc, Exception):
                # The block's own error: the poller's tasks never raise, so the task
                # group has nothing to add. Left to it, it would wrap the error in an
                # ExceptionGroup and `except InvalidJobNameError` around us would miss.
                await self._task_group.__aexit__(None, None, None)
                return None
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            with anyio.CancelScope(shield=True):
                await self._downloader.aclose()
            # Release everyone still waiting in other tasks: no event will come.
            listeners = {id(li): li for lis in self._waiters.values() for li in lis}
            self._waiters.clear()
            for listener in listeners.values():
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    listener.send_nowait(None)

    def _check_open(self) -> None:
        if self._state != "open":
            raise PollerClosedError(
                "the Poller is closed"
                if self._state == "closed"
                else "the Poller is not open: use 'async with Poller(client) as poller'"
            )

    async def _end_all_if_unreachable(self, reach: Reachability) -> None:
        unreachable = await reach.wait_unreachable()
        for scheduler in self._schedulers.values():
            scheduler.end_all(unreachable)

    # -- public API ------------------------------------------------------------------

    async def wait(self, job: JobLike) -> CompletionEvent:
        """Poll ``job`` (a JobRef, or a name for a standard job) until it ends."""
        ref = as_job_ref(job)
        async with self.watch([ref]) as events:
            async for event in events:
                return event
        raise AssertionError("unreachable: watch() yields one event per job or raises")

    def watch(self, jobs: Iterable[JobLike]) -> Watch:
        """Events for ``jobs`` in the order they finish, exactly one per distinct job.

        Every name is checked before anything is sent. Leaving the block early stops
        polling the jobs nobody else awaits::

            async with poller.watch(names) as events:
                async for event in events:
                    ...
        """
        return Watch(self, as_job_refs(jobs))

    def submit(self, requests: Requests) -> Submission:
        """Start a batch of jobs within the account's limits, and await each: the same
        events as :meth:`watch`, one per request, in the order they finish::

            async with poller.submit(requests) as events:
                async for event in events:
                    ...

        Each request is the parameters of its kind's Start operation with botocore's
        names (``TranscriptionJobName``, ``Media``, ...); the name key tells the
        kind. ``requests`` may be any iterable or async iterable, read as slots
        free, never all at once.

        Starts keep within each kind's Start quota (``start_rate``) and running
        jobs within its cap (``max_running``; AWS's defaults), a new job starting as
        soon as the poller learns that one ended. A request asking for job queueing
        (``JobExecutionSettings.AllowDeferredExecution``, or a Call Analytics
        ``DataAccessRoleArn``) is handed to the service's queue at once. The
        account's ``LimitExceededException`` (other processes use its slots too)
        never reaches you: the batch runs only as many jobs as the account has room
        for until Starts succeed again.

        Resumable by name: a name already in use (a re-run after a crash) is read
        with one Get; the same media is this job, awaited or reported at once if it
        ended; other media is an ERROR event saying the name is taken. A malformed
        or refused request (no name, no media, a validation error, a missing
        permission) is an ERROR event with a :class:`StartRefusedError` naming the
        field or the permission, and the batch goes on. Leaving the block early
        stops awaiting the jobs started; they run on.
        """
        return Submission(self._starter_now, requests)

    def _starter_now(self) -> Starter:
        self._check_open()
        assert self._starter is not None
        return self._starter

    async def refresh(self, event: CompletionEvent) -> CompletionEvent:
        """The same event with fresh URIs, from one Get.

        Presigned URIs (output in the service's bucket) expire about 15 minutes after
        the Get that gave them (``event.expires_at``); an event that waited in a
        queue, or a batch that ended overnight, holds dead links. Only COMPLETED
        events have URIs to refresh. Errors of the Get (the job was deleted, access
        denied) are raised; throttling and transient faults are retried.
        """
        if not isinstance(event, CompletionEvent):
            raise TypeError(f"refresh() takes a CompletionEvent, got {event!r}")
        if event.outcome is not Outcome.COMPLETED:
            raise ValueError(
                f"job {event.job} ended {event.outcome.value}: only a COMPLETED event has "
                "URIs to refresh"
            )
        self._check_open()
        return await self._schedulers[event.job.kind].refresh(event)

    async def fetch_transcript(
        self,
        job: CompletionEvent | JobLike,
        *,
        redacted: bool | None = None,
        s3: Any = None,
        max_bytes: int = MAX_BYTES,
    ) -> Transcript:
        """The transcript of a COMPLETED job, read: its text, timed segments, subtitles.

        ``job`` is its :class:`CompletionEvent`, or a job name or :class:`JobRef` (then
        one Get finds where its output is). ``redacted``: None fetches what the job
        produced (the redacted transcript when there is one, as
        ``event.preferred_uri``); True or False picks. Output in the service's bucket
        is fetched over HTTPS from the presigned URI; if S3 refuses it (it expired,
        15 minutes after the Get that gave it), one Get renews it and the fetch is
        tried again, once. Output in your own bucket is read with S3 GetObject
        through ``s3`` (or the poller's ``s3`` option), which needs ``s3:GetObject``
        on it. A job with subtitles gets its own files fetched too
        (:meth:`Transcript.to_srt`).

        Raises :class:`TranscriptUnavailableError` naming the job when the job did
        not complete, its output is gone, S3 refuses the read, or the document is
        larger than ``max_bytes`` (default 64 MiB); :class:`TranscriptError` when
        the document is not its kind's shape. Transient faults (5xx, throttling,
        dropped connections) are retried for as long as they last: bound the wait
        with ``anyio.fail_after`` if needed.
        """
        self._check_open()
        return await self._fetcher.transcript(
            job, redacted=redacted, s3=s3, max_bytes=_check.whole("max_bytes", max_bytes, low=1)
        )

    async def fetch_clinical_document(
        self, job: CompletionEvent | JobLike, *, s3: Any = None, max_bytes: int = MAX_BYTES
    ) -> ClinicalDocument:
        """A Medical Scribe job's clinical note (``summary.json``): its sections and
        their summaries; as :meth:`fetch_transcript` otherwise."""
        self._check_open()
        return await self._fetcher.clinical_document(
            job, s3=s3, max_bytes=_check.whole("max_bytes", max_bytes, low=1)
        )

    async def _read(self, job: JobRef) -> Any:
        return await self._schedulers[job.kind].read(job)

    def statistics(self) -> PollerStatistics:
        """An immutable snapshot of requests, throttling, faults and jobs."""
        limits: dict[str, float] = {}
        for scheduler in self._schedulers.values():
            limits.update(scheduler.rate_limits())
        kinds = {kind: (s.count(), s.counts) for kind, s in self._schedulers.items()}
        consumer = self._consumer
        queue = (0, 0) if consumer is None else (consumer.requests, consumer.messages)
        requests = RequestCounts() if self._sender is None else self._sender.counts
        sweeps = [sweeper.counts for sweeper in self._sweepers]
        return compose(requests, kinds, sweeps, limits, queue, self.health, self._downloader.counts)

    @property
    def health(self) -> ServiceHealth:
        """Whether the service answers now: an immutable :class:`ServiceHealth`.

        Faults never end a job, so a service awaiting jobs may want to expose this
        (a health endpoint, say): ``down`` while some operation's requests all fail.
        """
        if self._sender is None:
            return ServiceHealth()
        return self._sender.outages.health(anyio.current_time())

    # -- waiters -----------------------------------------------------------------------

    def _subscribe(self, refs: list[JobRef], listener: _Listener) -> None:
        self._check_open()
        new: dict[JobKind, list[JobRef]] = {}
        for ref in refs:
            listeners = self._waiters.get(ref)
            if listeners is None:
                self._waiters[ref] = [listener]
                new.setdefault(ref.kind, []).append(ref)
            else:
                listeners.append(listener)
        for kind, added in new.items():
            self._schedulers[kind].add(added)

    def _unsubscribe(self, refs: list[JobRef], listener: _Listener) -> None:
        for ref in refs:
            listeners = self._waiters.get(ref)
            if listeners is None or listener not in listeners:
                continue  # delivered already
            listeners.remove(listener)
            if not listeners:
                del self._waiters[ref]
                self._schedulers[ref.kind].release(ref)

    def _deliver(self, event: CompletionEvent) -> None:
        """Hand a job's event to everyone awaiting it (called by the schedulers)."""
        for listener in self._waiters.pop(event.job, ()):
            # Each stream has room for one event per job it awaits: never blocks.
            listener.send_nowait(event)


class _Delivery:
    """The schedulers' way to the poller's waiters, which stay private to it."""

    __slots__ = ("_poller",)

    def __init__(self, poller: Poller) -> None:
        self._poller = poller

    def deliver(self, event: CompletionEvent) -> None:
        self._poller._deliver(event)


class Watch:
    """What :meth:`Poller.watch` returns: use it with ``async with``."""

    def __init__(self, poller: Poller, refs: list[JobRef]) -> None:
        self._poller = poller
        self._refs = refs
        send, receive = anyio.create_memory_object_stream["CompletionEvent | None"](
            max(1, len(refs))
        )
        self._send: MemoryObjectSendStream[CompletionEvent | None] = send
        self._receive: MemoryObjectReceiveStream[CompletionEvent | None] = receive

    async def __aenter__(self) -> AsyncIterator[CompletionEvent]:
        self._poller._subscribe(self._refs, self._send)
        return self._events()

    async def __aexit__(self, *exc_info: object) -> None:
        self._poller._unsubscribe(self._refs, self._send)
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> AsyncIterator[CompletionEvent]:
        raise TypeError(
            "poller.watch() must be entered first, so that leaving it stops the polling: "
            "'async with poller.watch(jobs) as events: async for event in events: ...'"
        )

    async def _events(self) -> AsyncIterator[CompletionEvent]:
        for _ in self._refs:
            event = await self._receive.receive()
            if event is None:
                which = f"job {self._refs[0]}" if len(self._refs) == 1 else "every watched job"
                raise PollerClosedError(f"the Poller closed before {which} finished")
            yield event
