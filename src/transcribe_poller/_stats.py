"""Counters of a running poller and the immutable snapshot it hands out."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from ._download import DownloadCounts
from ._events import Outcome, ReadOnlyDict
from ._health import ServiceHealth
from ._jobs import JobKind

RATE_WINDOW = 5.0  # seconds over which request_rate is measured


@dataclass(frozen=True)
class KindStatistics:
    """Jobs of one kind: how many are pending, and how those that ended ended."""

    pending: int = 0
    outcomes: Mapping[Outcome, int] = field(default_factory=ReadOnlyDict)

    @property
    def finished(self) -> int:
        return sum(self.outcomes.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "outcomes": {outcome.value: n for outcome, n in self.outcomes.items()},
        }

    def __repr__(self) -> str:
        return f"KindStatistics(pending={self.pending}, outcomes={_plain(self.outcomes)})"


@dataclass(frozen=True)
class PollerStatistics:
    """A snapshot of a poller's work so far.

    ``requests`` counts every request (Get and List). ``sweeps`` counts complete
    listings of unfinished jobs, ``list_requests`` and ``list_pages`` what they
    took, ``wrong_hints`` the Gets a hint asked for that found the job still
    running. ``request_rate`` is requests per second over the last few seconds;
    ``rate_limits`` the client-side limit now in force for each operation;
    ``kinds`` the jobs pending and finished per kind of job. ``queue_requests``
    and ``queue_messages`` count the SQS requests and messages of an
    EventBridgeQueue (not part of ``requests``, which are Transcribe's);
    ``output_rereads`` the Gets repeated because a job's output object was
    announced before its status said COMPLETED.
    ``service_down`` is True while every request fails and the poller only probes;
    ``outages`` counts such spells and ``outage_seconds`` their total length.
    ``downloads`` counts the documents :meth:`Poller.fetch_transcript` fetched
    (transcripts, subtitle files, clinical notes), ``download_bytes`` their size,
    ``download_refreshes`` the Gets that renewed an expired URI,
    ``download_failures`` the fetches that raised, ``downloads_active`` those under
    way now.
    """

    requests: int
    throttled: int
    retried_faults: int
    jobs_pending: int
    jobs_finished: int
    outcomes: Mapping[Outcome, int]
    request_rate: float
    rate_limits: Mapping[str, float] = field(default_factory=ReadOnlyDict)
    sweeps: int = 0
    list_requests: int = 0
    list_pages: int = 0
    wrong_hints: int = 0
    kinds: Mapping[JobKind, KindStatistics] = field(default_factory=ReadOnlyDict)
    queue_requests: int = 0
    queue_messages: int = 0
    output_rereads: int = 0
    service_down: bool = False
    outages: int = 0
    outage_seconds: float = 0.0
    downloads: int = 0
    download_bytes: int = 0
    download_refreshes: int = 0
    download_failures: int = 0
    downloads_active: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: enums become their values."""
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "retried_faults": self.retried_faults,
            "jobs_pending": self.jobs_pending,
            "jobs_finished": self.jobs_finished,
            "outcomes": {outcome.value: n for outcome, n in self.outcomes.items()},
            "request_rate": round(self.request_rate, 3),
            "rate_limits": {op: round(rate, 3) for op, rate in self.rate_limits.items()},
            "sweeps": self.sweeps,
            "list_requests": self.list_requests,
            "list_pages": self.list_pages,
            "wrong_hints": self.wrong_hints,
            "kinds": {kind.value: stats.to_dict() for kind, stats in self.kinds.items()},
            "queue_requests": self.queue_requests,
            "queue_messages": self.queue_messages,
            "output_rereads": self.output_rereads,
            "service_down": self.service_down,
            "outages": self.outages,
            "outage_seconds": round(self.outage_seconds, 3),
            "downloads": self.downloads,
            "download_bytes": self.download_bytes,
            "download_refreshes": self.download_refreshes,
            "download_failures": self.download_failures,
            "downloads_active": self.downloads_active,
        }

    def __repr__(self) -> str:
        rates = ", ".join(f"{op}: {rate:.3g}" for op, rate in self.rate_limits.items())
        kinds = ", ".join(f"{kind.value}: {stats!r}" for kind, stats in self.kinds.items())
        return (
            f"PollerStatistics(requests={self.requests}, throttled={self.throttled}, "
            f"retried_faults={self.retried_faults}, jobs_pending={self.jobs_pending}, "
            f"jobs_finished={self.jobs_finished}, outcomes={_plain(self.outcomes)}, "
            f"request_rate={self.request_rate:.3g}, rate_limits={{{rates}}}, "
            f"sweeps={self.sweeps}, list_requests={self.list_requests}, "
            f"list_pages={self.list_pages}, wrong_hints={self.wrong_hints}, kinds={{{kinds}}}, "
            f"queue_requests={self.queue_requests}, queue_messages={self.queue_messages}, "
            f"output_rereads={self.output_rereads}, "
            f"service_down={self.service_down}, outages={self.outages}, "
            f"outage_seconds={self.outage_seconds:.3g}, downloads={self.downloads}, "
            f"download_bytes={self.download_bytes}, "
            f"download_refreshes={self.download_refreshes}, "
            f"download_failures={self.download_failures}, "
            f"downloads_active={self.downloads_active})"
        )


def _plain(outcomes: Mapping[Outcome, int]) -> str:
    return "{" + ", ".join(f"{o.value}: {n}" for o, n in outcomes.items() if n) + "}"


class RequestCounts:
    """What the Sender counts of the requests it sends; written by it alone."""

    def __init__(self) -> None:
        self.requests = 0
        self.throttled = 0
        self._sends: collections.deque[float] = collections.deque()

    def sent(self, now: float) -> None:
        """A request went at ``now`` (the rate limiter's time for it)."""
        self.requests += 1
        sends = self._sends
        sends.append(now)
        # Trim as we go so the deque holds at most one window of sends.
        if sends[0] < now - RATE_WINDOW:
            self._trim(now)

    def request_rate(self) -> float:
        self._trim(anyio.current_time())
        return len(self._sends) / RATE_WINDOW

    def _trim(self, now: float) -> None:
        oldest = now - RATE_WINDOW
        while self._sends and self._sends[0] < oldest:
            self._sends.popleft()


@dataclass(slots=True)
class SweepCounts:
    """What one sweeper counts; written by it alone."""

    sweeps: int = 0
    list_requests: int = 0
    list_pages: int = 0
    retried_faults: int = 0


@dataclass(slots=True)
class KindCounts:
    """What one kind's scheduler counts of its jobs; written by it alone."""

    outcomes: collections.Counter[Outcome] = field(default_factory=collections.Counter)
    retried_faults: int = 0
    wrong_hints: int = 0
    output_rereads: int = 0


def compose(
    requests: RequestCounts,
    kinds: Mapping[JobKind, tuple[int, KindCounts]],
    sweeps: list[SweepCounts],
    rate_limits: Mapping[str, float],
    queue: tuple[int, int],
    health: ServiceHealth,
    downloads: DownloadCounts | None = None,
) -> PollerStatistics:
    """The poller's statistics from each component's own counts, frozen: ``kinds``
    maps each kind to its pending jobs and its scheduler's counts."""
    outcomes = ReadOnlyDict(
        {o: sum(counts.outcomes[o] for _, counts in kinds.values()) for o in Outcome}
    )
    per_kind = ReadOnlyDict(
        {
            kind: KindStatistics(
                pending=kinds[kind][0] if kind in kinds else 0,
                outcomes=ReadOnlyDict(
                    {o: kinds[kind][1].outcomes[o] if kind in kinds else 0 for o in Outcome}
                ),
            )
            for kind in JobKind
        }
    )
    return PollerStatistics(
        requests=requests.requests,
        throttled=requests.throttled,
        retried_faults=sum(c.retried_faults for _, c in kinds.values())
        + sum(s.retried_faults for s in sweeps),
        jobs_pending=sum(pending for pending, _ in kinds.values()),
        jobs_finished=sum(outcomes.values()),
        outcomes=outcomes,
        request_rate=requests.request_rate(),
        rate_limits=ReadOnlyDict(rate_limits),
        sweeps=sum(s.sweeps for s in sweeps),
        list_requests=sum(s.list_requests for s in sweeps),
        list_pages=sum(s.list_pages for s in sweeps),
        wrong_hints=sum(c.wrong_hints for _, c in kinds.values()),
        kinds=per_kind,
        queue_requests=queue[0],
        queue_messages=queue[1],
        output_rereads=sum(c.output_rereads for _, c in kinds.values()),
        service_down=health.down,
        outages=health.outages,
        outage_seconds=health.outage_seconds,
        downloads=0 if downloads is None else downloads.documents,
        download_bytes=0 if downloads is None else downloads.bytes,
        download_refreshes=0 if downloads is None else downloads.refreshes,
        download_failures=0 if downloads is None else downloads.failures,
        downloads_active=0 if downloads is None else downloads.active,
    )
