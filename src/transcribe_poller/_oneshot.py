"""Conveniences for scripts: a poller with its own client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from ._backoff import Backoff
from ._eventbridge import EventBridgeQueue
from ._events import CompletionEvent
from ._jobs import JobLike, as_job_refs
from ._poller import DEFAULT_MAX_RATE, Poller
from ._request import DEFAULT_UNREACHABLE_AFTER
from ._sweep import Sweep


@contextlib.asynccontextmanager
async def open_poller(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    backoff: Backoff | None = None,
    max_rate: float = DEFAULT_MAX_RATE,
    job_timeout: float | None = None,
    not_found_grace: float = 5.0,
    max_faults: int = 10,
    sweep: Sweep | str | None = None,
    unreachable_after: float = DEFAULT_UNREACHABLE_AFTER,
    queue_url: str | None = None,
    request_timeout: float | None = None,
) -> AsyncIterator[Poller]:
    """A Poller with its own aiobotocore client, closed on exit.

    ``region``, ``endpoint_url`` and ``profile`` pick the service as the AWS CLI
    would; the other options are :class:`Poller`'s. The client makes one attempt
    per request: the poller does the retrying, so its rate limit sees every request.
    ``queue_url`` names an SQS queue of Transcribe's EventBridge events: the poller
    then learns of standard and Call Analytics jobs' ends from it (an
    :class:`EventBridgeQueue` with its own SQS client, from the same session and
    region; ``AWS_ENDPOINT_URL_SQS`` points it elsewhere, as for the AWS CLI).
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    session = AioSession(profile=profile)
    config = AioConfig(retries={"total_max_attempts": 1})
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client(
                "transcribe", region_name=region, endpoint_url=endpoint_url, config=config
            )
        )
        notifications = None
        if queue_url is not None:
            sqs = await stack.enter_async_context(
                session.create_client("sqs", region_name=region, config=config)
            )
            notifications = EventBridgeQueue(sqs, queue_url)
        poller = await stack.enter_async_context(
            Poller(
                client,
                backoff=backoff,
                max_rate=max_rate,
                job_timeout=job_timeout,
                not_found_grace=not_found_grace,
                max_faults=max_faults,
                sweep=sweep,
                unreachable_after=unreachable_after,
                notifications=notifications,
                request_timeout=request_timeout,
            )
        )
        yield poller


async def wait_for_jobs(
    jobs: Iterable[JobLike],
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    backoff: Backoff | None = None,
    max_rate: float = DEFAULT_MAX_RATE,
    job_timeout: float | None = None,
    not_found_grace: float = 5.0,
    max_faults: int = 10,
    sweep: Sweep | str | None = None,
    unreachable_after: float = DEFAULT_UNREACHABLE_AFTER,
    queue_url: str | None = None,
    request_timeout: float | None = None,
) -> list[CompletionEvent]:
    """Wait for every job; return one event per distinct job, in the order first given.

    Repeated jobs are awaited once. Names are checked before anything is sent; with
    no jobs it returns ``[]`` without opening a client. Options as for
    :func:`open_poller`.
    """
    refs = as_job_refs(jobs)
    if not refs:
        return []
    async with (
        open_poller(
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
            backoff=backoff,
            max_rate=max_rate,
            job_timeout=job_timeout,
            not_found_grace=not_found_grace,
            max_faults=max_faults,
            sweep=sweep,
            unreachable_after=unreachable_after,
            queue_url=queue_url,
            request_timeout=request_timeout,
        ) as poller,
        poller.watch(refs) as events,
    ):
        by_job = {event.job: event async for event in events}
    return [by_job[ref] for ref in refs]
