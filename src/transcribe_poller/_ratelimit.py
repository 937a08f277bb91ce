"""A client-side request rate shared by every job that calls one operation.

Pacing is decided at the moment each request goes out, never booked in advance, so a
cut after a throttled answer applies at once to every request already waiting. On
throttling the rate is multiplied by ``decrease`` (at most once per round trip: an
answer to a request sent before the last cut does not cut again) from the lower of
the limit and the rate really sent over the last two seconds, and it climbs back
linearly with time, reaching ``max_rate`` from half of it within ``recovery``
seconds. A ``Retry-After`` hint pauses all requests until it has passed.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable

import anyio

MAX_RETRY_AFTER = 60.0  # never let one answer stall everything for longer
SENT_WINDOW = 2.0  # seconds over which the rate really sent is measured


class RateLimiter:
    def __init__(
        self,
        max_rate: float,
        *,
        min_rate: float | None = None,
        decrease: float = 0.7,
        recovery: float = 5.0,
        clock: Callable[[], float] = anyio.current_time,
    ) -> None:
        if not (math.isfinite(max_rate) and max_rate > 0):
            raise ValueError(f"max_rate must be a positive number of requests/s, got {max_rate!r}")
        self.max_rate = float(max_rate)
        # The floor a run of cuts stops at: 1/50 of the limit, at least 0.2/s, but always
        # under the limit itself, so that a limit below 0.2/s is honoured after a cut.
        floor = min(max(0.2, self.max_rate / 50), self.max_rate / 4)
        self.min_rate = min(float(min_rate), self.max_rate) if min_rate is not None else floor
        self.decrease = decrease
        # Linear climb: from max_rate / 2 back to max_rate in `recovery` seconds.
        self.increase_per_second = self.max_rate / 2 / recovery
        self._clock = clock
        self._rate = self.max_rate
        self._updated = clock()
        self._last_send = -math.inf
        self._last_cut = -math.inf
        self._paused_until = -math.inf
        self._lock = anyio.Lock()
        self._changed = anyio.Event()
        self._sends: collections.deque[float] = collections.deque()
        self._first_send = math.inf

    @property
    def rate(self) -> float:
        """The rate in force now, in requests per second."""
        self._recover()
        return self._rate

    def _recover(self) -> None:
        if self._rate >= self.max_rate:
            return  # the usual case, read on every request: no clock needed
        now = self._clock()
        self._rate = min(
            self.max_rate, self._rate + (now - self._updated) * self.increase_per_second
        )
        self._updated = now

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _due(self) -> tuple[float, float]:
        """When the next request may go, and the interval in force."""
        interval = 1.0 / self.rate
        return max(self._last_send + interval, self._paused_until), interval

    def _sent_rate(self, now: float) -> float | None:
        """Requests per second sent over the last ``SENT_WINDOW`` seconds (or since
        the first, if sooner, but over at least half a second); None before any."""
        if self._first_send == math.inf:
            return None
        self._forget_sends_before(now - SENT_WINDOW)
        return len(self._sends) / max(0.5, min(SENT_WINDOW, now - self._first_send))

    def _forget_sends_before(self, oldest: float) -> None:
        sends = self._sends
        while sends and sends[0] < oldest:
            sends.popleft()

    def _take_if_due(self) -> float | None:
        now = self._clock()
        due, interval = self._due()
        if now < due:
            return None
        self._sends.append(now)
        if self._first_send == math.inf:
            self._first_send = now
        # Trimmed by age as it goes: it holds one window of sends, whatever the rate.
        self._forget_sends_before(now - SENT_WINDOW)
        # Keep the cadence after a slightly late wake-up, but an idle spell earns no
        # burst beyond one request.
        self._last_send = now if now - due > interval else max(due, self._last_send)
        return now

    async def acquire(self) -> float:
        """Wait for this caller's turn (first come, first served); return the send time."""
        if not self._lock.locked():
            # Nobody queues: take the turn at once if it is due, without the lock.
            sent_at = self._take_if_due()
            if sent_at is not None:
                return sent_at
        async with self._lock:
            while True:
                sent_at = self._take_if_due()
                if sent_at is not None:
                    return sent_at
                due, _ = self._due()
                # Sleep until due, or until a cut or a pause changes when that is.
                with anyio.move_on_after(due - self._clock()):
                    await self._changed.wait()

    def on_throttle(self, sent_at: float, retry_after: float | None = None) -> bool:
        """Record a throttled answer to a request sent at ``sent_at``; True if it cut."""
        now = self._clock()
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, now + min(retry_after, MAX_RETRY_AFTER))
        if sent_at < self._last_cut:
            # Sent before the last cut took effect: already accounted for.
            if retry_after:
                self._wake()
            return False
        self._recover()
        # Cut from what was really sent, when that is below the limit: a process
        # sending 8/s into a quota shared with others must slow below 8/s, and a cut
        # from its 25/s limit would change nothing for several round trips.
        sent = self._sent_rate(now)
        self._rate = max(self.min_rate, min(self._rate, sent or self._rate) * self.decrease)
        self._updated = now  # the climb back starts from this cut
        self._last_cut = now
        self._wake()
        return True
