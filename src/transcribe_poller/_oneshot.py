"""Conveniences for scripts: a poller with its own client."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._eventbridge import EventBridgeQueue, Others
from ._events import CompletionEvent
from ._jobs import JobKind, JobLike, as_job_refs
from ._options import PollerOptions
from ._poller import Poller

if TYPE_CHECKING:
    from typing_extensions import Unpack


@contextlib.asynccontextmanager
async def open_poller(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    queue_url: str | None = None,
    output_events: Iterable[JobKind | str] = (),
    others: Others = "delete",
    **options: Unpack[PollerOptions],
) -> AsyncIterator[Poller]:
    """A Poller with its own aiobotocore client, closed on exit: ``async with
    open_poller(region="eu-west-1") as poller: ...``.

    ``region``, ``endpoint_url`` and ``profile`` pick the service as the AWS CLI
    would; ``options`` are :class:`Poller`'s (:class:`PollerOptions`). The client
    makes one attempt per request: the poller does the retrying, so its rate limit
    sees every request. ``queue_url`` names an SQS queue of Transcribe's
    EventBridge events: the poller then learns of standard and Call Analytics
    jobs' ends from it (an :class:`EventBridgeQueue` with its own SQS client, from
    the same session and region; ``AWS_ENDPOINT_URL_SQS`` points it elsewhere, as
    for the AWS CLI; with no SQS endpoint configured, the queue URL's own host,
    and for an AWS host its region). ``output_events``: the kinds whose output
    objects in S3 also reach the queue; ``others``: what to do with messages about
    jobs not awaited here (see :class:`EventBridgeQueue`).
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    if queue_url is not None and options.get("notifications") is not None:
        raise TypeError("give queue_url or notifications, not both")
    session = AioSession(profile=profile)
    config = AioConfig(retries={"total_max_attempts": 1})
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client(
                "transcribe", region_name=region, endpoint_url=endpoint_url, config=config
            )
        )
        if queue_url is not None:
            where = _sqs_endpoint(session, queue_url, region)
            sqs = await stack.enter_async_context(
                session.create_client("sqs", config=config, **where)
            )
            options["notifications"] = EventBridgeQueue(
                sqs, queue_url, output_events=output_events, others=others
            )
        poller = await stack.enter_async_context(Poller(client, **options))
        yield poller


async def wait_for_jobs(
    jobs: Iterable[JobLike],
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    queue_url: str | None = None,
    output_events: Iterable[JobKind | str] = (),
    others: Others = "delete",
    **options: Unpack[PollerOptions],
) -> list[CompletionEvent]:
    """Wait for every job; return one event per distinct job, in the order first given.

    Repeated jobs are awaited once. Names are checked before anything is sent; with
    no jobs it returns ``[]`` without opening a client. Arguments as for
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
            queue_url=queue_url,
            output_events=output_events,
            others=others,
            **options,
        ) as poller,
        poller.watch(refs) as events,
    ):
        by_job = {event.job: event async for event in events}
    return [by_job[ref] for ref in refs]


_AWS_SQS_HOST = re.compile(r"sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?")


def _sqs_endpoint(session: Any, queue_url: str, region: str | None) -> dict[str, Any]:
    """Where the SQS client of ``queue_url`` goes: ``region_name`` and ``endpoint_url``.

    An SQS endpoint configured as for the AWS CLI (``AWS_ENDPOINT_URL_SQS``,
    ``AWS_ENDPOINT_URL``, or the profile's ``endpoint_url``) wins. Otherwise the
    queue URL's own scheme and host: a local queue's URL names its server, and an
    AWS queue URL its region, which then signs the requests.
    """
    if os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL"):
        return {"region_name": region}
    try:
        profile = session.get_scoped_config()
    except Exception:  # a missing profile: creating the client says so
        profile = {}
    services = profile.get("services")
    if profile.get("endpoint_url") or services:
        return {"region_name": region}
    parts = urlsplit(queue_url)
    aws = _AWS_SQS_HOST.fullmatch(parts.hostname or "")
    return {
        "region_name": aws.group(1) if aws else region,
        "endpoint_url": f"{parts.scheme}://{parts.netloc}",
    }
