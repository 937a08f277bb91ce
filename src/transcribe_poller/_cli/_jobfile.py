"""Reading job lists for the command line: one job per line, ``KIND:NAME`` for other kinds."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence

from .. import JobKind, JobRef

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


# Read with errors="surrogateescape", each byte the encoding cannot decode becomes one
# of these lone surrogates, which no decoded text holds: a line's bad bytes are found
# where they are, and the lines keep the numbering of a strict reading.
_UNDECODED = re.compile("[\udc80-\udcff]")
_UTF16_MARKS = ("\udcff\udcfe", "\udcfe\udcff")  # FF FE, FE FF: a UTF-16 byte order mark


def checked_lines(lines: Iterable[str], source: str, encoding: str = "utf-8") -> Iterator[str]:
    """``lines`` (read with ``errors="surrogateescape"``) until one holds bytes that are
    not ``encoding``: a JobFileError naming that line, 1-based, instead of the
    UnicodeDecodeError and traceback of a strict reading."""
    name = codecs.lookup(encoding).name.upper()  # utf-8, UTF8 -> UTF-8
    for number, line in enumerate(lines, start=1):
        found = _UNDECODED.search(line)
        if found is None:
            yield line
            continue
        if number == 1 and line.startswith(_UTF16_MARKS):
            what = "it looks like UTF-16"  # what PowerShell's > and Notepad may write
        else:
            byte = ord(found.group()) - 0xDC00
            what = f"byte 0x{byte:02x} at column {found.start() + 1}"
        raise JobFileError(
            source, [f"{source}:{number}: not {name} text ({what}); save it as {name}"]
        )


def read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 job file, checked by :func:`checked_lines`; OSError if it
    cannot be read."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return list(checked_lines(handle, path))


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
