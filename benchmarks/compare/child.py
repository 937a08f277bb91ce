"""The child process: one contender waits for its jobs and records what it learned."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import resource
import sys
import time
from typing import Any

from .kinds import KINDS, REGION, TERMINAL


def _job_details(kind: str, response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        return {}
    return dict(response.get(KINDS[kind].job_field) or {})


def _status(kind: str, details: dict[str, Any]) -> str | None:
    return details.get(KINDS[kind].status_field)


def _output_uris(kind: str, details: dict[str, Any]) -> tuple[str | None, str | None]:
    """The transcript to fetch (the redacted one if any) and a scribe's clinical note."""
    output = details.get(KINDS[kind].output_field) or {}
    transcript = output.get("RedactedTranscriptFileUri") or output.get("TranscriptFileUri")
    return transcript, output.get("ClinicalDocumentUri")


def _name_param(kind: str, name: str) -> dict[str, str]:
    return {KINDS[kind].name_field: name}


def _waiter_loss(reason: str) -> str:
    """A short label for why a waiter gave up: the WaiterError reason, condensed."""
    if reason.startswith("An error occurred ("):
        code = reason[len("An error occurred (") :].split(")", 1)[0]
        throttling = code in ("LimitExceededException", "ThrottlingException")
        return f"throttled ({code})" if throttling else f"error ({code})"
    if reason.startswith("Max attempts exceeded"):
        return "max attempts exceeded"
    return reason[:80]


class Recorder:
    """What a contender learned about each job, and when (time.time())."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}

    def reported(
        self,
        kind: str,
        name: str,
        status: str,
        uri: str | None,
        polls: int | None = None,
        clinical_uri: str | None = None,
    ) -> None:
        self.records[(kind, name)] = {
            "kind": kind,
            "name": name,
            "outcome": status,
            "detected_at": time.time(),
            # Presigned query strings are credentials: keep only what the checks need.
            "uri": _without_query(uri),
            "clinical_document_uri": _without_query(clinical_uri),
            "polls": polls,
            "lost": None,
        }

    def lost(self, kind: str, name: str, reason: str, polls: int | None = None) -> None:
        self.records[(kind, name)] = {
            "kind": kind,
            "name": name,
            "outcome": None,
            "detected_at": time.time(),
            "uri": None,
            "clinical_document_uri": None,
            "polls": polls,
            "lost": reason,
        }


def _without_query(uri: str | None) -> str | None:
    return uri.split("?", 1)[0] if uri else None


async def _run_waiters(client: Any, jobs: list[tuple[str, str]], recorder: Recorder) -> None:
    from botocore.exceptions import WaiterError

    async def one(kind: str, name: str) -> None:
        # As user code does: the kind's waiter per job, with the model's Delay/MaxAttempts.
        waiter = client.get_waiter(KINDS[kind].waiter)
        try:
            response = await waiter.wait(**_name_param(kind, name))
        except WaiterError as error:
            details = _job_details(kind, error.last_response)
            if _status(kind, details) == "FAILED":
                # The failure acceptor matched: the waiter did report the outcome.
                recorder.reported(kind, name, "FAILED", None)
            else:
                recorder.lost(kind, name, _waiter_loss(str(error.kwargs.get("reason", error))))
        except Exception as error:
            recorder.lost(kind, name, f"{type(error).__name__}: {error}"[:80])
        else:
            transcript, clinical = _output_uris(kind, _job_details(kind, response))
            recorder.reported(kind, name, "COMPLETED", transcript, clinical_uri=clinical)

    await asyncio.gather(*(one(kind, name) for kind, name in jobs))


async def _run_fixed_loop(
    client: Any, jobs: list[tuple[str, str]], recorder: Recorder, interval: float
) -> None:
    from botocore.exceptions import ClientError

    async def one(kind: str, name: str) -> None:
        call = getattr(client, KINDS[kind].get_method)
        polls = 0
        while True:
            polls += 1
            try:
                response = await call(**_name_param(kind, name))
            except ClientError:
                pass  # throttled (or any other answer): just try again next round
            except Exception as error:
                recorder.lost(kind, name, f"{type(error).__name__}: {error}"[:80], polls)
                return
            else:
                details = _job_details(kind, response)
                status = _status(kind, details)
                if status in TERMINAL:
                    transcript, clinical = _output_uris(kind, details)
                    recorder.reported(kind, name, status, transcript, polls, clinical)
                    return
            await asyncio.sleep(interval)

    await asyncio.gather(*(one(kind, name) for kind, name in jobs))


async def _run_poller(
    client: Any,
    jobs: list[tuple[str, str]],
    recorder: Recorder,
    extra: dict[str, Any],
    *,
    sweep: bool = True,
    notifications: Any = None,
) -> None:
    from transcribe_poller import JobKind, JobRef, Outcome, Poller, Sweep

    refs = [JobRef(name, JobKind(kind)) for kind, name in jobs]
    async with Poller(
        client, sweep=None if sweep else Sweep(mode="never"), notifications=notifications
    ) as poller:
        try:
            async with poller.watch(refs) as events:
                async for event in events:
                    kind = event.job.kind.value
                    if event.outcome in (Outcome.COMPLETED, Outcome.FAILED):
                        recorder.reported(
                            kind,
                            event.job.name,
                            event.outcome.value,
                            event.preferred_uri,
                            event.polls,
                            event.clinical_document_uri,
                        )
                    else:
                        reason = event.outcome.value
                        if event.error is not None:
                            reason += f": {type(event.error).__name__}"
                        recorder.lost(kind, event.job.name, reason, event.polls)
        finally:
            extra["poller_statistics"] = _plain(poller.statistics())


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a statistics snapshot (dataclasses, mappings, enums)."""
    import dataclasses
    import enum
    from collections.abc import Mapping

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def _open_sqs(
    stack: contextlib.AsyncExitStack[Any], session: Any, endpoint: str
) -> tuple[Any, collections.Counter[str]]:
    """The push contender's SQS client (moto's own URL, dummy credentials, a read
    timeout above SQS's 20 s long poll), and a count of the requests it sends, per
    operation, botocore's retries included (a hook on each attempt)."""
    from aiobotocore.config import AioConfig

    sqs = await stack.enter_async_context(
        session.create_client(
            "sqs",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=AioConfig(read_timeout=60),
        )
    )
    wire: collections.Counter[str] = collections.Counter()

    def count(event_name: str, **kwargs: Any) -> None:
        wire[event_name.rsplit(".", 1)[-1]] += 1

    sqs.meta.events.register("before-send.sqs", count)
    return sqs, wire


def _client_config(contender: str, adaptive_attempts: int) -> dict[str, Any]:
    """AioConfig arguments: botocore's defaults except for the adaptive contender."""
    if contender == "waiter-adaptive":
        return {"retries": {"mode": "adaptive", "total_max_attempts": adaptive_attempts}}
    return {}


async def child_main(args: argparse.Namespace) -> dict[str, Any]:
    import anyio
    import structlog
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    # The poller logs through structlog; keep this process's stdout for the protocol and
    # log only warnings and above (to stderr), like a quiet production service. Count
    # them too: a poller that stops sweeping says so only in a warning.
    warnings: collections.Counter[str] = collections.Counter()

    def count_warnings(logger: Any, method: str, event_dict: Any) -> Any:
        warnings[str(event_dict.get("event"))] += 1
        return event_dict

    structlog.configure(
        processors=[count_warnings, *structlog.get_config()["processors"]],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    config = _client_config(args.child, args.adaptive_attempts)
    session = get_session()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client(
                "transcribe",
                region_name=REGION,
                endpoint_url=args.endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=AioConfig(**config),
            )
        )
        sqs = sqs_wire = None
        if args.child == "poller-push":
            sqs, sqs_wire = await _open_sqs(stack, session, args.sqs_endpoint)
        print("READY", flush=True)
        loop = asyncio.get_running_loop()
        order = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        jobs = [(kind, name) for kind, name in order["jobs"]]
        recorder = Recorder()
        extra: dict[str, Any] = {}
        cpu_started = time.process_time()
        started = time.time()
        timeout = max(0.0, order["deadline"] - started)
        with anyio.move_on_after(timeout) as deadline_scope:
            if args.child in ("waiter-default", "waiter-adaptive"):
                await _run_waiters(client, jobs, recorder)
            elif args.child == "fixed-loop":
                await _run_fixed_loop(client, jobs, recorder, args.loop_interval)
            elif args.child == "poller":
                await _run_poller(client, jobs, recorder, extra)
            elif args.child == "poller-get-only":
                await _run_poller(client, jobs, recorder, extra, sweep=False)
            elif args.child == "poller-push":
                from transcribe_poller import EventBridgeQueue

                assert sqs is not None  # opened before READY for this contender
                options = {}
                if args.reconcile_interval is not None:
                    options["reconcile_interval"] = args.reconcile_interval
                queue = EventBridgeQueue(sqs, order["queue_url"], **options)
                extra["reconcile_interval_s"] = queue.reconcile_interval
                await _run_poller(client, jobs, recorder, extra, notifications=queue)
            else:
                raise SystemExit(f"unknown contender {args.child!r}")
        if sqs_wire is not None:
            extra["sqs_client_config"] = {"read_timeout": 60}
            extra["sqs_requests_by_operation"] = dict(sqs_wire)
        extra["deadline_hit"] = deadline_scope.cancelled_caught
        extra["log_warnings"] = dict(warnings)
        ended = time.time()
        cpu = time.process_time() - cpu_started
    for kind, name in jobs:
        if (kind, name) not in recorder.records:
            recorder.lost(kind, name, "no result before the deadline")
            recorder.records[(kind, name)]["detected_at"] = None
    result = {
        "contender": args.child,
        "client_config": config,
        "started_at": started,
        "ended_at": ended,
        "wall_s": ended - started,
        "client_cpu_s": cpu,
        "client_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records": list(recorder.records.values()),
        **extra,
    }
    return result
