"""The command line's progress line and summary: per kind, within 80 columns, plurals."""

from __future__ import annotations

import dataclasses
import io
import sys
from typing import cast

import anyio
import pytest

from transcribe_poller import JobKind, KindStatistics, Outcome, Poller, PollerStatistics
from transcribe_poller._cli._progress import LINE_WIDTH, Progress, describe, summary


def outcomes(**counts: int) -> dict[Outcome, int]:
    return {outcome: counts.get(outcome.value, 0) for outcome in Outcome}


def stats(
    *,
    standard: tuple[int, int, int] | None = None,
    medical: tuple[int, int, int] | None = None,
    call_analytics: tuple[int, int, int] | None = None,
    medical_scribe: tuple[int, int, int] | None = None,
    requests: int = 0,
    throttled: int = 0,
    faults: int = 0,
    rate: float = 0.0,
    every_kind: bool = False,
) -> PollerStatistics:
    """Statistics from (pending, completed, failed) per kind; ``every_kind`` lists the
    kinds not given with no job, as a poller's statistics do."""
    given = {
        JobKind.STANDARD: standard,
        JobKind.MEDICAL: medical,
        JobKind.CALL_ANALYTICS: call_analytics,
        JobKind.MEDICAL_SCRIBE: medical_scribe,
    }
    kinds = {}
    for kind, numbers in given.items():
        if numbers is None and every_kind:
            numbers = (0, 0, 0)
        if numbers is not None:
            pending, completed, failed = numbers
            kinds[kind] = KindStatistics(
                pending=pending, outcomes=outcomes(COMPLETED=completed, FAILED=failed)
            )
    completed = sum(k.outcomes[Outcome.COMPLETED] for k in kinds.values())
    failed = sum(k.outcomes[Outcome.FAILED] for k in kinds.values())
    return PollerStatistics(
        requests=requests,
        throttled=throttled,
        retried_faults=faults,
        jobs_pending=sum(k.pending for k in kinds.values()),
        jobs_finished=completed + failed,
        outcomes=outcomes(COMPLETED=completed, FAILED=failed),
        request_rate=rate,
        kinds=kinds,
    )


def test_progress_line_shows_standard_and_medical_apart() -> None:
    """Finished of watched, per kind, then what did not complete."""
    line = describe(stats(standard=(32, 117, 1), medical=(10, 40, 0), rate=24.96), 200)
    assert line.startswith("118/150 standard, 40/50 medical · 1 unsuccessful · 25.0 req/s")


@pytest.mark.parametrize(
    ("throttled", "faults", "kept"),
    [(0, 0, "requests"), (12, 0, "12 throttled"), (0, 3, "3 faults"), (12, 3, "12 throttled")],
)
def test_progress_line_fits_80_columns(throttled: int, faults: int, kept: str) -> None:
    """Whatever the numbers, the live line fits; counters that moved are kept first."""
    big = stats(
        standard=(1200, 7000, 300),
        medical=(150, 2000, 150),
        requests=123_456,
        throttled=throttled,
        faults=faults,
        rate=24.96,
    )
    small = stats(standard=(32, 117, 1), medical=(10, 40, 0), requests=1234, rate=24.96)
    for snapshot in (big, small):
        line = describe(snapshot, 10_800, LINE_WIDTH)
        assert len(line) <= LINE_WIDTH, line
        assert "standard" in line
        assert "medical" in line
    small = stats(standard=(32, 117, 1), requests=1234, throttled=throttled, faults=faults)
    assert kept in describe(small, 150, LINE_WIDTH)


FOUR_KINDS_BIG = {
    "standard": (1200, 7000, 300),
    "medical": (150, 2000, 150),
    "call_analytics": (400, 3000, 120),
    "medical_scribe": (90, 900, 10),
}
# As in the demo: 100 standard, 50 medical, 30 Call Analytics, 20 Medical Scribe.
FOUR_KINDS_DEMO = {
    "standard": (5, 90, 5),
    "medical": (0, 48, 2),
    "call_analytics": (3, 26, 1),
    "medical_scribe": (2, 17, 1),
}


@pytest.mark.parametrize(
    ("throttled", "faults", "kept"),
    # Faults that were retried matter less than the request rate (as with two kinds).
    [(0, 0, "24.9 req/s"), (12, 0, "12 throttled"), (0, 3, "24.9 req/s"), (12, 3, "12 throttled")],
)
def test_progress_line_fits_80_columns_with_four_kinds(
    throttled: int, faults: int, kept: str
) -> None:
    """Four kinds of jobs: each kind still counted, named std, med, ca and scribe when
    their full names would not fit; the counters that moved stay."""
    numbers = {"requests": 123_456, "throttled": throttled, "faults": faults, "rate": 24.9}
    demo = describe(stats(**FOUR_KINDS_DEMO, **numbers), 200, LINE_WIDTH)
    assert len(demo) <= LINE_WIDTH, demo
    assert demo.startswith("95/100 std, 50/50 med, 27/30 ca, 18/20 scribe · 9 unsuccessful · ")
    assert kept in demo
    big = describe(stats(**FOUR_KINDS_BIG, **numbers), 15_270, LINE_WIDTH)
    assert len(big) <= LINE_WIDTH, big
    assert big == "7300/8500 std, 2150/2300 med, 3120/3520 ca, 910/1000 scribe · 580 unsuccessful"
    # Without a width nothing is dropped or shortened.
    assert "3120/3520 call-analytics" in describe(stats(**FOUR_KINDS_BIG, **numbers), 15_270)


def test_full_kind_names_while_they_fit() -> None:
    """Abbreviated only when needed: full names when they fit with the moved
    counters; short ones rather than losing the count of jobs not completed."""
    few = stats(standard=(3, 1, 0), medical=(1, 1, 0), call_analytics=(2, 0, 0), rate=2.0)
    line = describe(few, 8, LINE_WIDTH)
    assert line.startswith("1/4 standard, 1/2 medical, 0/2 call-analytics · 2.0 req/s")
    crowded = stats(
        standard=(32, 117, 1),
        medical=(10, 40, 0),
        call_analytics=(5, 20, 5),
        medical_scribe=(8, 12, 0),
        requests=1234,
        rate=24.96,
    )
    line = describe(crowded, 250, LINE_WIDTH)
    assert line.startswith("118/150 std, 40/50 med, 25/30 ca, 12/20 scribe · 6 unsuccessful")
    assert len(line) <= LINE_WIDTH


def test_kinds_without_jobs_are_left_out() -> None:
    """A poller's statistics list every kind; the line names only those with jobs."""
    line = describe(stats(standard=(1, 1, 0), medical_scribe=(1, 0, 0), every_kind=True), 3)
    assert line.startswith("1/2 standard, 0/1 medical-scribe · ")
    assert describe(stats(every_kind=True), 3).startswith("0/3 jobs · ")


def test_kinds_give_way_to_the_total_when_nothing_else_fits() -> None:
    """On a very narrow line, jobs done of jobs watched in all, and never wider."""
    line = describe(stats(**FOUR_KINDS_BIG), 15_270, 30)
    assert line == "13480/15270 jobs"
    assert describe(stats(**FOUR_KINDS_BIG), 15_270, 10) == "13480/1527"


def test_progress_line_before_any_job_is_registered() -> None:
    """Before the poller knows of a job the line still reads sensibly."""
    assert describe(stats(), 3).startswith("0/3 jobs · 0.0 req/s · 0 requests")


def test_summary_speaks_in_singular_and_plural() -> None:
    """1 job, 1 request, 1 fault; 2 jobs, 2 requests, 2 faults."""
    one = summary(stats(standard=(0, 1, 0), requests=1, faults=1), 1, 0.25)
    assert one == (
        "1 job in 0.2 s: 1 COMPLETED. 1 request (1.0 per finished job), "
        "0 throttled, 1 fault retried."
    )
    two = summary(stats(standard=(0, 1, 1), requests=2, faults=2), 2, 1.0)
    assert "2 jobs in 1.0 s: 1 COMPLETED, 1 FAILED. 2 requests (1.0 per finished job)" in two
    assert "2 faults retried" in two


def test_summary_with_nothing_finished_gives_no_ratio() -> None:
    """No job finished: the unfinished count, and no '0.0 per finished job'."""
    text = summary(stats(standard=(2, 0, 0), requests=4), 2, 3.0)
    assert text == "2 jobs in 3.0 s: 2 unfinished. 4 requests, 0 throttled, 0 faults retried."


def test_with_a_queue_its_messages_are_counted_apart() -> None:
    """Push: the line counts the queue's messages while they fit, after the counters
    that moved; the summary gives SQS requests and messages apart from Transcribe's."""
    pushed = dataclasses.replace(
        stats(**FOUR_KINDS_DEMO, requests=123_456, rate=24.9), queue_requests=234, queue_messages=1
    )
    line = describe(pushed, 200, LINE_WIDTH)
    assert len(line) <= LINE_WIDTH, line
    assert describe(pushed, 200).endswith(" · 1 queue message")
    crowded = dataclasses.replace(pushed, throttled=12, retried_faults=3)
    line = describe(crowded, 200, LINE_WIDTH)
    assert len(line) <= LINE_WIDTH, line
    assert "12 throttled" in line
    assert "queue message" not in line
    few = dataclasses.replace(stats(standard=(1, 1, 0), rate=2.0), queue_requests=3)
    assert describe(few, 2, LINE_WIDTH).endswith(" · 0 queue messages")
    text = summary(dataclasses.replace(pushed, queue_messages=117), 200, 30.0)
    assert text.endswith(" Queue: 234 SQS requests, 117 messages.")
    assert "Queue" not in summary(stats(standard=(0, 1, 0), requests=1), 1, 1.0)


def test_summary_tells_of_outages_only_when_there_were_some() -> None:
    """An outage the poller waited out is one more sentence of the summary."""
    calm = stats(standard=(0, 10, 0))
    assert "Service down" not in summary(calm, 10, 5.0)
    stormy = dataclasses.replace(calm, outages=1, outage_seconds=600.2)
    assert summary(stormy, 10, 700.0).endswith(" Service down 600 s in 1 outage.")


@pytest.mark.anyio
async def test_live_progress_without_rich_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal without the cli extra, one line says what to install, no traceback."""
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.live", None)
    stream = io.StringIO()
    # The poller is read only when a progress line is due, 10 s later.
    progress = Progress(cast(Poller, None), 1, stream=stream, live=True)
    with anyio.move_on_after(0.05):
        await progress.run()
    assert stream.getvalue() == (
        "transcribe-poller: a live progress line needs: pip install 'transcribe-poller[cli]' "
        "(until then, a line every 10 s)\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Stub:
    def statistics(self) -> PollerStatistics:
        return stats(standard=(1, 0, 0))


async def _print_under_a_live_line(stream: io.StringIO, line: str) -> None:
    progress = Progress(cast(Poller, _Stub()), 1, stream=stream, live=True)
    async with anyio.create_task_group() as tg:
        tg.start_soon(progress.run)
        while progress._display is None:  # the live line is up
            await anyio.lowlevel.checkpoint()
        print(line)
        progress.stop()


LONG_LINE = '{"job": "x", "uri": "https://s3.example/' + "u" * 200 + '"}'


@pytest.mark.anyio
async def test_live_progress_leaves_a_redirected_stdout_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """stdout to a file or a pipe while the live line is on the terminal: each line
    printed reaches stdout, whole, not the terminal."""
    stream = _Terminal()
    await _print_under_a_live_line(stream, LONG_LINE)
    assert capsys.readouterr().out == LONG_LINE + "\n"
    assert "s3.example" not in stream.getvalue()


@pytest.mark.anyio
async def test_lines_printed_above_the_live_line_are_not_broken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """stdout on the same terminal: a line printed goes above the live line, with no
    line break inserted at the terminal's width (a URI stays one piece)."""
    stream = _Terminal()
    monkeypatch.setattr(sys, "stdout", _Terminal())
    await _print_under_a_live_line(stream, LONG_LINE)
    assert LONG_LINE in stream.getvalue()
