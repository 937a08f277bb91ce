"""Whether one operation of the service answers: pacing requests while it does not.

One rule, with nothing to guess: an operation is *failing* from a request's fault
(HTTP 5xx, a dropped, refused or timed-out connection, expired credentials) until
the next answer of any kind, throttled and error answers included. While it fails,
its requests go one at a time as probes, each at most ``PROBE_INTERVAL`` after the
last (0.5 s, doubling to 5 s, and never more than the backoff's maximum), instead
of every job's retries at once; the first
answer reopens it. A probe that fails too confirms the spell: one warning, counted
as an outage; its end is said once more, and every job whose last read met a fault
is read again at once (the ``on_recovery`` callbacks).

Nothing here ends a job: faults only slow its reads. Operations are watched apart,
so Gets failing while Lists answer (or the reverse) is paced as it is; one
:class:`Outages` per poller reports them together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

PROBE_INTERVAL = (0.5, 5.0)  # first and longest wait between two probes while failing


@dataclass(frozen=True, slots=True)
class ServiceHealth:
    """Whether the service answers, as a poller sees it (see :meth:`Poller.health`).

    ``down`` is True while some operation's requests all fail (a probe failed too,
    with no answer since); ``down_since`` is the clock reading (``anyio.current_time()``)
    when that began and ``last_error`` what the last failed request met. ``outages``
    counts such spells so far and ``outage_seconds`` their total length. Faults never
    end a job: a service can expose this (a health endpoint, say) while jobs wait.
    """

    down: bool = False
    down_since: float | None = None
    last_error: str | None = None
    outages: int = 0
    outage_seconds: float = 0.0


class Outages:
    """The service's outages as one poller reports them, from every operation's health.

    An outage begins when the first operation is confirmed down and ends when none
    is: one warning at each end, however many operations it took. An operation
    nobody has probed for ``STALE_AFTER`` (two of the longest probe intervals: it
    is not in use, the sweep gave way, say) no longer counts once another answers.
    """

    STALE_AFTER = 2 * PROBE_INTERVAL[1]

    def __init__(self, endpoint: str, log: Any, *, quiet: Callable[[], bool]) -> None:
        self.endpoint = endpoint
        self.outages = 0
        self._quiet = quiet  # True while someone else speaks (nothing ever answered)
        self.last_error: str | None = None
        self._down: dict[Health, None] = {}
        self._since: float | None = None
        self._seconds = 0.0  # of outages that ended
        self._said = False  # the outage under way was announced
        self._log = log

    @property
    def any_down(self) -> bool:
        return bool(self._down)

    def health(self, now: float) -> ServiceHealth:
        current = 0.0 if self._since is None else now - self._since
        return ServiceHealth(
            down=self._since is not None,
            down_since=self._since,
            last_error=self.last_error,
            outages=self.outages,
            outage_seconds=self._seconds + current,
        )

    def went_down(self, health: Health, error: str) -> None:
        self.last_error = error
        began = not self._down
        self._down[health] = None
        if not began:
            return
        self._since = anyio.current_time()
        self.outages += 1
        self._said = not self._quiet()
        if self._said:
            self._log.warning(
                "the service is failing; probing until it answers (no job ends for it)",
                operation=health.operation,
                endpoint=self.endpoint,
                error=error,
            )

    def answered(self, health: Health) -> None:
        """An answer from ``health``'s operation: it and the stale ones are up."""
        if not self._down:
            return
        self._down.pop(health, None)
        now = anyio.current_time()
        for other in [h for h in self._down if now - h.last_fault > self.STALE_AFTER]:
            del self._down[other]
        if self._down or self._since is None:
            return
        lasted = now - self._since
        self._seconds += lasted
        self._since = None
        if self._said:
            self._log.warning(
                "the service answers again; resuming",
                operation=health.operation,
                endpoint=self.endpoint,
                after=round(lasted, 1),
            )


class Health:
    """One operation's state as every request of one poller sees it; see the module."""

    def __init__(self, operation: str, outages: Outages, *, longest: float = math.inf) -> None:
        self.operation = operation
        # Probes are never further apart than a job's own reads after faults would be.
        first, last = PROBE_INTERVAL
        self._first, self._longest = min(first, longest), min(last, longest)
        self.on_recovery: list[Callable[[], None]] = []
        self.last_fault = -math.inf
        self._outages = outages
        self._failing_since: float | None = None
        self._down = False  # a probe confirmed the spell
        self._probes = 0
        self._next_probe = -math.inf
        self._changed = anyio.Event()

    async def admit(self) -> None:
        """Return when a request may go: at once while answering; one probe at a time
        while failing."""
        while self._failing_since is not None:
            now = anyio.current_time()
            if now >= self._next_probe:
                self._next_probe = now + min(self._longest, self._first * 2**self._probes)
                self._probes += 1
                return
            changed = self._changed
            with anyio.CancelScope(deadline=self._next_probe):
                await changed.wait()

    def answered(self) -> None:
        """A request got an answer of any kind: the operation answers."""
        if self._failing_since is None:
            if self._outages.any_down:
                self._outages.answered(self)  # others may be stale
            return  # the usual case, on every request: nothing more to do
        self._failing_since = None
        self._changed.set()
        self._changed = anyio.Event()
        was_down, self._down = self._down, False
        self._outages.answered(self)
        if was_down:
            for callback in self.on_recovery:
                callback()

    def faulted(self, sent_at: float, error: str) -> None:
        """A request sent at ``sent_at`` met a fault instead of an answer."""
        now = anyio.current_time()
        self.last_fault = now
        self._outages.last_error = error
        if self._failing_since is None:
            self._failing_since = now
            self._probes = 0
            self._next_probe = -math.inf  # the first probe goes at once
            return
        if sent_at < self._failing_since:
            return  # sent before the spell began: not a probe
        self._down = True
        self._outages.went_down(self, error)
