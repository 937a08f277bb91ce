"""A small aiohttp service whose handler awaits a Transcribe job through a shared poller.

    python examples/web_service.py          # starts, asks itself for two jobs, exits
    python examples/web_service.py --serve  # keeps serving on 127.0.0.1:8080

The poller is opened once with the app and shared by every request: concurrent
requests for the same job share one poll loop, and all jobs share one rate limit.
A request that gives up (client gone, timeout) stops polling a job nobody else awaits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from transcribe_poller import InvalidJobNameError, JobRef, Poller
from transcribe_poller.testing import LocalTranscribe

POLLER = web.AppKey("poller", Poller)


def make_app(bed: LocalTranscribe) -> web.Application:
    app = web.Application()

    async def poller_context(app: web.Application) -> AsyncIterator[None]:
        # Against AWS: session.create_client("transcribe", region_name=...) instead.
        async with bed.client() as client, Poller(client, job_timeout=600) as poller:
            app[POLLER] = poller
            yield

    async def job_result(request: web.Request) -> web.Response:
        kind = request.query.get("kind", "standard")
        try:
            job = JobRef(request.match_info["name"], kind)  # type: ignore[arg-type]
        except (InvalidJobNameError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        event = await request.app[POLLER].wait(job)
        return web.json_response(
            {
                "job": event.job.name,
                "kind": event.job.kind.value,
                "outcome": event.outcome.value,
                "transcript_uri": event.preferred_uri,
                "failure_reason": event.failure_reason,
            }
        )

    app.cleanup_ctx.append(poller_context)
    app.router.add_get("/jobs/{name}", job_result)
    return app


async def main(serve: bool) -> None:
    with LocalTranscribe() as bed:
        bed.start_job("podcast-42", duration=2)
        bed.start_job("clinic-7", kind="medical", duration=3, fail_with="Invalid sample rate.")
        runner = web.AppRunner(make_app(bed))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 8080 if serve else 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            if serve:
                print(f"serving on http://127.0.0.1:{port}/jobs/NAME (Ctrl-C stops)")
                await asyncio.Event().wait()
            async with aiohttp.ClientSession() as http:
                urls = [
                    f"http://127.0.0.1:{port}/jobs/podcast-42",
                    f"http://127.0.0.1:{port}/jobs/clinic-7?kind=medical",
                    f"http://127.0.0.1:{port}/jobs/not%20valid",
                ]

                async def get(url: str) -> None:
                    async with http.get(url) as response:
                        print(response.status, await response.json())

                await asyncio.gather(*(get(url) for url in urls))
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep serving on port 8080")
    asyncio.run(main(parser.parse_args().serve))
