"""``submit``'s manifest: one JSON object of Start parameters per line, checked whole
before anything is sent, then read again as a stream for :meth:`Poller.submit`.

A request is the parameters of its kind's Start operation with botocore's names;
its name key tells the kind (:data:`NAME_KEYS`), as :meth:`Poller.submit` reads it.
Blank lines and lines starting with ``#`` are skipped. The check
(:func:`open_manifest`) reports every bad line as ``FILE:LINE: reason``, as a job
file's are (:class:`~._jobfile.JobFileError`): not JSON, not an object, no name key
or two, an invalid job name, no ``Media.MediaFileUri``, a name used twice for one
kind, or parameters botocore's own client would refuse to send (checked offline
with its service model). Standard input is spooled to a temporary file while it is
checked, so no manifest is ever held in memory: only each kind's names are, to find
one used twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from .. import InvalidJobNameError, JobKind, JobRef
from ._jobfile import JobFileError, checked_lines
from ._progress import plural
from ._status import UsageError

# The name key of each kind's Start request, and its Start operation's name in
# botocore's service model: as Poller.submit reads a request (a test holds the two
# to JobKind, so a new kind is not missed here).
NAME_KEYS: Mapping[str, JobKind] = {
    "TranscriptionJobName": JobKind.STANDARD,
    "MedicalTranscriptionJobName": JobKind.MEDICAL,
    "CallAnalyticsJobName": JobKind.CALL_ANALYTICS,
    "MedicalScribeJobName": JobKind.MEDICAL_SCRIBE,
}
START_OPERATIONS: Mapping[JobKind, str] = {
    JobKind.STANDARD: "StartTranscriptionJob",
    JobKind.MEDICAL: "StartMedicalTranscriptionJob",
    JobKind.CALL_ANALYTICS: "StartCallAnalyticsJob",
    JobKind.MEDICAL_SCRIBE: "StartMedicalScribeJob",
}
STDIN = "-"
STDIN_NAME = "<stdin>"
_BOM = "\ufeff"  # a UTF-8 byte order mark, as Notepad may write one


def request_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """``(line number from 1, text)`` of each line holding a request: blank lines and
    lines starting with ``#`` skipped (a ``#`` later in a line is JSON's: an S3 key
    may hold one)."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if number == 1:
            text = text.removeprefix(_BOM).strip()
        if text and not text.startswith("#"):
            yield number, text


def _json_problem(error: json.JSONDecodeError) -> str:
    return f"not JSON: {error.msg} at column {error.colno}"


def _kind_of(request: object) -> tuple[str, JobKind]:
    """The name key of a request (a dict) and its kind; ValueError says why not."""
    if not isinstance(request, dict):
        what = "null" if request is None else type(request).__name__
        raise ValueError(f"expected a JSON object of Start parameters, got {what}")
    named = [key for key in NAME_KEYS if key in request]
    if not named:
        raise ValueError(f"no job name: the request needs one of {', '.join(NAME_KEYS)}")
    if len(named) > 1:
        raise ValueError(f"two job names, {named[0]} and {named[1]}: one request starts one job")
    return named[0], NAME_KEYS[named[0]]


def _media_problem(request: Mapping[str, Any]) -> str | None:
    media = request.get("Media")
    uri = media.get("MediaFileUri") if isinstance(media, dict) else None
    if isinstance(uri, str) and uri:
        return None
    return 'no Media.MediaFileUri: the recording, e.g. "Media": {"MediaFileUri": "s3://..."}'


class _Botocore:
    """botocore's own check of a Start request, before sending: its service model's
    names, types and required members (offline; no client, no credentials)."""

    def __init__(self) -> None:
        self._shapes: dict[JobKind, Any] = {}
        self._validator: Any = None

    def problem(self, kind: JobKind, request: Mapping[str, Any]) -> str | None:
        shape = self._shape(kind)
        if shape is None:  # a botocore without the operation: the Start says so
            return None
        report = self._validator.validate(request, shape)
        if not report.has_errors():
            return None
        lines = report.generate_report().splitlines()
        return f"botocore would refuse it: {'; '.join(line.strip() for line in lines)}"

    def _shape(self, kind: JobKind) -> Any:
        if kind not in self._shapes:
            import botocore.exceptions
            import botocore.session
            from botocore.validate import ParamValidator

            self._validator = ParamValidator()
            try:
                model = botocore.session.get_session().get_service_model("transcribe")
                shape = model.operation_model(START_OPERATIONS[kind]).input_shape
            except (botocore.exceptions.BotoCoreError, KeyError):
                shape = None
            self._shapes[kind] = shape
        return self._shapes[kind]


@dataclass
class Manifest:
    """A manifest checked: where it is, and how many jobs of each kind it starts.

    :meth:`requests` reads it again, line by line, for :meth:`Poller.submit`.
    """

    source: str  # as reports name it: the path given, or <stdin>
    path: str  # where to read it again: the file itself, or its spooled copy
    kinds: dict[JobKind, int] = field(default_factory=dict)
    # Why the file could not be read again to the end (it changed, or a read failed).
    read_error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def requests(self) -> Iterator[Mapping[str, Any]]:
        """Each request, read as the batch takes them. A line that is no longer JSON
        (the file changed since the check) or a read that fails ends the requests,
        and :attr:`read_error` says why. (Other changes Poller.submit reports as that
        request's ERROR event.)"""
        read = 0
        try:
            with open(self.path, encoding="utf-8", errors="surrogateescape") as handle:
                for number, text in request_lines(handle):
                    try:
                        request = json.loads(text)
                    except json.JSONDecodeError as error:
                        self.read_error = (
                            f"{self.source}:{number}: {_json_problem(error)} (changed since "
                            "it was checked)"
                        )
                        return
                    read += 1
                    yield request
        except OSError as error:
            self.read_error = f"cannot read {self.source}: {error.strerror or error}"
            return
        if read < self.total:  # never lose jobs unsaid: they would pass for done
            self.read_error = (
                f"{self.source} has {plural(read, 'request')} now, {self.total} when it was checked"
            )


def check(lines: Iterable[str], manifest: Manifest, copy: Callable[[str], object]) -> None:
    """Check every line of ``lines`` (each also handed to ``copy``), counting the
    manifest's jobs; a UsageError listing every bad line, FILE:LINE: reason."""
    source = manifest.source
    problems: list[str] = []
    first_line: dict[JobKind, dict[str, int]] = {kind: {} for kind in JobKind}
    botocore = _Botocore()

    def each(lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            copy(line)
            yield line

    try:
        for number, text in request_lines(each(lines)):
            problem = _problem(text, number, first_line, botocore, manifest.kinds)
            if problem is not None:
                problems.append(f"{source}:{number}: {problem}")
    except JobFileError as error:  # bytes that are not UTF-8: that line, and the end
        problems += error.problems
    if problems:
        raise UsageError(str(JobFileError(source, problems)))
    if not manifest.total:
        raise UsageError(
            f"{source}: no requests: write one JSON object of Start parameters per line"
        )


def _problem(
    text: str,
    number: int,
    first_line: dict[JobKind, dict[str, int]],
    botocore: _Botocore,
    kinds: dict[JobKind, int],
) -> str | None:
    """What is wrong with one line, or None (and the job is counted)."""
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        return _json_problem(error)
    try:
        key, kind = _kind_of(request)
        job = JobRef(request[key], kind)
    except InvalidJobNameError as error:
        return f"{key}: {error}"
    except ValueError as error:
        return str(error)
    problem = _media_problem(request)
    if problem is not None:
        return problem
    seen = first_line[kind]
    if job.name in seen:
        return f"{key} {job.name!r} again: line {seen[job.name]} starts that job already"
    seen[job.name] = number
    problem = botocore.problem(kind, request)
    if problem is not None:
        return problem
    kinds[kind] = kinds.get(kind, 0) + 1
    return None


def _stdin() -> IO[str]:
    """Standard input, its bad bytes kept for :func:`checked_lines` to report."""
    stdin = sys.stdin
    reconfigure = getattr(stdin, "reconfigure", None)
    if reconfigure is not None:  # a TextIOWrapper; not a StringIO
        reconfigure(errors="surrogateescape")
    return stdin


@contextlib.contextmanager
def open_manifest(path: str) -> Iterator[Manifest]:
    """The manifest at ``path``, checked: a UsageError names every bad line; nothing
    is sent. Standard input (``-``), and any file that cannot be read twice (a pipe,
    ``<(command)``), is spooled to a temporary file while checked, removed on exit."""
    if path != STDIN and os.path.isfile(path):
        manifest = Manifest(source=path, path=path)
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                check(checked_lines(handle, path), manifest, copy=lambda line: None)
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
        yield manifest
        return
    with contextlib.ExitStack() as stack:
        if path == STDIN:
            source, stream = STDIN_NAME, _stdin()
        else:
            source = path
            try:
                stream = stack.enter_context(open(path, encoding="utf-8", errors="surrogateescape"))
            except OSError as error:
                raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
        encoding = getattr(stream, "encoding", None) or "utf-8"
        descriptor, spool = tempfile.mkstemp(prefix="transcribe-poller-", suffix=".jsonl")
        stack.callback(_remove, spool)
        manifest = Manifest(source=source, path=spool)
        try:
            with open(descriptor, "w", encoding="utf-8") as copy:
                check(checked_lines(stream, source, encoding), manifest, copy=copy.write)
        except OSError as error:  # reading it, or writing the copy (a full disk)
            raise UsageError(
                f"cannot copy {source} to a temporary file: {error.strerror or error}"
            ) from None
        yield manifest


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
