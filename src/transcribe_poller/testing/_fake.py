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
import math
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import anyio
import botocore.exceptions

from .._jobs import JobKind
from .._kinds import KINDS, KindSpec
from ._answers import client_error, describe_job, list_page, not_found
from ._fakequeue import FakeEventQueue
from ._faults import Counts, Faults, TokenBucket, TrafficReport, make_faults
from ._script import ScriptedJob, default_bucket, make_script

ENDPOINT = "memory://fake-transcribe"
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # what the clock's zero reads as


class FakeTranscribe:
    """An in-memory stand-in for an aiobotocore Transcribe client.

    Pass it wherever a client goes (``Poller(FakeTranscribe())``). Script jobs with
    :meth:`start_job` (the same arguments as ``LocalTranscribe.start_job``), faults
    and quotas with :meth:`set_faults` (the same as ``LocalTranscribe.set_faults``;
    ``drop_rate`` raises a dropped connection), an unreachable service with
    :meth:`outage`, and read what was asked with :meth:`traffic`, per operation
    and per job (``traffic().job(JobRef.medical("x"))``).

    ``clock`` tells the time jobs follow; by default the running event loop's
    (``anyio.current_time``), so start jobs from inside it. Set ``credentials`` to
    False to answer as a client with no credentials would.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        clock: Callable[[], float] = anyio.current_time,
        credentials: bool = True,
    ) -> None:
        self.region = region
        self.credentials = credentials
        self.meta = SimpleNamespace(endpoint_url=ENDPOINT, region_name=region)
        self._clock = clock
        self._jobs: dict[tuple[JobKind, str], ScriptedJob] = {}
        self._faults = Faults()
        self._buckets: dict[str, TokenBucket] = {}
        self._random = random.Random()
        self._outage_until = -math.inf
        self._outages = 0
        self._by_op: collections.defaultdict[str, list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0]
        )
        self._by_job: collections.defaultdict[tuple[str, str], list[int]] = collections.defaultdict(
            lambda: [0, 0, 0, 0]
        )

    def __repr__(self) -> str:
        return f"<FakeTranscribe jobs={len(self._jobs)} region={self.region!r}>"

    # -- scripting -----------------------------------------------------------------

    def start_job(
        self,
        name: str,
        *,
        kind: JobKind | str = JobKind.STANDARD,
        duration: float = 1.0,
        queued_for: float | None = None,
        fail_with: str | None = None,
        redaction: str | None = None,
        subtitles: Iterable[str] = (),
        content_identification: bool = False,
        output_bucket: str | None = None,
    ) -> ScriptedJob:
        """Start a scripted job now, by this fake's clock; see ``LocalTranscribe.start_job``."""
        output_bucket = default_bucket(kind, output_bucket)
        script = make_script(
            name,
            kind=kind,
            duration=duration,
            queued_for=queued_for,
            fail_with=fail_with,
            redaction=redaction,
            subtitles=list(subtitles),
            content_identification=content_identification,
            output_bucket=output_bucket,
        )
        script.started_at = self._now()
        self._jobs[(script.kind, name)] = script
        return script

    def script(self, name: str, kind: JobKind | str = JobKind.STANDARD) -> ScriptedJob:
        """The script (and ground truth) of a job started with :meth:`start_job`."""
        try:
            return self._jobs[(JobKind(kind), name)]
        except (KeyError, ValueError):
            raise KeyError(f"no scripted {kind} job named {name!r}") from None

    def set_faults(
        self,
        *,
        quota: float | Mapping[str, float | tuple[float, float]] | None = None,
        burst: float | None = None,
        denied: Iterable[str] = (),
        throttle_error: str = "LimitExceededException",
        retry_after: float | None = None,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        latency: float = 0.0,
        seed: int | None = None,
    ) -> Faults:
        """Replace the injected faults; with no arguments, inject none."""
        self._faults = make_faults(
            quota=quota,
            burst=burst,
            denied=denied,
            throttle_error=throttle_error,
            retry_after=retry_after,
            error_rate=error_rate,
            drop_rate=drop_rate,
            latency=latency,
            seed=seed,
        )
        self._buckets.clear()
        self._random = random.Random(seed)
        return self._faults

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
        return self._faults

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
        self._jobs.clear()
        self.set_faults()
        self._outage_until = -math.inf
        self._outages = 0
        self.reset_traffic()

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
            return self._clock()
        except Exception as error:  # anyio's clock outside an event loop
            raise RuntimeError(
                "FakeTranscribe follows the event loop's clock: call it inside the loop, "
                "or pass clock=time.monotonic"
            ) from error

    async def _get(self, spec: KindSpec, name: str) -> dict[str, Any]:
        job_key = (spec.kind.value, name)
        await self._admit(spec.get_operation, job_key)
        script = self._jobs.get((spec.kind, name))
        if script is None:
            self._count(spec.get_operation, job_key, 2)
            raise not_found(spec)
        now = self._now()
        status = script.status_at(now)
        if status in ("COMPLETED", "FAILED") and script.first_terminal_read_at is None:
            script.first_terminal_read_at = now
        job = describe_job(spec, script, status, at=_at, now=now, region=self.region)
        return {spec.job_field: job}

    async def _list(self, spec: KindSpec, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - {"Status", "JobNameContains", "NextToken", "MaxResults"}
        if unknown:
            raise TypeError(f"{spec.list_method}() got unexpected arguments {sorted(unknown)}")
        await self._admit(spec.list_operation, None)
        return list_page(spec, self._jobs.values(), at=_at, now=self._now(), **params)

    async def _admit(self, operation: str, job: tuple[str, str] | None) -> None:
        """Count the request and raise the fault it meets, as the wire would."""
        if not self.credentials:
            raise botocore.exceptions.NoCredentialsError()
        if self._now() < self._outage_until:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=ENDPOINT)
        self._count(operation, job, 0)
        faults = self._faults
        if faults.latency:
            await anyio.sleep(faults.latency)
        else:
            await anyio.lowlevel.checkpoint()
        if operation in faults.denied:
            self._count(operation, job, 2)
            raise client_error(
                operation,
                400,
                "AccessDeniedException",
                f"User is not authorized to perform: transcribe:{operation}",
            )
        quota = faults.quota_for(operation)
        if quota is not None:
            bucket = self._buckets.get(operation)
            if bucket is None:
                bucket = self._buckets[operation] = TokenBucket(quota, self._now())
            if not bucket.take(self._now()):
                self._count(operation, job, 1)
                raise client_error(
                    operation, 400, faults.throttle_error, "Rate exceeded", faults.retry_after
                )
        roll = self._random.random()
        if roll < faults.drop_rate:
            self._count(operation, job, 3)
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=ENDPOINT)
        if roll < faults.drop_rate + faults.error_rate:
            self._count(operation, job, 2)
            raise client_error(
                operation, 500, "InternalFailureException", "We encountered an internal error."
            )

    def _count(self, operation: str, job: tuple[str, str] | None, index: int) -> None:
        self._by_op[operation][index] += 1
        if job is not None:
            self._by_job[job][index] += 1


def _at(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)
