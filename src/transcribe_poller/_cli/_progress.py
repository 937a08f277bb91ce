"""Progress on stderr for the command line: live on a terminal, occasional lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from .. import JobKind, Outcome, Poller, PollerStatistics

PLAIN_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal
LINE_WIDTH = 80  # the live line never grows past this, whatever the terminal's width
SEPARATOR = " · "


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``1 request``, ``2 requests``: the count with its noun agreeing."""
    return f"{n} {noun if n == 1 else plural_form or noun + 's'}"


# On a crowded line kinds go by these names (``118/150 std, 20/30 ca``).
SHORT_NAMES = {
    JobKind.STANDARD: "std",
    JobKind.MEDICAL: "med",
    JobKind.CALL_ANALYTICS: "ca",
    JobKind.MEDICAL_SCRIBE: "scribe",
}

# What the line tells, ranked: when it is too wide, the lowest rank goes first. Jobs
# done is always shown; per kind while that fits at all; with the kinds' full names
# unless that would cost a counter that has moved (throttled answers, faults, jobs
# not completed). Counters still at 0 say little and go before the request rate.
_RANK_JOBS = 9.0
_RANK_PER_KIND = 8.5
_RANK_NOT_COMPLETED = 8.0
_RANK_FULL_NAMES = 6.5
_RANK_RATE = 6.0


def _jobs_done_forms(stats: PollerStatistics, total: int) -> list[tuple[str, list[float]]]:
    """Jobs finished of jobs watched, from the most telling form to the shortest, each
    with the ranks of what it tells: per kind with full names (``118/150 standard,
    40/50 medical``), per kind with short ones (``118/150 std, 40/50 med``), in all
    (``158/200 jobs``)."""
    kinds = [(kind, k) for kind, k in stats.kinds.items() if k.finished + k.pending]
    overall = f"{sum(k.finished for _, k in kinds)}/{total} jobs"
    if not kinds:  # nothing registered yet
        return [(overall, [])]

    def per_kind(name: Callable[[JobKind], str]) -> str:
        return ", ".join(f"{k.finished}/{k.finished + k.pending} {name(kind)}" for kind, k in kinds)

    return [
        (per_kind(lambda kind: kind.value), [_RANK_PER_KIND, _RANK_FULL_NAMES]),
        (per_kind(lambda kind: SHORT_NAMES.get(kind, kind.value)), [_RANK_PER_KIND]),
        (overall, []),
    ]


def _fit(parts: list[tuple[str, float]], width: int | None) -> list[tuple[str, float]] | None:
    """The parts left once the lowest-ranked (never the first) are dropped until the
    line fits ``width``; None if even the first alone is too wide."""
    parts = list(parts)
    while width is not None and len(SEPARATOR.join(text for text, _ in parts)) > width:
        if len(parts) == 1:
            return None
        parts.remove(min(parts[1:], key=lambda part: part[1]))
    return parts


def describe(stats: PollerStatistics, total: int, width: int | None = None) -> str:
    """One progress line; with ``width``, the least telling parts go until it fits."""
    not_completed = stats.jobs_finished - stats.outcomes[Outcome.COMPLETED]
    counters = [
        # Jobs that ended otherwise than COMPLETED: FAILED, NOT_FOUND, TIMED_OUT, ERROR.
        (f"{not_completed} unsuccessful" if not_completed else "", _RANK_NOT_COMPLETED),
        (f"{stats.request_rate:.1f} req/s", _RANK_RATE),
        (plural(stats.requests, "request"), 3),
        (f"{stats.throttled} throttled", 7 if stats.throttled else 2),
        (plural(stats.retried_faults, "fault"), 5 if stats.retried_faults else 1),
        # With an EventBridge queue: the messages it brought (each may end a job).
        (plural(stats.queue_messages, "queue message") if stats.queue_requests else "", 4),
    ]
    counters = [(text, rank) for text, rank in counters if text]
    forms = _jobs_done_forms(stats, total)
    best: tuple[list[float], list[tuple[str, float]]] | None = None
    for jobs_done, tells in forms:
        kept = _fit([(jobs_done, _RANK_JOBS), *counters], width)
        if kept is None:
            continue
        # The form that keeps the most telling things wins; the earlier on a tie.
        score = sorted([*tells, *(rank for _, rank in kept)], reverse=True)
        if best is None or score > best[0]:
            best = (score, kept)
    if best is None:  # not even "n/m jobs" fits: cut it
        return forms[-1][0][:width]
    return SEPARATOR.join(text for text, _ in best[1])


def summary(stats: PollerStatistics, total: int, elapsed: float) -> str:
    counts = [f"{n} {outcome.value}" for outcome, n in stats.outcomes.items() if n]
    pending = total - stats.jobs_finished
    if pending:
        counts.append(f"{pending} unfinished")
    requests = plural(stats.requests, "request")
    if stats.jobs_finished:  # a ratio over no finished job would read as 0.0
        requests += f" ({stats.requests / stats.jobs_finished:.1f} per finished job)"
    text = (
        f"{plural(total, 'job')} in {elapsed:.1f} s: {', '.join(counts)}. {requests}, "
        f"{stats.throttled} throttled, {plural(stats.retried_faults, 'fault')} retried."
    )
    if stats.queue_requests:  # SQS requests are not Transcribe's: told apart
        text += (
            f" Queue: {plural(stats.queue_requests, 'SQS request')}, "
            f"{plural(stats.queue_messages, 'message')}."
        )
    if stats.outages:
        text += (
            f" Service down {stats.outage_seconds:.0f} s in {plural(stats.outages, 'outage')}"
            f"{' (still down)' if stats.service_down else ''}."
        )
    return text


class Progress:
    """Shows a poller's progress until closed; ``live`` picks the terminal display.

    ``statistics`` gives the figures shown (default: the poller's own): ``submit``
    counts its jobs from the events it prints, since the poller does not count the
    events it makes without polling (a Start refused, a job adopted that had ended).
    """

    def __init__(
        self,
        poller: Poller,
        total: int,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
        statistics: Callable[[], PollerStatistics] | None = None,
    ) -> None:
        self._poller = poller
        self._statistics = statistics  # read only when a line is due
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
                    print(
                        "transcribe-poller: a live progress line needs: "
                        "pip install 'transcribe-poller[cli]' (until then, a line every "
                        f"{PLAIN_EVERY:g} s)",
                        file=self._stream,
                        flush=True,
                    )
                else:
                    # soft_wrap: lines printed above the live line (stdout on the same
                    # terminal, log lines) are not broken at the width: a URI stays whole.
                    console = Console(file=self._stream, soft_wrap=True)
                    width = min(LINE_WIDTH, console.width)
                    # Rich would capture stdout even when it goes to a file or a pipe,
                    # and print the results there on the terminal instead.
                    redirect = sys.stdout.isatty()
                    with Live(
                        console=console,
                        refresh_per_second=4,
                        transient=True,
                        redirect_stdout=redirect,
                    ) as live:
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
        stats = self._poller.statistics() if self._statistics is None else self._statistics()
        return describe(stats, self._total, width)

    def stop(self) -> None:
        self._scope.cancel()
