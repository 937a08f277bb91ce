"""Reading job lists for the command line: one job per line, ``KIND:NAME`` for other kinds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._jobs import JobKind, JobRef

MAX_REPORTED = 20  # bad lines shown; a wrong file (a WAV, a CSV) would bury the terminal

# Every kind's value is its prefix (medical:NAME, call-analytics:NAME, ...), so a new
# kind is readable from job files the day it joins JobKind.
PREFIXES = {kind.value: kind for kind in JobKind}
SPELLINGS = ", ".join(["NAME", *(f"{prefix}:NAME" for prefix in PREFIXES)])


class JobFileError(ValueError):
    """Bad lines of a job file: every one of them, each as ``file:line: reason``."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED]
        if len(self.problems) > 1:
            shown.insert(0, f"{len(self.problems)} bad lines in {source}:")
        if len(self.problems) > MAX_REPORTED:
            shown.append(f"... and {len(self.problems) - MAX_REPORTED} more")
        super().__init__("\n".join(shown))


def _job_from_line(line: str) -> JobRef:
    """The job a (non-blank, comment-free) line names; ValueError says why not."""
    prefix, colon, name = line.partition(":")
    if not colon:
        return JobRef(line, JobKind.STANDARD)
    kind = PREFIXES.get(prefix)
    if kind is None:
        raise ValueError(f"unknown prefix {prefix!r} in {line!r}; use {SPELLINGS}")
    return JobRef(name.strip(), kind)


def parse_job_lines(lines: Iterable[str], source: str) -> list[JobRef]:
    """Jobs from lines: blank lines and ``#`` comments are skipped.

    ``NAME`` or ``standard:NAME`` is a standard job; ``medical:NAME``,
    ``call-analytics:NAME`` and ``medical-scribe:NAME`` the other kinds (each
    JobKind's value is its prefix). A ``#`` starts a comment anywhere, since job
    names cannot contain one. Every bad line is reported at once, so a long file is
    mended in one pass.
    """
    jobs: list[JobRef] = []
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            jobs.append(_job_from_line(line))
        except ValueError as error:  # InvalidJobNameError is one too
            problems.append(f"{source}:{number}: {error}")
    if problems:
        raise JobFileError(source, problems)
    return jobs
