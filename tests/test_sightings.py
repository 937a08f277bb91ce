"""What listings showed of awaited jobs, and what a sweep concludes from it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from transcribe_poller._sightings import Sightings

T0 = datetime(2026, 11, 30, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_jobs_never_listed_are_looked_for_in_the_queued_listing() -> None:
    """A new job may be QUEUED: the QUEUED listing looks for it; one listed running
    never is again."""
    seen = Sightings()
    assert seen.to_look_for(["a", "b"]) == {"a", "b"}
    seen.saw_running(["a", "b"], {"a": at(0)})
    seen.judge(["a", "b"], {"a": at(0)}, {"b": at(1)}, not_queued=set())
    assert seen.to_look_for(["a", "b"]) == set()


def test_a_listing_that_shows_a_job_unfinished_confirms_it() -> None:
    """Running and queued jobs are unfinished; a job gone from the running listing, or
    absent from a whole listing of both, may have ended."""
    seen = Sightings()
    seen.saw_running(["run", "gone"], {"run": at(0), "gone": at(0)})
    seen.judge(["run", "gone"], {"run": at(0), "gone": at(0)}, {}, not_queued=set())
    running = {"run": at(0)}
    seen.saw_running(["run", "gone", "new", "q"], running)
    verdicts = seen.judge(["run", "gone", "new", "q"], running, {"q": at(5)}, not_queued={"new"})
    assert sorted(verdicts.unfinished) == ["q", "run"]
    assert sorted(verdicts.ended) == ["gone", "new"]


def test_queued_jobs_behind_the_frontier_need_no_listing() -> None:
    """First in, first out: while no job created after a queued one has started, it
    is still queued, and only the oldest of them is left to its own safety read."""
    seen = Sightings()
    names = ["q1", "q2", "q3"]
    seen.saw_running(names, {})
    seen.judge(names, {}, {"q1": at(1), "q2": at(2), "q3": at(3)}, not_queued=set())
    assert seen.to_look_for(names) == set()
    seen.saw_running(names, {"other": at(0.5)})
    verdicts = seen.judge(names, {"other": at(0.5)}, {}, not_queued=set())
    assert sorted(verdicts.unfinished) == ["q2", "q3"]
    assert "q1" not in verdicts.unfinished + verdicts.ended  # left to its safety read
    assert verdicts.ended == []


def test_a_queued_job_the_frontier_passed_is_looked_for() -> None:
    """A job created before one seen running should have started: not running, it is
    looked for; absent from a whole QUEUED listing it may have ended."""
    seen = Sightings()
    names = ["q1", "q2"]
    seen.judge(names, {}, {"q1": at(1), "q2": at(2)}, not_queued=set())
    seen.saw_running(names, {"q2": at(2)})
    assert seen.to_look_for(names) == {"q1"}
    verdicts = seen.judge(names, {"q2": at(2)}, {}, not_queued={"q1"})
    assert verdicts.ended == ["q1"]
    assert verdicts.unfinished == ["q2"]


def test_a_presumed_queued_job_that_ended_puts_the_others_in_doubt() -> None:
    """When a job known only as QUEUED stops being awaited (its own read found it
    ended), every job known queued is looked for again at the next sweep."""
    seen = Sightings()
    names = ["q1", "q2", "q3"]
    seen.judge(names, {}, {n: at(i) for i, n in enumerate(names)}, not_queued=set())
    seen.forget_all_but(["q2", "q3"])
    assert seen.to_look_for(["q2", "q3"]) == {"q2", "q3"}
    assert seen.to_look_for(["q2", "q3"]) == set()  # once


def test_a_listing_past_a_running_job_that_did_not_show_it() -> None:
    """Newest first: once the listing reaches jobs older than a running one that it
    did not show, that job may have ended, before the last page."""
    seen = Sightings()
    names = ["new", "old"]
    listed = {"new": at(10), "old": at(1)}
    seen.saw_running(names, listed)
    seen.judge(names, listed, {}, not_queued=set())
    assert seen.passed_by({"x": at(20), "y": at(5)}, oldest=at(5), furthest=None) == ["new"]
    assert seen.passed_by({"new": at(10), "y": at(5)}, oldest=at(5), furthest=None) == []


def test_a_listing_past_a_running_job_created_in_the_same_instant() -> None:
    """Jobs created in one instant: a listing that shows a job the last one placed
    after a running job, and not that job, went past it; one that breaks the last
    listing's order is told apart (no place to go by)."""
    seen = Sightings()
    names = ["a", "b", "c", "d"]
    listed = {name: at(1) for name in ["other", *names]}
    seen.saw_running(names, listed)
    seen.judge(names, listed, {}, not_queued=set())
    page = ["new", "other", "b", "d"]  # "a" and "c" are gone
    furthest = seen.furthest(page)
    assert furthest == 4
    shown = dict.fromkeys(page, at(1))
    assert seen.passed_by(shown, oldest=at(1), furthest=furthest) == ["a", "c"]
    # Only "b" shown so far: "a" is behind it, "c" and "d" may be on the next page.
    assert seen.passed_by({"b": at(1)}, oldest=at(1), furthest=seen.furthest(["b"])) == ["a"]
    assert seen.furthest(["d", "b"]) is None  # out of the last listing's order
    assert seen.furthest(["b"], furthest=3) is None  # behind an earlier page's


def test_unknown_creation_times_fall_back_to_listing_queued() -> None:
    """Without CreationTime in the summaries nothing is inferred: a job known queued
    is looked for in every sweep."""
    seen = Sightings()
    seen.judge(["q"], {}, {"q": None}, not_queued=set())
    assert seen.to_look_for(["q"]) == {"q"}


def test_a_short_queue_is_looked_for_every_sweep() -> None:
    """A queued job may run between two sweeps unseen while nothing after it starts:
    while at most ``tail`` jobs are presumed queued, all are looked for."""
    seen = Sightings()
    names = ["q1", "q2", "q3"]
    seen.judge(names, {}, {"q1": at(1), "q2": at(2), "q3": at(3)}, not_queued=set())
    assert seen.to_look_for(names, tail=2) == set()
    assert seen.to_look_for(names, tail=3) == {"q1", "q2", "q3"}
    verdicts = seen.judge(names, {}, {"q2": at(2), "q3": at(3)}, not_queued={"q1"})
    assert verdicts.ended == ["q1"]
    assert sorted(verdicts.unfinished) == ["q2", "q3"]


def test_jobs_created_in_the_frontiers_instant_are_still_presumed_queued() -> None:
    """Jobs created in the same instant start in an order no listing shows: one of
    them seen running passes none of the others, so the backlog is not listed again."""
    seen = Sightings()
    names = [f"t{i}" for i in range(5)]
    seen.saw_running(names, {})
    seen.judge(names, {}, dict.fromkeys(names, at(1)), not_queued=set())
    seen.saw_running(names, {"t3": at(1)})
    assert seen.to_look_for(names) == set()
    verdicts = seen.judge(names, {"t3": at(1)}, {}, not_queued=set())
    assert sorted(verdicts.unfinished) == ["t1", "t2", "t3", "t4"]
    assert "t0" not in verdicts.unfinished + verdicts.ended  # its safety read, as behind any queue
