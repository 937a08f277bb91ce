"""Sending one request: pacing, counting, sorting the answer, noticing a dead endpoint.

Every Get and every List goes through :meth:`Sender.send`, so throttling always
cuts the rate of the operation it hit, every request is counted once, an
operation that fails is paced by its :class:`Health`, and a service that never
answered at all is noticed by one party for the whole poller. What to do next
(retry when) is the caller's to decide; no fault here ever ends a job.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import botocore.exceptions

from ._cancel import is_foreign_cancellation, really_cancelled
from ._classify import Verdict, classify, describe, is_missing_credentials
from ._exceptions import ServiceUnreachableError
from ._health import Health, Outages
from ._ratelimit import RateLimiter
from ._stats import RequestCounts


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer, or the verdict on the error that came instead."""

    # As the client gave it: checked by whoever reads it (see ``_answer``).
    answer: Any
    verdict: Verdict | None = None  # None when answered
    error: Exception | None = None
    # False for a fault before the service ever answered: the reachability check,
    # not each job's fault budget, decides about those.
    fault: bool = True


class Reachability:
    """Whether the service ever answered, and whether to give up on it.

    Its one purpose is to fail fast on a mistyped endpoint or region: until a first
    answer of any kind (throttled and error answers count: something answered),
    faults for ``give_up_after`` seconds from the first one (or missing
    credentials, at once) mean nothing will ever answer: :meth:`wait_unreachable`
    then returns, once, the error every job should end with. After one answer,
    faults are only ever faults.
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
        """The reply for a fault the reachability check owns, else None."""
        if self.unreachable is not None and not self.reached:
            return Reply(None, Verdict.FATAL, self.unreachable)
        if self.reached:
            return None
        if is_missing_credentials(error):
            unreachable = self._declare(error, describe(error))
            return Reply(None, Verdict.FATAL, unreachable)
        self._last_error = error
        if not self._failing.is_set():
            self._first_failure = anyio.current_time()
            self._failing.set()
            self._log.warning(
                "no answer from the service yet; retrying",
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
                f"no request ever answered in {self.give_up_after:g} s "
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
    still unanswered then is abandoned and sorted as a transient fault, so no hung
    connection holds a job (or a worker) for good. Each operation has its own
    :class:`Health`, which paces its requests while they fail.
    """

    def __init__(
        self,
        reach: Reachability,
        log: Any,
        *,
        request_timeout: float = math.inf,
        longest_probe: float = math.inf,
    ) -> None:
        self.counts = RequestCounts()  # written here alone
        self._longest_probe = longest_probe
        self.reach = reach
        self.log = log
        self.request_timeout = request_timeout
        # Until the service first answers, the reachability check alone speaks.
        self.outages = Outages(reach.endpoint, log, quiet=lambda: not reach.reached)
        self.healths: dict[str, Health] = {}

    def health_of(self, call: Callable[..., Any]) -> Health:
        """The health of the operation ``call`` sends (made on first use)."""
        name = _name(call)
        health = self.healths.get(name)
        if health is None:
            health = Health(name, self.outages, longest=self._longest_probe)
            self.healths[name] = health
        return health

    async def send(
        self,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
        *,
        own_task: bool = True,
    ) -> Reply:
        """Wait for the operation to answer (or this to be its probe) and the limiter's
        turn, then :meth:`call`. ``own_task``: see :func:`really_cancelled`."""
        await self.health_of(call).admit()
        return await self.call(await limiter.acquire(), limiter, call, params, own_task=own_task)

    async def call(
        self,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Awaitable[Mapping[str, Any]]],
        params: Mapping[str, Any],
        *,
        deadline: bool = True,
        own_task: bool = True,
    ) -> Reply:
        """Send now (the limiter gave its turn at ``sent_at``) and sort the outcome.

        ``deadline=False``: the caller's own cancel scope holds the request deadline
        (one scope per request instead of two, on the busiest path), and the caller
        calls :meth:`abandoned` when it expires.
        """
        self.counts.sent(sent_at)
        try:
            if not deadline:
                return self._answered(await call(**params), call)
            with anyio.move_on_after(self.request_timeout):
                answer = await call(**params)
                return self._answered(answer, call)
        except Exception as error:
            return self._failed(error, sent_at, limiter, call, params)
        except anyio.get_cancelled_exc_class():
            if await really_cancelled(own_task=own_task):
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
        """The request got no answer within ``request_timeout``: a transient fault."""
        timeout = TimeoutError(
            f"no answer to {_name(call)} within {self.request_timeout:g} s (request_timeout)"
        )
        self.log.info("request abandoned", error=str(timeout), **_what(params))
        return self._failed(timeout, sent_at, limiter, call, params)

    def _answered(self, answer: object, call: Callable[..., Any]) -> Reply:
        self._heard(call)
        return Reply(answer)

    def _heard(self, call: Callable[..., Any]) -> None:
        """Something answered: the operation works, and the service is there."""
        self.health_of(call).answered()
        if not self.reach.reached:
            self.reach.succeeded()

    def _failed(
        self,
        error: Exception,
        sent_at: float,
        limiter: RateLimiter,
        call: Callable[..., Any],
        params: Mapping[str, Any],
    ) -> Reply:
        verdict, retry_after = classify(error)
        if isinstance(error, botocore.exceptions.ClientError):
            self.reach.succeeded()  # an HTTP answer, even a 5xx: the endpoint is right
            if verdict is not Verdict.TRANSIENT:
                self.health_of(call).answered()  # throttled, not found, denied: it answers
        if verdict is Verdict.THROTTLED:
            self.counts.throttled += 1
            cut = limiter.on_throttle(sent_at, retry_after)
            self.log.info(
                "throttled",
                rate_limit=round(limiter.rate, 2),
                cut=cut,
                retry_after=retry_after,
                **_what(params),
            )
            return Reply(None, verdict, error)
        if verdict is Verdict.TRANSIENT:
            self.health_of(call).faulted(sent_at, describe(error))
        if verdict is Verdict.FATAL and not is_missing_credentials(error):
            # A request the client will not make (ParamValidationError, a bug): it
            # says nothing of whether the service can be reached.
            return Reply(None, verdict, error)
        owned = self.reach.failed(error)
        if owned is not None:
            return owned
        return Reply(None, verdict, error)


def _name(call: Callable[..., Any]) -> str:
    return str(getattr(call, "__name__", "the request"))


def _what(params: Mapping[str, Any]) -> dict[str, Any]:
    # The job name for a Get; the filter for a List. Never anything else.
    return {key: value for key, value in params.items() if key.endswith("Name") or key == "Status"}
