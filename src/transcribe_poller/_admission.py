"""Admission of new jobs of one kind: how many may run at once, and the Start quota.

One per kind, owned by the Poller and shared by every submission, so two batches
in one process never overrun the account's cap together. The rule:

* a Start needs a slot: fewer of this poller's jobs of the kind running than the
  ``capacity``, which is the configured limit (AWS's default) until the account
  refuses a Start;
* a Start refused with ``LimitExceededException`` (the account's cap is reached:
  other processes use it too, or the Start quota was exceeded) gives its slot back
  and sets the capacity to the jobs running now (at least one); every Start that
  succeeds raises it by one again, up to the limit. So the capacity follows the
  slots the account really has, without a guess;
* a slot frees the moment the poller learns that one of the kind's jobs ended;
* a request asking for job queueing (deferred execution) takes no slot: the
  service queues it;
* Starts go through the kind's own rate limiter (the Start quota), which nothing
  else the poller sends shares.
"""

from __future__ import annotations

import anyio

from ._ratelimit import RateLimiter


class Admission:
    """Slots and the Start limiter of one kind; see the module."""

    def __init__(self, limit: int, start_rate: float) -> None:
        self.limit = limit
        self.capacity = limit
        self.running = 0  # jobs this poller started (or adopted) that have not ended
        self.limiter = RateLimiter(start_rate)
        self._changed = anyio.Event()

    async def take(self) -> None:
        """Wait for a slot and take it."""
        while self.running >= self.capacity:
            await self._wait_change()
        self.running += 1

    def release(self) -> None:
        """A job holding a slot ended (or its Start failed for good)."""
        self.running -= 1
        self._notify()

    def refused(self) -> None:
        """The account refused a Start over its cap: give the slot back, and run no
        more than are running now until Starts succeed again."""
        self.running -= 1
        self.capacity = max(1, self.running)
        self._notify()

    def started(self) -> None:
        """A Start succeeded: the account had a slot, so try one more next time."""
        if self.capacity < self.limit:
            self.capacity += 1
            self._notify()

    async def wait_change(self, longest: float) -> None:
        """Until a slot frees (or the capacity grows), at most ``longest`` seconds."""
        with anyio.move_on_after(longest):
            await self._wait_change()

    async def _wait_change(self) -> None:
        await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
