"""Progress on stderr for the command line: live on a terminal, occasional lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

import anyio

from ._events import Outcome
from ._poller import Poller
from ._stats import PollerStatistics

PLAIN_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal
LINE_WIDTH = 80  # the live line never grows past this, whatever the terminal's width
SEPARATOR = " · "


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``1 request``, ``2 requests``: the count with its noun agreeing."""
    return f"{n} {noun if n == 1 else plural_form or noun + 's'}"


def _jobs_done(stats: PollerStatistics, total: int) -> str:
    """Jobs finished of jobs watched, per kind (``118/150 standard, 40/50 medical``)."""
    if not stats.kinds:  # nothing registered yet
        return f"0/{total} jobs"
    return ", ".join(
        f"{kind_stats.finished}/{kind_stats.finished + kind_stats.pending} {kind.value}"
        for kind, kind_stats in stats.kinds.items()
    )


def describe(stats: PollerStatistics, total: int, width: int | None = None) -> str:
    """One progress line; with ``width``, the least telling parts go until it fits."""
    not_completed = stats.jobs_finished - stats.outcomes[Outcome.COMPLETED]
    # (text, rank): the lowest rank goes first when the line is too wide. A counter
    # that is still 0 says little, so it goes before one that has moved.
    parts = [
        (_jobs_done(stats, total), 9),
        (f"{not_completed} not completed" if not_completed else "", 8),
        (f"{stats.request_rate:.1f} req/s", 6),
        (plural(stats.requests, "request"), 3),
        (f"{stats.throttled} throttled", 7 if stats.throttled else 2),
        (plural(stats.retried_faults, "fault"), 5 if stats.retried_faults else 1),
    ]
    parts = [(text, rank) for text, rank in parts if text]
    line = SEPARATOR.join(text for text, _ in parts)
    while width is not None and len(line) > width and len(parts) > 1:
        parts.remove(min(parts[1:], key=lambda part: part[1]))
        line = SEPARATOR.join(text for text, _ in parts)
    return line


def summary(stats: PollerStatistics, total: int, elapsed: float) -> str:
    counts = [f"{n} {outcome.value}" for outcome, n in stats.outcomes.items() if n]
    pending = total - stats.jobs_finished
    if pending:
        counts.append(f"{pending} unfinished")
    requests = plural(stats.requests, "request")
    if stats.jobs_finished:  # a ratio over no finished job would read as 0.0
        requests += f" ({stats.requests / stats.jobs_finished:.1f} per finished job)"
    return (
        f"{plural(total, 'job')} in {elapsed:.1f} s: {', '.join(counts)}. {requests}, "
        f"{stats.throttled} throttled, {plural(stats.retried_faults, 'fault')} retried."
    )


class Progress:
    """Shows a poller's progress until closed; ``live`` picks the terminal display."""

    def __init__(
        self, poller: Poller, total: int, *, stream: TextIO | None = None, live: bool | None = None
    ) -> None:
        self._poller = poller
        self._total = total
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty() if live is None else live
        self._display: Any = None
        self._scope = anyio.CancelScope()

    async def run(self) -> None:
        with self._scope:
            if self._live:
                try:
                    from rich.console import Console
                    from rich.live import Live
                except ImportError:  # the cli extra is not installed: plain lines
                    self._live = False
                else:
                    console = Console(file=self._stream)
                    width = min(LINE_WIDTH, console.width)
                    with Live(console=console, refresh_per_second=4, transient=True) as live:
                        self._display = live
                        while True:
                            live.update(self._text(width))
                            await anyio.sleep(0.25)
            last = time.monotonic()
            while True:
                await anyio.sleep(max(0.0, last + PLAIN_EVERY - time.monotonic()))
                last = time.monotonic()
                print(f"transcribe-poller: {self._text()}", file=self._stream, flush=True)

    def _text(self, width: int | None = None) -> str:
        return describe(self._poller.statistics(), self._total, width)

    def stop(self) -> None:
        self._scope.cancel()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
