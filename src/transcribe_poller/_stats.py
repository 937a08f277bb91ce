"""Counters of a running poller and the immutable snapshot it hands out."""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._events import Outcome

RATE_WINDOW = 5.0  # seconds over which request_rate is measured


@dataclass(frozen=True)
class PollerStatistics:
    """A snapshot of a poller's work so far.

    ``requests`` counts every request (Get and List). ``sweeps`` counts complete
    listings of unfinished jobs, ``list_requests`` and ``list_pages`` what they
    took, ``wrong_hints`` the Gets a sweep asked for that found the job still
    running. ``request_rate`` is requests per second over the last few seconds;
    ``rate_limits`` the client-side limit now in force for each operation.
    """

    requests: int
    throttled: int
    retried_faults: int
    jobs_pending: int
    jobs_finished: int
    outcomes: Mapping[Outcome, int]
    request_rate: float
    rate_limits: Mapping[str, float] = field(default_factory=dict)
    sweeps: int = 0
    list_requests: int = 0
    list_pages: int = 0
    wrong_hints: int = 0


class Counters:
    def __init__(self) -> None:
        self.requests = 0
        self.throttled = 0
        self.retried_faults = 0
        self.sweeps = 0
        self.list_requests = 0
        self.list_pages = 0
        self.wrong_hints = 0
        self.outcomes: collections.Counter[Outcome] = collections.Counter()
        self._sends: collections.deque[float] = collections.deque()

    def sent(self) -> None:
        self.requests += 1
        self._sends.append(time.monotonic())
        # Trim as we go so the deque holds at most one window of sends.
        self._trim()

    def request_rate(self) -> float:
        self._trim()
        return len(self._sends) / RATE_WINDOW

    def _trim(self) -> None:
        oldest = time.monotonic() - RATE_WINDOW
        while self._sends and self._sends[0] < oldest:
            self._sends.popleft()

    def snapshot(self, pending: int, rate_limits: Mapping[str, float]) -> PollerStatistics:
        return PollerStatistics(
            requests=self.requests,
            throttled=self.throttled,
            retried_faults=self.retried_faults,
            jobs_pending=pending,
            jobs_finished=sum(self.outcomes.values()),
            outcomes=MappingProxyType({o: self.outcomes[o] for o in Outcome}),
            request_rate=self.request_rate(),
            rate_limits=MappingProxyType(dict(rate_limits)),
            sweeps=self.sweeps,
            list_requests=self.list_requests,
            list_pages=self.list_pages,
            wrong_hints=self.wrong_hints,
        )
