"""The test bed's control endpoint: other processes start scripted jobs over HTTP.

``POST /_local/jobs`` with a JSON object whose fields are the keyword arguments of
:meth:`LocalTranscribe.start_job` (``name`` required; ``kind``, ``duration``,
``queued_for``, ``fail_with``, ``redaction``, ``subtitles``,
``content_identification``, ``output_bucket``, ``transcript``, ``speakers``,
``channels`` with its defaults) starts a job and
answers 201 with the job's script. Bad input answers 400 with ``{"error": ...}``
naming the field and value; a name already taken answers 409. ``GET /_local/jobs``
lists the scripted jobs and their status now.

Transcribe's own protocol only ever POSTs to ``/``, so the ``/_local/`` paths never
shadow an API call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._contract import NameInUseError
from ._proxy import CONTROL_PREFIX
from ._script import SPEC_DEFAULTS, JobSpec, ScriptedJob

if TYPE_CHECKING:
    from ._contract import TranscribeDouble

JOBS_PATH = CONTROL_PREFIX + "jobs"
"""The local test bed's control endpoint for starting jobs: ``POST`` a job spec (the
arguments of ``start_job`` as JSON) to the bed's URL plus this path."""

FIELDS = ("name", *SPEC_DEFAULTS)


def job_spec(payload: object) -> dict[str, Any]:
    """start_job's arguments from a decoded JSON object, checked before anything starts.

    Raises ValueError naming the field and the value that is wrong.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"a job must be a JSON object, got {json.dumps(payload)[:80]}")
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
    if "name" not in payload:
        raise ValueError("field 'name' is required")
    spec = {**SPEC_DEFAULTS, **payload}
    # JobSpec checks the rest; these it would take too kindly from JSON.
    subtitles = spec["subtitles"]
    if not isinstance(subtitles, (list, tuple)):
        raise ValueError(f'subtitles must be a list such as ["vtt"], got {subtitles!r}')
    if not isinstance(spec["content_identification"], bool):
        raise ValueError(
            f"content_identification must be true or false, got {spec['content_identification']!r}"
        )
    if spec["output_bucket"] is not None and not isinstance(spec["output_bucket"], str):
        raise ValueError(f"output_bucket must be a bucket name, got {spec['output_bucket']!r}")
    JobSpec(**spec)
    return spec


def describe_script(script: ScriptedJob) -> dict[str, Any]:
    """A job's script as JSON: what it will do and when."""
    return {
        "name": script.name,
        "kind": script.kind.value,
        "status": script.status(),
        "outcome": script.outcome,
        "failure_reason": script.failure_reason,
        "duration": script.duration,
        "queued_for": script.queued_for,
        "redaction": script.redaction,
        "subtitles": list(script.subtitles),
        "started_at": script.started_at,
        "slot_at": script.runs_from,
        "terminal_at": script.terminal_at,
    }


def _answer(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


class ControlEndpoint:
    """Answers requests under ``/_local/`` for one running test double.

    ``bed`` is any :class:`TranscribeDouble` (the local test bed in practice: this
    module knows no more of it). ``on_start`` is told of every job started
    through it, from the proxy's thread.
    """

    def __init__(
        self, bed: TranscribeDouble, on_start: Callable[[ScriptedJob], None] | None = None
    ) -> None:
        self._bed = bed
        self._on_start = on_start

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path != JOBS_PATH:
            return _answer(404, {"error": f"no {request.path}; POST {JOBS_PATH} starts a job"})
        if request.method == "GET":
            scripts = self._bed.scripts.values()
            return _answer(200, {"jobs": [describe_script(script) for script in scripts]})
        if request.method != "POST":
            return _answer(405, {"error": f"{request.method} {JOBS_PATH}: use POST or GET"})
        try:
            payload = json.loads(await request.read())
        except ValueError as error:
            return _answer(400, {"error": f"the body is not JSON: {error}"})
        try:
            spec = job_spec(payload)
        except ValueError as error:
            return _answer(400, {"error": str(error)})
        return self._start(spec)

    def _start(self, spec: dict[str, Any]) -> web.Response:
        # Called on the proxy's loop, not in a worker thread: starts are then one at a
        # time, as the Start operations the proxy answers are.
        try:
            script = self._bed.start_job(**spec)
        except NameInUseError:
            return _answer(
                409, {"error": f"a {spec['kind']} job named {spec['name']!r} exists already"}
            )
        except ValueError as error:
            return _answer(400, {"error": str(error)})
        if self._on_start is not None:
            self._on_start(script)
        return _answer(201, describe_script(script))


__all__ = ["CONTROL_PREFIX", "JOBS_PATH", "ControlEndpoint", "job_spec"]
