"""The command line's progress line and summary: per kind, within 80 columns, plurals."""

from __future__ import annotations

import pytest

from transcribe_poller._events import Outcome
from transcribe_poller._jobs import JobKind
from transcribe_poller._progress import LINE_WIDTH, describe, summary
from transcribe_poller._stats import KindStatistics, PollerStatistics


def outcomes(**counts: int) -> dict[Outcome, int]:
    return {outcome: counts.get(outcome.value, 0) for outcome in Outcome}


def stats(
    *,
    standard: tuple[int, int, int] | None = None,
    medical: tuple[int, int, int] | None = None,
    requests: int = 0,
    throttled: int = 0,
    faults: int = 0,
    rate: float = 0.0,
) -> PollerStatistics:
    """Statistics from (pending, completed, failed) per kind."""
    kinds = {}
    for kind, numbers in ((JobKind.STANDARD, standard), (JobKind.MEDICAL, medical)):
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
    assert line.startswith("118/150 standard, 40/50 medical · 1 not completed · 25.0 req/s")


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
