"""The contract both test doubles keep: scripting, the service's operations, faults, events.

:class:`TranscribeDouble` is what a test may ask of FakeTranscribe and
LocalTranscribe alike. Its methods only name the contract; what each must *do* is
checked, against both doubles through one parametrised fixture, by the
conformance suite (``tests/test_contract.py``): Get, List (paging, filters,
order), Start, the concurrency cap, faults, events and output objects, and the
same errors for the same mistakes.

:class:`ScriptingMixin` implements the part that is the same for both once
(``start_job``, ``script``, ``scripts``, ``set_faults``, ``concurrency``), so the
fields of a job script (:class:`JobSpec`) and the faults (:class:`FaultOptions`)
are declared in one place each. Each double supplies where a script goes and
where the faults go.

One behaviour for a name in use, as on the service: the Start operations answer
botocore's ``ClientError`` with code ConflictException (HTTP 400) on both doubles;
``start_job``, a scripting helper, raises :class:`NameInUseError`, a ValueError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._jobs import JobKind
from ._account import Account
from ._faults import FaultOptions, Faults, TrafficReport, make_faults
from ._script import JobSpec, ScriptedJob

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._eventwire import EventOptions


class NameInUseError(ValueError):
    """``start_job`` was given a name its kind holds already (the Start operations
    answer ConflictException instead, as the service does)."""


@runtime_checkable
class TranscribeDouble(Protocol):
    """What a test can ask of either test double, with the same behaviour on both."""

    region: str

    def now(self) -> float:
        """A reading of the clock the double's jobs follow (a ScriptedJob's times)."""
        ...

    def start_job(
        self,
        name: str,
        *,
        kind: JobKind | str = ...,
        duration: float = ...,
        queued_for: float | None = ...,
        fail_with: str | None = ...,
        redaction: str | None = ...,
        subtitles: Iterable[str] = ...,
        content_identification: bool = ...,
        output_bucket: str | None = ...,
        transcript: str | None = ...,
        speakers: int = ...,
        channels: int = ...,
    ) -> ScriptedJob: ...

    def script(self, name: str, kind: JobKind | str = ...) -> ScriptedJob: ...

    @property
    def scripts(self) -> Mapping[tuple[JobKind, str], ScriptedJob]: ...

    def client(
        self, *, retry_mode: str | None = ..., max_attempts: int | None = ..., **config: Any
    ) -> AbstractAsyncContextManager[Any]:
        """A Transcribe client of this double (the Get, List and Start operations)."""
        ...

    def set_faults(self, **options: Unpack[FaultOptions]) -> Faults: ...

    @property
    def faults(self) -> Faults: ...

    @property
    def concurrency(self) -> Mapping[JobKind, int | None]: ...

    def outage(self, seconds: float) -> None: ...

    def traffic(self) -> TrafficReport: ...

    def reset_traffic(self) -> None: ...

    def reset(self) -> None: ...

    def enable_events(self, **options: Unpack[EventOptions]) -> str:
        """Deliver job state events to a queue from now on; return the queue's URL
        (``events_queue_url`` too, on both doubles)."""
        ...

    def sqs_client(self, **config: Any) -> AbstractAsyncContextManager[Any]:
        """An SQS client that reads the events queue."""
        ...

    def s3_client(self, **config: Any) -> AbstractAsyncContextManager[Any]:
        """An S3 client that reads what jobs wrote to the caller's buckets."""
        ...


class ScriptingMixin:
    """``start_job``, ``script``, ``scripts``, ``set_faults`` and ``concurrency``, once."""

    _account: Account

    def _start_script(self, spec: JobSpec) -> ScriptedJob:
        """Start the job ``spec`` declares, now; the double's own part. Raises
        KeyError (from :meth:`Account.add`) when the kind holds the name already."""
        raise NotImplementedError

    def _install_faults(self, faults: Faults) -> None:
        """Inject ``faults`` from now on; the double's own part."""
        raise NotImplementedError

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
        transcript: str | None = None,
        speakers: int = 0,
        channels: int = 0,
    ) -> ScriptedJob:
        """Start a job whose status follows the double's clock, and return its script.

        QUEUED for ``queued_for`` seconds (a quarter of ``duration`` by default), then
        IN_PROGRESS, then COMPLETED ``duration`` seconds after the start, or FAILED
        with ``fail_with`` as the FailureReason. ``redaction`` is ``"redacted"``
        (only RedactedTranscriptFileUri) or ``"redacted_and_unredacted"`` (both);
        ``subtitles`` lists formats (``"vtt"``, ``"srt"``). Medical jobs can report
        ``content_identification`` (ContentIdentificationType PHI). Without
        ``output_bucket`` the URIs of standard and Call Analytics jobs are presigned
        service-bucket URIs whose query string stands in for a credential; medical
        and Medical Scribe output always goes to a bucket. ``kind`` is any
        :class:`JobKind`.

        ``transcript`` is what the recording says (by default "This is the transcript
        of job NAME."; runs of whitespace become one space): the job's output
        documents, in its kind's shape, hold it, timed word by word, with
        ``speakers`` speaker labels (2 to 30) or 2 ``channels`` for a standard or
        medical job (one sentence each in turn); Call Analytics turns alternate
        AGENT and CUSTOMER, Medical Scribe segments clinician and patient. A
        redacted transcript has ``[PII]`` for each word holding a digit. Both
        doubles serve the documents: see ``Poller.fetch_transcript``.

        Raises ValueError naming a bad field, and
        :class:`NameInUseError` (a ValueError) when the kind holds a job of that
        name already (a Start operation answers ConflictException instead).

        The account's concurrency cap applies (see ``concurrency``): a job started
        while its kind runs as many jobs as the cap allows reads QUEUED, first in,
        first out, until a running job of its kind ends, and its script runs from
        then. With the default caps and fewer jobs than that, it starts at once.
        Scripted jobs always queue (as with job queueing turned on) and the
        service's limit of queued jobs does not apply to them.
        """
        spec = JobSpec(
            name,
            kind=kind,
            duration=duration,
            queued_for=queued_for,
            fail_with=fail_with,
            redaction=redaction,
            subtitles=subtitles,
            content_identification=content_identification,
            output_bucket=output_bucket,
            transcript=transcript,
            speakers=speakers,
            channels=channels,
        )
        try:
            return self._start_script(spec)
        except KeyError as error:
            raise NameInUseError(f"name: {error.args[0]}") from None

    def script(self, name: str, kind: JobKind | str = JobKind.STANDARD) -> ScriptedJob:
        """The script (and ground truth) of a job, started by :meth:`start_job` or by
        a Start operation. Raises KeyError when there is none."""
        try:
            script = self._account.get(JobKind(kind), name)
        except ValueError:
            script = None
        if script is None:
            raise KeyError(f"no scripted {kind} job named {name!r}")
        return script

    @property
    def scripts(self) -> Mapping[tuple[JobKind, str], ScriptedJob]:
        """Every job's script by ``(kind, name)``, read-only."""
        return MappingProxyType(self._account.jobs)

    @property
    def concurrency(self) -> Mapping[JobKind, int | None]:
        """Each kind's cap of jobs running at once (None: no cap)."""
        return self._account.caps

    def set_faults(self, **options: Unpack[FaultOptions]) -> Faults:
        """Replace the injected faults; with no arguments, inject none.

        The options are :class:`FaultOptions`: ``quota`` (requests per second, for
        every operation or per operation name), ``burst``, ``denied`` (operations
        answered AccessDeniedException), ``throttle_error``, ``retry_after``, and
        the shares of requests within the quota that fail (``error_rate``: HTTP 500
        InternalFailureException), lose their connection (``drop_rate``) or are
        never answered (``hang_rate``); ``latency`` seconds are added to each. A bad
        value raises ValueError naming it and leaves the faults as they were.
        """
        faults = make_faults(**options)
        self._install_faults(faults)
        return faults


__all__ = ["NameInUseError", "ScriptingMixin", "TranscribeDouble"]
