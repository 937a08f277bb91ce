"""Whether the service as a whole answers: faults of everyone are nobody's fault.

A job's fault budget (``max_faults``) is for faults of that job. When requests fail
for every job at once (connections refused, HTTP 5xx on everything), spending each
job's budget on them would end jobs that are fine at AWS. So the poller watches all
its requests together: after ``OUTAGE_FAULTS`` service faults in a row, with no
answer between them and from more than one job (or connections refused, which are
never about one job), the service is *down*. While down, requests wait at
:meth:`Health.admit`, which lets one through at a time as a probe, every
``PROBE_INTERVAL`` seconds at most; service faults meanwhile spend no job's budget.
The first answer of any kind (even throttled or not found) means the service is up
again, and every waiting request goes at once, paced by the rate limits.

Timeouts are not counted here: a request that hangs is a fault of its job (a
black-holed connection to one host, a job whose Get the service cannot serve),
and the poller's own request deadline bounds it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import anyio

OUTAGE_FAULTS = 5  # service faults in a row, with no answer between, before "down"
PROBE_INTERVAL = (0.5, 5.0)  # first and longest wait between two probes while down


class Health:
    """The service's state as every request of one poller sees it; see the module."""

    def __init__(self, endpoint: str, log: Any) -> None:
        self.endpoint = endpoint
        self.down_since: float | None = None
        self.outages = 0
        self._outage_seconds = 0.0  # of outages that ended
        self._faults = 0  # service faults since the last answer
        self._targets: set[Hashable] = set()
        self._refused = True  # every fault since the last answer was a refused connection
        self._probes = 0
        self._next_probe = -math.inf
        self._changed = anyio.Event()
        self._log = log

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def outage_seconds(self, now: float) -> float:
        """Seconds spent down so far, the current outage included."""
        current = 0.0 if self.down_since is None else now - self.down_since
        return self._outage_seconds + current

    async def admit(self) -> None:
        """Return when a request may go: at once while up; one probe at a time while down."""
        while self.down_since is not None:
            now = anyio.current_time()
            if now >= self._next_probe:
                first, longest = PROBE_INTERVAL
                self._next_probe = now + min(longest, first * 2**self._probes)
                self._probes += 1
                return
            changed = self._changed
            with anyio.CancelScope(deadline=self._next_probe):
                await changed.wait()

    def answered(self) -> None:
        """A request got an answer: the service is up."""
        self._faults = 0
        self._targets.clear()
        self._refused = True
        if self.down_since is not None:
            now = anyio.current_time()
            lasted = now - self.down_since
            self._outage_seconds += lasted
            self.down_since = None
            self._log.info(
                "the service answers again; resuming",
                endpoint=self.endpoint,
                after=round(lasted, 1),
            )
            self._changed.set()
            self._changed = anyio.Event()

    def faulted(self, target: Hashable, *, refused: bool, error: str) -> bool:
        """A request met a service fault; True when the fault is the service's (it is
        down), not its job's."""
        if self.down_since is not None:
            return True
        self._faults += 1
        self._targets.add(target)
        self._refused = self._refused and refused
        if self._faults < OUTAGE_FAULTS or (len(self._targets) < 2 and not self._refused):
            return False
        self.down_since = anyio.current_time()
        self.outages += 1
        self._probes = 0
        self._next_probe = -math.inf
        self._log.warning(
            "the service is failing every request; pausing and probing until it answers",
            endpoint=self.endpoint,
            error=error,
        )
        return True
