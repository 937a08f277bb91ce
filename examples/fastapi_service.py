"""A FastAPI service whose route awaits a Transcribe job through one shared poller.

    python examples/fastapi_service.py                   # starts, asks itself for a few jobs, exits
    python examples/fastapi_service.py --serve           # keeps serving on 127.0.0.1:8000
    python examples/fastapi_service.py --serve --port 0  # ... on a free port

Both run against a local test bed (no AWS account needed). ``--serve`` prints the
service's URL, the test bed's, and the commands to start a job of your own on the
test bed and to await it through the service.

GET /jobs/{name}?kind=... (standard, the default, medical, call-analytics or
medical-scribe) answers once the job has ended:

- 200 with the job's completion event as JSON when it ended COMPLETED or FAILED
  (a failed job is a valid answer: ``failure_reason`` says why);
- 404 when there is no such job (after the poller's ``not_found_grace``, 5 s by
  default, in case the job was started a moment ago);
- 400 for an invalid job name or kind, naming the field;
- 504 when the job has not ended within the request timeout (ask again later);
- 502 when the service could not be polled (access denied, unreachable).

One poller per process, opened in the app's lifespan and shared by every request:
concurrent requests for the same job share one poll loop, and all jobs share one
rate limit, so a burst of requests cannot push the account over its Transcribe
quota. A request that gives up (timeout, or its client hung up) stops the polling
of a job nobody else awaits.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import uvicorn
import uvicorn.config
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from transcribe_poller import CompletionEvent, InvalidJobNameError, JobRef, Outcome, Poller
from transcribe_poller.testing import LocalTranscribe

if TYPE_CHECKING:
    from types_aiobotocore_transcribe import TranscribeServiceClient

    OpenClient = Callable[[], AbstractAsyncContextManager[TranscribeServiceClient]]

# How long one request waits for its job before answering 504. Clients ask again:
# jobs take minutes, and a proxy or load balancer in front closes idle requests
# after a minute or so anyway.
REQUEST_TIMEOUT = 30.0
# The poller's own ceiling for one job's poll loop. That loop lives only while
# requests for the job keep overlapping, so this rarely matters here; it bounds a
# job that clients watch without a break for an hour (they then get a 504).
JOB_TIMEOUT = 3600.0


def create_app(
    open_client: OpenClient,
    *,
    request_timeout: float = REQUEST_TIMEOUT,
    job_timeout: float = JOB_TIMEOUT,
    **poller_options: Any,
) -> FastAPI:
    """The service. ``open_client`` opens the aiobotocore Transcribe client it polls with;
    ``poller_options`` go to the :class:`Poller` (``not_found_grace``, ``max_rate``, ...)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opened once per process, not per request: see the module's docstring.
        # Against AWS, pass a function that opens your own client instead of
        # bed.client, with credentials from the usual places, and without the
        # client's own retries so that the poller sees (and paces for) every
        # throttled answer:
        #     from aiobotocore.config import AioConfig
        #     from aiobotocore.session import get_session
        #     create_app(lambda: get_session().create_client(
        #         "transcribe", region_name="eu-west-1",
        #         config=AioConfig(retries={"total_max_attempts": 1})))
        async with (
            open_client() as client,
            Poller(client, job_timeout=job_timeout, **poller_options) as poller,
        ):
            app.state.poller = poller
            yield

    app = FastAPI(title="Transcribe jobs", lifespan=lifespan)

    @app.get("/jobs/{name}")
    async def job_result(request: Request, name: str, kind: str = "standard") -> Response:
        # Checked before anything is sent to the service.
        try:
            job = JobRef(name, kind)  # type: ignore[arg-type]
        except InvalidJobNameError as error:
            return JSONResponse({"error": str(error), "field": "name"}, status_code=400)
        except ValueError as error:
            return JSONResponse({"error": str(error), "field": "kind"}, status_code=400)
        poller: Poller = request.app.state.poller
        try:
            # Leaving this block early cancels the wait, and the poller stops polling
            # the job unless another request still awaits it.
            with anyio.fail_after(request_timeout):
                event = await wait_while_connected(request, poller, job)
        except TimeoutError:
            return not_ended(job, request_timeout)
        if event is None:
            # 499, as nginx logs it: the client closed the request; nobody reads this.
            return Response(status_code=499)
        return answer(event, job_timeout)

    return app


def answer(event: CompletionEvent, job_timeout: float) -> JSONResponse:
    """The HTTP answer for a job's completion event."""
    job = event.job
    if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
        return JSONResponse(event.to_dict())
    if event.outcome is Outcome.NOT_FOUND:
        return job_error(job, f"no {job.kind.value} job named {job.name!r}", 404)
    if event.outcome is Outcome.TIMED_OUT:
        return not_ended(job, job_timeout)
    # Outcome.ERROR: the service could not be polled; the error names why.
    reason = event.to_dict()["error"]
    return job_error(job, f"job {job.name} ({job.kind.value}) could not be polled: {reason}", 502)


def not_ended(job: JobRef, after: float) -> JSONResponse:
    message = f"job {job.name} ({job.kind.value}) has not ended after {after:g} s; ask again later"
    return job_error(job, message, 504)


def job_error(job: JobRef, message: str, status: int) -> JSONResponse:
    """An error about one job: the message, and the job it is about."""
    body = {"error": message, "job": job.name, "kind": job.kind.value}
    return JSONResponse(body, status_code=status)


async def wait_while_connected(
    request: Request, poller: Poller, job: JobRef
) -> CompletionEvent | None:
    """The job's event, or None if the client hung up first.

    Neither uvicorn nor Starlette cancels a handler whose client has gone away:
    without this, a request nobody will read would keep its job polled until the
    timeout. The body of a GET is empty, so after it the next thing the server
    tells the app is the disconnect (or that the response went out).
    """
    event: CompletionEvent | None = None
    async with anyio.create_task_group() as task_group:

        async def watch_connection() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            task_group.cancel_scope.cancel()

        task_group.start_soon(watch_connection)
        event = await poller.wait(job)
        task_group.cancel_scope.cancel()
    return event


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1 (a free port when ``port`` is 0).

    Listening before uvicorn starts: requests wait in the backlog until uvicorn has
    run the lifespan (the poller is open) and accepts them, and the port is known
    before anything is printed.
    """
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def uvicorn_config(app: FastAPI, log_level: str) -> uvicorn.Config:
    # uvicorn writes its access log to stdout; every log line goes to stderr here.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return uvicorn.Config(app, log_level=log_level, log_config=log_config)


async def ask_yourself(app: FastAPI, paths: list[str]) -> None:
    """Serve the app on a free port of 127.0.0.1, GET every path at once, print each answer."""
    with listen(0) as sock:
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn_config(app, "warning"))
        stopping = False

        async def serve() -> None:
            await server.serve(sockets=[sock])
            if not stopping:
                raise RuntimeError("the server stopped before answering")

        async def get(http: httpx.AsyncClient, path: str) -> None:
            response = await http.get(path)
            body: Any = response.json() if response.content else None
            print(f"GET {path} -> {response.status_code} {json.dumps(body)}")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(serve)
            # trust_env=False: no proxy from the environment between us and 127.0.0.1.
            async with (
                httpx.AsyncClient(
                    base_url=base_url, timeout=REQUEST_TIMEOUT + 30, trust_env=False
                ) as http,
                anyio.create_task_group() as requests,
            ):
                for path in paths:
                    requests.start_soon(get, http, path)
            stopping = True
            server.should_exit = True


def serve_forever(port: int) -> int:
    """Serve on 127.0.0.1:``port`` with a test bed that takes new jobs, until Ctrl-C."""
    try:
        sock = listen(port)
    except OSError as error:
        print(
            f"cannot listen on 127.0.0.1:{port}: {error.strerror}; --port 0 picks a free port",
            file=sys.stderr,
        )
        return 1
    with sock, LocalTranscribe() as bed:
        bed.start_job("podcast-42", duration=2)
        bed.start_job("clinic-7", kind="medical", duration=3, fail_with="Invalid sample rate.")
        bed.start_job("lecture-9", duration=120)
        jobs_url = bed.enable_control()  # POST a job there to start it
        # While serving, the library's info lines too ("job finished"), on stderr.
        logging.getLogger("transcribe_poller").setLevel(logging.INFO)
        service = f"http://127.0.0.1:{sock.getsockname()[1]}"
        new_job = json.dumps({"name": "my-job", "kind": "standard", "duration": 20})
        print(
            f"service:  {service}  (API docs on {service}/docs)\n"
            f"test bed: {bed.endpoint_url}  (a local Transcribe; started there: podcast-42,\n"
            "          clinic-7 (medical, fails), lecture-9 (ends after 2 minutes))\n"
            "\n"
            "Start a job on the test bed (kind: standard, medical, call-analytics or\n"
            "medical-scribe; duration in seconds; fail_with: a reason makes it fail):\n"
            f"  curl -X POST {jobs_url} -H 'Content-Type: application/json' -d '{new_job}'\n"
            f"Await it through the service ({REQUEST_TIMEOUT:g} s at most, then 504: ask again):\n"
            f"  curl '{service}/jobs/my-job?kind=standard'\n"
            "Ctrl-C stops.",
            flush=True,  # a pipe would otherwise hold these lines back
        )
        # uvicorn stops on SIGINT or SIGTERM, then raises the signal again:
        # SIGTERM then ends the script as Ctrl-C does, and the test bed stops cleanly.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with suppress(KeyboardInterrupt):
            uvicorn.Server(uvicorn_config(create_app(bed.client), "info")).run(sockets=[sock])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep serving until Ctrl-C")
    parser.add_argument(
        "--port",
        type=int,
        help="with --serve: the service's port on 127.0.0.1 (default 8000; 0 picks a free one)",
    )
    args = parser.parse_args()
    if args.port is not None and not args.serve:
        parser.error("--port goes with --serve (without it, the service picks a free port)")
    if args.serve:
        port = 8000 if args.port is None else args.port
        if not 0 <= port <= 65535:
            parser.error(f"--port must be 0 to 65535, got {port}")
        return serve_forever(port)
    with LocalTranscribe() as bed:
        bed.start_job("podcast-42", duration=2)
        bed.start_job("clinic-7", kind="medical", duration=3, fail_with="Invalid sample rate.")
        paths = [
            "/jobs/podcast-42",
            "/jobs/podcast-42",  # the same job twice at once: one poll loop for both
            "/jobs/clinic-7?kind=medical",  # FAILED: still 200, with its failure reason
            "/jobs/no-such-job",  # 404, after the poller's 5 s grace for a job just started
            "/jobs/not%20valid",
            "/jobs/podcast-42?kind=legal",
        ]
        anyio.run(ask_yourself, create_app(bed.client), paths)
    return 0


if __name__ == "__main__":
    # The library logs through logging (it leaves structlog alone when structlog is
    # not configured): its warnings and errors go to stderr, never among the answers.
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
