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


def describe(stats: PollerStatistics, total: int) -> str:
    done = stats.outcomes[Outcome.COMPLETED]
    not_done = stats.jobs_finished - done
    pending = total - stats.jobs_finished
    return (
        f"{done} completed, {not_done} not completed, {pending} pending of {total} · "
        f"{stats.request_rate:.1f} req/s · {stats.requests} requests, "
        f"{stats.throttled} throttled, {stats.retried_faults} faults"
    )


def summary(stats: PollerStatistics, total: int, elapsed: float) -> str:
    counts = ", ".join(f"{n} {o.value}" for o, n in stats.outcomes.items() if n)
    per_job = stats.requests / stats.jobs_finished if stats.jobs_finished else 0.0
    pending = total - stats.jobs_finished
    return (
        f"{total} job{'s' if total != 1 else ''} in {elapsed:.1f} s: {counts or 'none finished'}"
        + (f", {pending} unfinished" if pending else "")
        + f". {stats.requests} requests ({per_job:.1f} per finished job), "
        f"{stats.throttled} throttled, {stats.retried_faults} faults retried."
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
                    with Live(console=console, refresh_per_second=4, transient=True) as live:
                        self._display = live
                        while True:
                            live.update(self._text())
                            await anyio.sleep(0.25)
            last = time.monotonic()
            while True:
                await anyio.sleep(max(0.0, last + PLAIN_EVERY - time.monotonic()))
                last = time.monotonic()
                print(f"transcribe-poller: {self._text()}", file=self._stream, flush=True)

    def _text(self) -> str:
        return describe(self._poller.statistics(), self._total)

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
