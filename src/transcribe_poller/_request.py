"""Sending one request: pacing, counting, sorting the answer, noticing a dead endpoint.

Every Get and every List goes through :meth:`Sender.send`, so throttling always
cuts the rate of the operation it hit, every request is counted once, and a
service that cannot be reached at all is noticed by one party for the whole poller.
What to do next (retry when, give up after how many) is the caller's to decide.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from ._classify import Verdict, classify, describe, is_connection_failure, is_missing_credentials
from ._exceptions import ServiceUnreachableError
from ._ratelimit import RateLimiter
from ._stats import Counters

DEFAULT_UNREACHABLE_AFTER = 15.0


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer, or the verdict on the error that came instead."""

    answer: Mapping[str, Any] | None
    verdict: Verdict | None = None  # None when answered
    error: Exception | None = None
    # False for a failed connection before the service was ever reached: the
    # reachability check, not each job's fault budget, decides about those.
    fault: bool = True


class Reachability:
    """Whether the service was ever reached, and whether to give up on it.

    Until a first request succeeds, failed connections for ``give_up_after`` seconds
    from the first one (or missing credentials, at once) mean nothing will succeed:
    :meth:`wait_unreachable` then returns, once, the error every job should end
    with. After one success, failed connections are ordinary faults.
    """

    def __init__(self, endpoint: str, give_up_after: float, log: Any) -> None:
        self.endpoint = endpoint
        self.give_up_after = give_up_after
        self.reached = False
        self.unreachable: ServiceUnreachableError | None = None
        self._failing = anyio.Event()  # set at the first failure that may mean "never"
        self._first_failure = math.inf
        self._last_error: Exception | None = None
        self._log = log

    def succeeded(self) -> None:
        self.reached = True

    def failed(self, error: Exception) -> Reply | None:
        """The reply for a failure the reachability check owns, else None."""
        if self.unreachable is not None and not self.reached:
            return Reply(None, Verdict.FATAL, self.unreachable)
        if self.reached:
            return None
        if is_missing_credentials(error):
            unreachable = self._declare(error, describe(error))
            return Reply(None, Verdict.FATAL, unreachable)
        if not is_connection_failure(error):
            return None
        self._last_error = error
        if not self._failing.is_set():
            self._first_failure = anyio.current_time()
            self._failing.set()
            self._log.warning(
                "cannot connect to the service; retrying",
                endpoint=self.endpoint,
                error=describe(error),
                giving_up_after=self.give_up_after,
            )
        return Reply(None, Verdict.TRANSIENT, error, fault=False)

    async def wait_unreachable(self) -> ServiceUnreachableError:
        """Return once the service is known to be out of reach (never, if it answers)."""
        await self._failing.wait()
        if self.unreachable is None:
            await anyio.sleep(self._first_failure + self.give_up_after - anyio.current_time())
            if self.reached:
                await anyio.sleep_forever()
            assert self._last_error is not None
            self._declare(
                self._last_error,
                f"no connection for {self.give_up_after:g} s and no request ever answered "
                f"({describe(self._last_error)})",
            )
        assert self.unreachable is not None
        return self.unreachable

    def _declare(self, error: Exception, reason: str) -> ServiceUnreachableError:
        unreachable = ServiceUnreachableError(self.endpoint, reason)
        unreachable.__cause__ = error
        self.unreachable = unreachable
        self._log.error("giving up: the service cannot be reached", error=str(unreachable))
        self._failing.set()
        return unreachable


class Sender:
    """Sends every request of one poller; each caller brings its operation's limiter."""

    def __init__(self, counters: Counters, reach: Reachability, log: Any) -> None:
        self.counters = counters
        self.reach = reach
        self.log = log

    async def send(
        self,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
    ) -> Reply:
        """Wait for the limiter's turn, then :meth:`call`."""
        return await self.call(await limiter.acquire(), limiter, call, params)

    async def call(
        self,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
    ) -> Reply:
        """Send now (the limiter gave its turn at ``sent_at``) and sort the outcome."""
        counters = self.counters
        counters.sent()
        try:
            answer = await call(**params)
        except Exception as error:
            verdict, retry_after = classify(error)
            if verdict is Verdict.THROTTLED:
                counters.throttled += 1
                cut = limiter.on_throttle(sent_at, retry_after)
                self.log.info(
                    "throttled",
                    rate_limit=round(limiter.rate, 2),
                    cut=cut,
                    retry_after=retry_after,
                    **_what(params),
                )
                return Reply(None, verdict, error)
            owned = self.reach.failed(error)
            return owned if owned is not None else Reply(None, verdict, error)
        if not self.reach.reached:
            self.reach.succeeded()
        return Reply(answer)


def _what(params: Mapping[str, Any]) -> dict[str, Any]:
    # The job name for a Get; the filter for a List. Never anything else.
    return {key: value for key, value in params.items() if key.endswith("Name") or key == "Status"}
