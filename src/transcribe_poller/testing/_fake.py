"""FakeTranscribe: an in-memory Transcribe client for fast unit tests.

No moto, no sockets, no botocore request machinery: the Get and List operations
answer from memory, with the shapes and the errors of the real service (errors are
botocore's own ``ClientError`` and connection exceptions, so the poller sorts them
exactly as it would on the wire). Jobs follow the event loop's clock
(``anyio.current_time()``), so under a virtual clock (trio's ``MockClock``, or
``looptime`` on asyncio) a test of a ten-minute job takes milliseconds.
"""

from __future__ import annotations

import base64
import collections
import json
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
from ._faults import Counts, Faults, TokenBucket, TrafficReport, make_faults
from ._script import ScriptedJob, make_script, output_fields

ENDPOINT = "memory://fake-transcribe"
ACCOUNT_ID = "123456789012"
NOT_FOUND_MESSAGE = (
    "The requested job couldn't be found. Check the job name and try your request again."
)
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
        if output_bucket is None and str(kind) == JobKind.MEDICAL.value:
            output_bucket = "local-medical-output"  # medical output always goes to a bucket
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

    async def list_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.STANDARD], **params)

    async def list_medical_transcription_jobs(self, **params: Any) -> dict[str, Any]:
        return await self._list(KINDS[JobKind.MEDICAL], **params)

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
            raise _client_error(spec.get_operation, 400, "BadRequestException", NOT_FOUND_MESSAGE)
        now = self._now()
        status = script.status_at(now)
        if status in ("COMPLETED", "FAILED") and script.first_terminal_read_at is None:
            script.first_terminal_read_at = now
        return {spec.job_field: self._describe(spec, script, status)}

    def _describe(self, spec: KindSpec, script: ScriptedJob, status: str) -> dict[str, Any]:
        job: dict[str, Any] = {
            spec.name_field: script.name,
            spec.status_field: status,
            "LanguageCode": "en-US",
            "MediaFormat": "wav",
            "Media": {"MediaFileUri": f"s3://local-media/{script.name}.wav"},
            "CreationTime": _at(script.started_at),
            "OutputLocationType": "CUSTOMER_BUCKET" if script.output_bucket else "SERVICE_BUCKET",
        }
        if script.redaction:
            job["ContentRedaction"] = {"RedactionType": "PII", "RedactionOutput": script.redaction}
        if script.content_identification:
            job["ContentIdentificationType"] = "PHI"
        if status != "QUEUED":
            job["StartTime"] = _at(script.started_at + script.queued_for)
        if status in ("COMPLETED", "FAILED"):
            job["CompletionTime"] = _at(script.terminal_at)
        if status == "FAILED":
            job["FailureReason"] = script.failure_reason
        elif status == "COMPLETED":
            job.update(output_fields(script, self.region, ACCOUNT_ID))
        return job

    async def _list(
        self,
        spec: KindSpec,
        *,
        Status: str | None = None,
        JobNameContains: str | None = None,
        NextToken: str | None = None,
        MaxResults: int = 100,
    ) -> dict[str, Any]:
        await self._admit(spec.list_operation, None)
        now = self._now()
        contains = JobNameContains.lower() if JobNameContains else None
        # Newest first, as the service lists; the token is the last key returned, so
        # jobs that change status between pages do not shift the others.
        rows = sorted(
            (
                ((-script.started_at, script.name), script, script.status_at(now))
                for (kind, _), script in self._jobs.items()
                if kind is spec.kind
            ),
            key=lambda row: row[0],
        )
        after = _decode(NextToken) if NextToken else None
        page: list[dict[str, Any]] = []
        more = False
        for key, script, status in rows:
            if Status is not None and status != Status:
                continue
            if contains is not None and contains not in script.name.lower():
                continue
            if after is not None and key <= after:
                continue
            if len(page) == MaxResults:
                more = True
                break
            page.append(
                {
                    spec.name_field: script.name,
                    spec.status_field: status,
                    "CreationTime": _at(script.started_at),
                    "LanguageCode": "en-US",
                }
            )
            last = key
        answer: dict[str, Any] = {spec.summaries_field: page}
        if Status is not None:
            answer["Status"] = Status
        if more:
            answer["NextToken"] = _encode(last)
        return answer

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
            raise _client_error(
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
                raise _client_error(
                    operation, 400, faults.throttle_error, "Rate exceeded", faults.retry_after
                )
        roll = self._random.random()
        if roll < faults.drop_rate:
            self._count(operation, job, 3)
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=ENDPOINT)
        if roll < faults.drop_rate + faults.error_rate:
            self._count(operation, job, 2)
            raise _client_error(
                operation, 500, "InternalFailureException", "We encountered an internal error."
            )

    def _count(self, operation: str, job: tuple[str, str] | None, index: int) -> None:
        self._by_op[operation][index] += 1
        if job is not None:
            self._by_job[job][index] += 1


def _client_error(
    operation: str, status: int, code: str, message: str, retry_after: float | None = None
) -> botocore.exceptions.ClientError:
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return botocore.exceptions.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "RequestId": "fake-request",
                "HostId": "",
                "HTTPStatusCode": status,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
            },
        },
        operation,
    )


def _at(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _encode(key: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(token: str) -> tuple[float, str]:
    try:
        started, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(started), str(name)
    except (ValueError, TypeError) as error:
        raise _client_error("List", 400, "BadRequestException", "Invalid NextToken") from error
