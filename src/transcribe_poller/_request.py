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

from ._cancel import is_foreign_cancellation, really_cancelled
from ._classify import (
    Verdict,
    classify,
    describe,
    is_connection_failure,
    is_missing_credentials,
    is_timeout,
)
from ._exceptions import ServiceUnreachableError
from ._health import Health
from ._ratelimit import RateLimiter
from ._stats import Counters


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
        what = "no AWS credentials" if is_missing_credentials(error) else "cannot reach the service"
        self._log.error(f"giving up: {what}", error=str(unreachable))
        self._failing.set()
        return unreachable


class Sender:
    """Sends every request of one poller; each caller brings its operation's limiter.

    Every request has a deadline of the poller's own, ``request_timeout``: a request
    still unanswered then is abandoned and sorted as a transient fault of its job,
    so no hung connection holds a job (or a worker) for good.
    """

    def __init__(
        self,
        counters: Counters,
        reach: Reachability,
        log: Any,
        *,
        health: Health | None = None,
        request_timeout: float = math.inf,
    ) -> None:
        self.counters = counters
        self.reach = reach
        self.log = log
        self.health = health if health is not None else Health(reach.endpoint, log)
        self.request_timeout = request_timeout

    async def send(
        self,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
    ) -> Reply:
        """Wait for the service to be up and the limiter's turn, then :meth:`call`."""
        await self.health.admit()
        return await self.call(await limiter.acquire(), limiter, call, params)

    async def call(
        self,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
        *,
        deadline: bool = True,
    ) -> Reply:
        """Send now (the limiter gave its turn at ``sent_at``) and sort the outcome.

        ``deadline=False``: the caller's own cancel scope holds the request deadline
        (one scope per request instead of two, on the busiest path), and the caller
        calls :meth:`abandoned` when it expires.
        """
        self.counters.sent(sent_at)
        try:
            if not deadline:
                return self._answered(await call(**params), call)
            with anyio.move_on_after(self.request_timeout):
                answer = await call(**params)
                return self._answered(answer, call)
        except Exception as error:
            return self._failed(error, sent_at, limiter, call, params)
        except anyio.get_cancelled_exc_class():
            if await really_cancelled():
                raise  # our own scopes' (or the caller's) cancellation: never swallowed
            # A CancelledError the client raised by itself (some libraries turn an
            # internal timeout into one): a fault of this request, like any other.
            rogue = TimeoutError(f"the client raised CancelledError ({_name(call)})")
            return self._failed(rogue, sent_at, limiter, call, params)
        except BaseException as error:
            if not is_foreign_cancellation(error):
                raise
            # asyncio's CancelledError raised by a client while running on trio.
            cause = TimeoutError(f"the client raised {type(error).__name__} ({_name(call)})")
            return self._failed(cause, sent_at, limiter, call, params)
        return self.abandoned(sent_at, limiter, call, params)

    def abandoned(
        self,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Any],
        params: Mapping[str, Any],
    ) -> Reply:
        """The request got no answer within ``request_timeout``: a fault of its own."""
        timeout = TimeoutError(
            f"no answer to {_name(call)} within {self.request_timeout:g} s (request_timeout)"
        )
        self.log.info("request abandoned", error=str(timeout), **_what(params))
        return self._failed(timeout, sent_at, limiter, call, params)

    def _answered(self, answer: object, call: Callable[..., Any]) -> Reply:
        self.health.answered()
        if not self.reach.reached:
            self.reach.succeeded()
        if not isinstance(answer, Mapping):
            error = TypeError(
                f"{_name(call)} answered a {type(answer).__name__}, not a dict: is the "
                "client an aiobotocore client?"
            )
            return Reply(None, Verdict.FATAL, error)
        return Reply(answer)

    def _failed(
        self,
        error: Exception,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Any],
        params: Mapping[str, Any],
    ) -> Reply:
        verdict, retry_after = classify(error)
        if verdict is Verdict.THROTTLED:
            self.health.answered()  # throttled is an answer: the service is there
            self.counters.throttled += 1
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
        if owned is not None:
            return owned
        if verdict is Verdict.TRANSIENT and not is_timeout(error):
            target = (_name(call), tuple(sorted(_what(params).items())))
            refused = is_connection_failure(error)
            if self.health.faulted(target, refused=refused, error=describe(error)):
                return Reply(None, verdict, error, fault=False)  # the service's, not the job's
        elif verdict is not Verdict.TRANSIENT:
            self.health.answered()  # an error answer (not found, denied): the service is there
        return Reply(None, verdict, error)


def _name(call: Callable[..., Any]) -> str:
    return str(getattr(call, "__name__", "the request"))


def _what(params: Mapping[str, Any]) -> dict[str, Any]:
    # The job name for a Get; the filter for a List. Never anything else.
    return {key: value for key, value in params.items() if key.endswith("Name") or key == "Status"}
