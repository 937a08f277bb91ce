"""Reading job lists for the command line: one job per line, ``medical:NAME`` for medical."""

from __future__ import annotations

from collections.abc import Iterable

from ._exceptions import InvalidJobNameError
from ._jobs import JobKind, JobRef


class JobFileError(ValueError):
    """A line of a job file that is not a job; names the file and line."""


def parse_job_lines(lines: Iterable[str], source: str) -> list[JobRef]:
    """Jobs from lines: blank lines and ``#`` comments are skipped.

    ``NAME`` or ``standard:NAME`` is a standard job, ``medical:NAME`` a medical one.
    A ``#`` starts a comment anywhere, since job names cannot contain one.
    """
    jobs = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        prefix, colon, name = line.partition(":")
        if not colon:
            kind, name = JobKind.STANDARD, line
        elif prefix in ("medical", "standard"):
            kind = JobKind(prefix)
        else:
            raise JobFileError(
                f"{source}:{number}: unknown prefix {prefix!r} in {line!r}; "
                "use NAME, standard:NAME or medical:NAME"
            )
        try:
            jobs.append(JobRef(name.strip(), kind))
        except InvalidJobNameError as error:
            raise JobFileError(f"{source}:{number}: {error}") from None
    return jobs
