"""A FastAPI service whose route awaits a Transcribe job through one shared poller.

    python examples/fastapi_service.py          # starts, asks itself for a few jobs, exits
    python examples/fastapi_service.py --serve  # keeps serving on 127.0.0.1:8000

GET /jobs/{name}?kind=... (standard, medical, call-analytics or medical-scribe)
answers with the job's completion event as
JSON once the job has ended (200, whatever the outcome: the body says which), 400
for an invalid job name or kind, 504 when the job has not ended within the request
timeout (ask again later).

One poller per process, opened in the app's lifespan and shared by every request:
concurrent requests for the same job share one poll loop, and all jobs share one
rate limit, so a burst of requests cannot push the account over its Transcribe
quota. A request that gives up (timeout, or its client hung up) stops the polling
of a job nobody else awaits.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from transcribe_poller import CompletionEvent, InvalidJobNameError, JobRef, Poller
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
# job that clients watch without a break for an hour (they then get TIMED_OUT).
JOB_TIMEOUT = 3600.0


def create_app(
    open_client: OpenClient,
    *,
    request_timeout: float = REQUEST_TIMEOUT,
    job_timeout: float = JOB_TIMEOUT,
) -> FastAPI:
    """The service. ``open_client`` opens the aiobotocore Transcribe client it polls with."""

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
        async with open_client() as client, Poller(client, job_timeout=job_timeout) as poller:
            app.state.poller = poller
            yield

    app = FastAPI(title="Transcribe jobs", lifespan=lifespan)

    @app.get("/jobs/{name}")
    async def job_result(request: Request, name: str, kind: str = "standard") -> Response:
        try:
            job = JobRef(name, kind)  # type: ignore[arg-type]
        except (InvalidJobNameError, ValueError) as error:
            # Checked before anything is sent to the service.
            return JSONResponse({"error": str(error)}, status_code=400)
        poller: Poller = request.app.state.poller
        try:
            # Leaving this block early cancels the wait, and the poller stops polling
            # the job unless another request still awaits it.
            with anyio.fail_after(request_timeout):
                event = await wait_while_connected(request, poller, job)
        except TimeoutError:
            return JSONResponse(
                {
                    "error": f"job {job.name} ({job.kind}) has not ended after "
                    f"{request_timeout:g} s; ask again later"
                },
                status_code=504,
            )
        if event is None:
            # 499, as nginx logs it: the client closed the request; nobody reads this.
            return Response(status_code=499)
        return JSONResponse(event.to_dict())

    return app


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


async def ask_yourself(app: FastAPI, paths: list[str]) -> None:
    """Serve the app on a free port of 127.0.0.1, GET every path at once, print each answer."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        # Listening before uvicorn starts: the requests wait in the backlog until
        # uvicorn has run the lifespan (the poller is open) and accepts them.
        sock.listen()
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        stopping = False

        async def serve() -> None:
            await server.serve(sockets=[sock])
            if not stopping:
                raise RuntimeError("the server stopped before answering")

        async def get(http: httpx.AsyncClient, path: str) -> None:
            response = await http.get(path)
            body: Any = response.json() if response.content else None
            print(response.status_code, json.dumps(body))

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


def main(serve: bool) -> None:
    with LocalTranscribe() as bed:
        bed.start_job("podcast-42", duration=2)
        bed.start_job("clinic-7", kind="medical", duration=3, fail_with="Invalid sample rate.")
        app = create_app(bed.client)
        if serve:
            bed.start_job("lecture-9", duration=120)
            print("try: curl 'http://127.0.0.1:8000/jobs/lecture-9'  (docs on /docs; Ctrl-C stops)")
            uvicorn.run(app, host="127.0.0.1", port=8000)
            return
        paths = [
            "/jobs/podcast-42",
            "/jobs/podcast-42",  # the same job twice at once: one poll loop for both
            "/jobs/clinic-7?kind=medical",
            "/jobs/not%20valid",
            "/jobs/podcast-42?kind=legal",
        ]
        anyio.run(ask_yourself, app, paths)


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep serving on port 8000")
    main(parser.parse_args().serve)
