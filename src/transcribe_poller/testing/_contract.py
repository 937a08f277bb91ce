"""The contract both test doubles keep: scripting jobs, injecting faults, counting.

:class:`TranscribeDouble` is the Protocol FakeTranscribe and LocalTranscribe both
satisfy; :class:`ScriptingMixin` implements the part of it that is the same for
both once (``start_job``, ``script``, ``set_faults``, ``concurrency``), so the
fields of a job script (:class:`JobSpec`) and of the faults (:class:`Faults`) are
declared in one place. Each double supplies where a script goes and where the
faults go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from .._jobs import JobKind
from ._account import Account
from ._faults import Faults, TrafficReport, make_faults
from ._script import JobSpec, ScriptedJob


@runtime_checkable
class TranscribeDouble(Protocol):
    """What a test can ask of either test double."""

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
    ) -> ScriptedJob: ...

    def script(self, name: str, kind: JobKind | str = ...) -> ScriptedJob: ...

    def set_faults(
        self,
        *,
        quota: float | Mapping[str, float | tuple[float, float]] | None = ...,
        burst: float | None = ...,
        denied: Iterable[str] = ...,
        throttle_error: str = ...,
        retry_after: float | None = ...,
        error_rate: float = ...,
        drop_rate: float = ...,
        latency: float = ...,
        seed: int | None = ...,
        hang_rate: float = ...,
    ) -> Faults: ...

    @property
    def faults(self) -> Faults: ...

    @property
    def concurrency(self) -> Mapping[JobKind, int | None]: ...

    def outage(self, seconds: float) -> None: ...

    def traffic(self) -> TrafficReport: ...

    def reset_traffic(self) -> None: ...

    def reset(self) -> None: ...


class ScriptingMixin:
    """``start_job``, ``script``, ``set_faults`` and ``concurrency``, written once."""

    _account: Account

    def _start_script(self, spec: JobSpec) -> ScriptedJob:
        """Start the job ``spec`` declares, now; the double's own part."""
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
        :class:`JobKind`. Raises ValueError naming a bad field.

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
        )
        return self._start_script(spec)

    def script(self, name: str, kind: JobKind | str = JobKind.STANDARD) -> ScriptedJob:
        """The script (and ground truth) of a job started with :meth:`start_job`."""
        try:
            script = self._account.get(JobKind(kind), name)
        except ValueError:
            script = None
        if script is None:
            raise KeyError(f"no scripted {kind} job named {name!r}")
        return script

    @property
    def concurrency(self) -> Mapping[JobKind, int | None]:
        """Each kind's cap of jobs running at once (None: no cap)."""
        return self._account.caps

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
        hang_rate: float = 0.0,
    ) -> Faults:
        """Replace the injected faults; with no arguments, inject none.

        ``quota`` is a rate in requests per second given to every operation
        separately, or a mapping of operation name to a rate or ``(rate, burst)``.
        ``burst`` defaults to one second's worth of requests. ``denied`` names
        operations answered with AccessDeniedException. Of the requests within the
        quota, ``error_rate`` get HTTP 500 InternalFailureException, ``drop_rate``
        lose their connection without an answer, and ``hang_rate`` are accepted and
        never answered. See :class:`Faults`.
        """
        faults = make_faults(
            quota=quota,
            burst=burst,
            denied=denied,
            throttle_error=throttle_error,
            retry_after=retry_after,
            error_rate=error_rate,
            drop_rate=drop_rate,
            latency=latency,
            seed=seed,
            hang_rate=hang_rate,
        )
        self._install_faults(faults)
        return faults


__all__ = ["ScriptingMixin", "TranscribeDouble"]
