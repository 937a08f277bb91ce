"""A small aiohttp service whose handler awaits a Transcribe job through a shared poller.

    python examples/web_service.py                   # starts, asks itself for a few jobs, exits
    python examples/web_service.py --serve           # keeps serving on 127.0.0.1:8080
    python examples/web_service.py --serve --port 0  # ... on a free port

Both run against a local test bed (no AWS account needed). ``--serve`` prints the
service's URL, the test bed's, and the commands to start a job of your own on the
test bed and to await it through the service.

GET /jobs/{name}?kind=... answers 200 once the job has ended COMPLETED or FAILED
(the body says which), 404 when there is no such job, 400 for an invalid job name
or kind (naming the field), 504 when the job has not ended within the request
timeout (ask again later), 502 when the service could not be polled.

The poller is opened once with the app and shared by every request: concurrent
requests for the same job share one poll loop, and all jobs share one rate limit.
A request that gives up (client gone, timeout) stops polling a job nobody else awaits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from transcribe_poller import CompletionEvent, InvalidJobNameError, JobRef, Outcome, Poller
from transcribe_poller.testing import LocalTranscribe

POLLER = web.AppKey("poller", Poller)
# How long one request waits for its job before answering 504; clients ask again.
REQUEST_TIMEOUT = 30.0
# The poller's ceiling for one job's poll loop, which lives while requests overlap.
JOB_TIMEOUT = 600.0


def make_app(bed: LocalTranscribe) -> web.Application:
    app = web.Application()

    async def poller_context(app: web.Application) -> AsyncIterator[None]:
        # Against AWS: session.create_client("transcribe", region_name=...) instead.
        async with bed.client() as client, Poller(client, job_timeout=JOB_TIMEOUT) as poller:
            app[POLLER] = poller
            yield

    async def job_result(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        kind = request.query.get("kind", "standard")
        try:
            job = JobRef(name, kind)  # type: ignore[arg-type]
        except InvalidJobNameError as error:
            return web.json_response({"error": str(error), "field": "name"}, status=400)
        except ValueError as error:
            return web.json_response({"error": str(error), "field": "kind"}, status=400)
        try:
            # Giving up cancels the wait: the poller stops polling the job unless
            # another request still awaits it.
            event = await asyncio.wait_for(request.app[POLLER].wait(job), REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            return not_ended(job, REQUEST_TIMEOUT)
        return answer(event)

    app.cleanup_ctx.append(poller_context)
    app.router.add_get("/jobs/{name}", job_result)
    return app


def answer(event: CompletionEvent) -> web.Response:
    """The HTTP answer for a job's completion event."""
    job = event.job
    if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
        return web.json_response(
            {
                "job": job.name,
                "kind": job.kind.value,
                "outcome": event.outcome.value,
                "transcript_uri": event.preferred_uri,
                "failure_reason": event.failure_reason,
            }
        )
    if event.outcome is Outcome.NOT_FOUND:
        return job_error(job, f"no {job.kind.value} job named {job.name!r}", 404)
    if event.outcome is Outcome.TIMED_OUT:
        return not_ended(job, JOB_TIMEOUT)
    return job_error(job, f"job {job} could not be polled: {event.to_dict()['error']}", 502)


def not_ended(job: JobRef, after: float) -> web.Response:
    error = f"job {job.name} ({job.kind.value}) has not ended after {after:g} s; ask again later"
    return job_error(job, error, 504)


def job_error(job: JobRef, message: str, status: int) -> web.Response:
    """An error about one job: the message, and the job it is about."""
    return web.json_response(
        {"error": message, "job": job.name, "kind": job.kind.value}, status=status
    )


async def main(serve: bool, port: int) -> int:
    with LocalTranscribe() as bed:
        bed.start_job("podcast-42", duration=2)
        bed.start_job("clinic-7", kind="medical", duration=3, fail_with="Invalid sample rate.")
        # handler_cancellation: a client that hangs up cancels its handler, and so the wait.
        runner = web.AppRunner(make_app(bed), handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            print(
                f"cannot listen on 127.0.0.1:{port}: {error.strerror}; --port 0 picks a free port",
                file=sys.stderr,
            )
            return 1
        service = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            if serve:
                jobs_url = bed.enable_control()  # POST a job there to start it
                new_job = json.dumps({"name": "my-job", "kind": "standard", "duration": 20})
                print(
                    f"service:  {service}\n"
                    f"test bed: {bed.endpoint_url}  (a local Transcribe; started there:\n"
                    "          podcast-42, clinic-7 (medical, fails))\n"
                    "\n"
                    "Start a job on the test bed (kind: standard, medical, call-analytics or\n"
                    "medical-scribe; duration in seconds; fail_with: a reason makes it fail):\n"
                    f"  curl -X POST {jobs_url} -H 'Content-Type: application/json'"
                    f" -d '{new_job}'\n"
                    f"Await it through the service ({REQUEST_TIMEOUT:g} s at most, then 504):\n"
                    f"  curl '{service}/jobs/my-job?kind=standard'\n"
                    "Ctrl-C stops.",
                    flush=True,  # a pipe would otherwise hold these lines back
                )
                # Ctrl-C (asyncio.run cancels this) or SIGTERM stops the server and the bed.
                stop = asyncio.Event()
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
                await stop.wait()
                return 0
            paths = [
                "/jobs/podcast-42",
                "/jobs/clinic-7?kind=medical",
                "/jobs/no-such-job",  # 404, after the poller's 5 s grace for a new job
                "/jobs/not%20valid",
            ]
            async with aiohttp.ClientSession(service) as http:

                async def get(path: str) -> None:
                    async with http.get(path) as response:
                        body = await response.json()
                        print(f"GET {path} -> {response.status} {json.dumps(body)}")

                await asyncio.gather(*(get(path) for path in paths))
        finally:
            await runner.cleanup()
    return 0


if __name__ == "__main__":
    # The library logs to the logging logger "transcribe_poller" (structlog left
    # unconfigured): its warnings and errors go to stderr, never among the answers.
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep serving until Ctrl-C")
    parser.add_argument(
        "--port",
        type=int,
        help="with --serve: the service's port on 127.0.0.1 (default 8080; 0 picks a free one)",
    )
    args = parser.parse_args()
    if args.port is not None and not args.serve:
        parser.error("--port goes with --serve (without it, the service picks a free port)")
    port = (8080 if args.port is None else args.port) if args.serve else 0
    if not 0 <= port <= 65535:
        parser.error(f"--port must be 0 to 65535, got {port}")
    # Ctrl-C while serving: the server and the test bed have stopped by then.
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(args.serve, port)))
