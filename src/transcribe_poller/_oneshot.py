"""Conveniences for scripts: a poller with its own client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ._events import CompletionEvent
from ._jobs import JobLike, as_job_refs
from ._poller import Poller


@contextlib.asynccontextmanager
async def open_poller(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    **options: Any,
) -> AsyncIterator[Poller]:
    """A Poller with its own aiobotocore client, closed on exit.

    ``region``, ``endpoint_url`` and ``profile`` pick the service as the AWS CLI
    would; ``options`` go to :class:`Poller`. The client makes one attempt per
    request: the poller does the retrying, so its rate limit sees every request.
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    session = AioSession(profile=profile)
    config = AioConfig(retries={"total_max_attempts": 1})
    async with (
        session.create_client(
            "transcribe", region_name=region, endpoint_url=endpoint_url, config=config
        ) as client,
        Poller(client, **options) as poller,
    ):
        yield poller


async def wait_for_jobs(
    jobs: Iterable[JobLike],
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    **options: Any,
) -> list[CompletionEvent]:
    """Wait for every job; return one event per distinct job, in the order first given.

    Repeated jobs are awaited once. Names are checked before anything is sent.
    """
    refs = as_job_refs(jobs)
    if not refs:
        return []
    async with (
        open_poller(region=region, endpoint_url=endpoint_url, profile=profile, **options) as poller,
        poller.watch(refs) as events,
    ):
        by_job = {event.job: event async for event in events}
    return [by_job[ref] for ref in refs]
