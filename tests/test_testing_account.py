"""The account both test doubles model: the concurrency cap per kind, FIFO, the listings."""

from __future__ import annotations

import inspect
import math
import random

import pytest

from transcribe_poller import JobKind
from transcribe_poller.testing import (
    DEFAULT_CONCURRENCY,
    FakeTranscribe,
    Faults,
    JobSpec,
    LocalTranscribe,
    TranscribeDouble,
)
from transcribe_poller.testing._account import Account, resolve_concurrency
from transcribe_poller.testing._control import FIELDS
from transcribe_poller.testing._eventwire import DEFAULT_EVENT_OPTIONS, EventOptions
from transcribe_poller.testing._fakequeue import FakeEventQueue
from transcribe_poller.testing._faults import (
    DEFAULT_FAULT_OPTIONS,
    FaultOptions,
    Gate,
    Verdict,
    decide,
    make_faults,
)


def started(account: Account, name: str, at: float, duration: float, **kwargs: object) -> JobSpec:
    spec = JobSpec(name, duration=duration, queued_for=0, **kwargs)  # type: ignore[arg-type]
    account.add(spec.script(at))
    return spec


def test_default_caps_are_aws_quotas() -> None:
    """250 standard, medical and Medical Scribe jobs at once; 100 Call Analytics."""
    assert resolve_concurrency(DEFAULT_CONCURRENCY) == {
        JobKind.STANDARD: 250,
        JobKind.MEDICAL: 250,
        JobKind.CALL_ANALYTICS: 100,
        JobKind.MEDICAL_SCRIBE: 250,
    }
    assert resolve_concurrency(3) == dict.fromkeys(JobKind, 3)
    assert resolve_concurrency(None) == dict.fromkeys(JobKind)
    caps = resolve_concurrency({"medical": 5, JobKind.CALL_ANALYTICS: None})
    assert caps[JobKind.MEDICAL] == 5
    assert caps[JobKind.CALL_ANALYTICS] is None
    assert caps[JobKind.STANDARD] == 250


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, "concurrency must be at least 1"),
        (True, TypeError, "concurrency must be an int"),
        ("5", TypeError, "concurrency must be an int"),
        ({"analytics": 3}, ValueError, "concurrency: unknown kind 'analytics'"),
        ({"medical": 0}, ValueError, "concurrency: .*medical jobs must be at least 1"),
        ({"medical-scribe": 2.5}, TypeError, "concurrency: .*medical-scribe jobs must be an int"),
    ],
)
def test_bad_concurrency_names_the_argument_and_the_kind(
    value: object, error: type[Exception], match: str
) -> None:
    """A bad cap raises at construction, naming concurrency and the kind at fault."""
    with pytest.raises(error, match=match):
        FakeTranscribe(concurrency=value)  # type: ignore[arg-type]


def test_jobs_beyond_the_cap_wait_first_in_first_out() -> None:
    """With 2 slots, the third job gets the first slot to free and runs its whole
    script from then; the fourth the next one; terminal_at is the real end."""
    account = Account(2)
    started(account, "a", 0, duration=10)
    started(account, "b", 1, duration=4)
    started(account, "c", 2, duration=3)
    started(account, "d", 3, duration=1)
    c, d = account.get(JobKind.STANDARD, "c"), account.get(JobKind.STANDARD, "d")
    assert c is not None
    assert d is not None
    assert (c.started_at, c.slot_at, c.terminal_at) == (2, 5, 8)  # b ends at 5
    assert (d.slot_at, d.terminal_at) == (8, 9)  # c ends at 8, before a at 10
    assert c.status_at(4.9) == "QUEUED"
    assert c.status_at(5) == "IN_PROGRESS"
    assert d.status_at(8) == "IN_PROGRESS"
    assert account.load(JobKind.STANDARD, 3) == (2, 2)
    assert account.load(JobKind.STANDARD, 6) == (2, 1)
    assert account.at_cap(JobKind.STANDARD, 6)
    assert account.load(JobKind.STANDARD, 9.5) == (1, 0)
    assert not account.at_cap(JobKind.STANDARD, 9.5)


def test_each_kind_has_its_own_queue() -> None:
    """A full standard queue does not hold back a medical job, and without a cap
    nothing waits."""
    account = Account({"standard": 1, "medical": None})
    started(account, "a", 0, duration=10)
    started(account, "b", 0, duration=10)
    account.add(JobSpec("a", kind="medical", duration=10).script(0))
    assert account.get(JobKind.STANDARD, "b").slot_at == 10  # type: ignore[union-attr]
    assert account.get(JobKind.MEDICAL, "a").slot_at == 0  # type: ignore[union-attr]
    assert not account.at_cap(JobKind.MEDICAL, 0)


def test_queued_for_runs_from_the_slot() -> None:
    """A script's QUEUED phase starts when the job gets its slot, and StartTime with it."""
    account = Account(1)
    account.add(JobSpec("a", duration=10, queued_for=0).script(0))
    late = JobSpec("b", duration=8, queued_for=2).script(1)
    account.add(late)
    assert (late.runs_from, late.in_progress_at, late.terminal_at) == (10, 12, 18)
    assert late.status_at(11.9) == "QUEUED"


def test_under_the_cap_nothing_changes() -> None:
    """With the default caps and fewer jobs, each job runs from its start, as before."""
    account = Account()
    for i in range(249):
        started(account, f"j{i}", i * 0.1, duration=1000)
    script = account.get(JobKind.STANDARD, "j248")
    assert script is not None
    assert script.runs_from == script.started_at


def test_a_name_in_use_is_refused() -> None:
    """The same name twice in one kind is refused; in another kind it is another job."""
    account = Account()
    started(account, "a", 0, duration=1)
    with pytest.raises(KeyError, match="standard job named 'a' exists"):
        started(account, "a", 1, duration=1)
    account.add(JobSpec("a", kind="medical").script(1))


def test_listings_match_a_full_sort_at_every_time() -> None:
    """Each status's listing, kept incrementally, is what sorting every job gives:
    newest first, then by name, with the status each job reads at that time."""
    rng = random.Random(7)
    account = Account(5)
    scripts = []
    for i in range(200):
        spec = JobSpec(f"j{rng.randrange(1000):03d}-{i}", duration=rng.uniform(0, 30))
        scripts.append(spec.script(float(i // 3)))  # three jobs share each start time
        account.add(scripts[-1])
    for now in (0.0, 5.5, 20.0, 66.0, 300.0, 2000.0):
        for status in ("QUEUED", "IN_PROGRESS", "COMPLETED"):
            expected = sorted(
                (-s.started_at, s.name) for s in scripts if s.status_at(now) == status
            )
            got = [key for key, _, _ in account.listing(JobKind.STANDARD, now, status=status)]
            assert got == expected, (now, status)
        everything = list(account.listing(JobKind.STANDARD, now))
        assert [key for key, _, _ in everything] == sorted((-s.started_at, s.name) for s in scripts)
        assert all(status == script.status_at(now) for _, script, status in everything)


def test_listing_resumes_after_a_key() -> None:
    """A listing from a key starts just after it, whatever changed meanwhile."""
    account = Account(None)
    for i in range(10):
        started(account, f"j{i}", float(i), duration=100)
    first = [key for key, _, _ in account.listing(JobKind.STANDARD, 50, status="IN_PROGRESS")]
    after = first[3]
    rest = account.listing(JobKind.STANDARD, 50, status="IN_PROGRESS", after=after)
    assert [key for key, _, _ in rest] == first[4:]


def test_decide_is_one_order_for_both_doubles() -> None:
    """Denied beats throttled beats the random shares: drop, then hang, then error."""
    faults = Faults(
        denied=frozenset({"ListTranscriptionJobs"}),
        drop_rate=0.2,
        hang_rate=0.3,
        error_rate=0.1,
        retry_after=2,
    )
    deny = decide(faults, "ListTranscriptionJobs", within_quota=False, roll=0.0)
    assert (deny.verdict, deny.status, deny.code) == (Verdict.DENY, 400, "AccessDeniedException")
    throttle = decide(faults, "GetTranscriptionJob", within_quota=False, roll=0.0)
    assert (throttle.verdict, throttle.code, throttle.retry_after) == (
        Verdict.THROTTLE,
        "LimitExceededException",
        2,
    )
    verdicts = [
        decide(faults, "GetTranscriptionJob", within_quota=True, roll=roll).verdict
        for roll in (0.0, 0.19, 0.2, 0.49, 0.5, 0.59, 0.6, 0.99)
    ]
    assert (
        verdicts
        == [Verdict.DROP] * 2 + [Verdict.HANG] * 2 + [Verdict.ERROR] * 2 + [Verdict.PASS] * 2
    )
    error = decide(faults, "GetTranscriptionJob", within_quota=True, roll=0.55)
    assert (error.status, error.code) == (500, "InternalFailureException")


def test_gate_spends_no_token_on_a_denied_request() -> None:
    """A denied operation neither takes a token of its quota nor a random draw."""
    gate = Gate(make_faults(quota=1, denied=["GetTranscriptionJob"], seed=1))
    assert gate.admit("GetTranscriptionJob", 0).verdict is Verdict.DENY
    assert gate.admit("ListTranscriptionJobs", 0).verdict is Verdict.PASS
    assert gate.admit("ListTranscriptionJobs", 0).verdict is Verdict.THROTTLE


def test_hang_rate_is_checked_with_the_other_shares() -> None:
    """hang_rate is a share, and the shares together may not exceed 1."""
    with pytest.raises(ValueError, match="hang_rate must be a fraction"):
        Faults(hang_rate=1.5)
    with pytest.raises(ValueError, match="error_rate \\+ drop_rate \\+ hang_rate"):
        make_faults(drop_rate=0.5, hang_rate=0.6)


def test_both_doubles_keep_one_contract(local_transcribe: LocalTranscribe) -> None:
    """FakeTranscribe and LocalTranscribe satisfy one Protocol, with the same
    signatures (what they do is tests/test_contract.py's), and start_job's fields
    are JobSpec's, as the control endpoint's are."""
    fake: TranscribeDouble = FakeTranscribe()
    bed: TranscribeDouble = local_transcribe
    assert isinstance(fake, TranscribeDouble)
    assert isinstance(bed, TranscribeDouble)
    members = [
        name
        for name in dir(TranscribeDouble)
        if not name.startswith("_") and name not in dir(object)
    ]
    assert {
        "start_job",
        "set_faults",
        "script",
        "scripts",
        "outage",
        "traffic",
        "reset",
        "client",
        "now",
        "enable_events",
        "sqs_client",
    } <= set(members)
    for name in members:
        ours, theirs = getattr(FakeTranscribe, name), getattr(LocalTranscribe, name)
        if callable(ours):
            # The same parameters; what each returns is its own (its own client).
            assert inspect.signature(ours).parameters == inspect.signature(theirs).parameters, name
            protocol = inspect.signature(getattr(TranscribeDouble, name))
            assert list(inspect.signature(ours).parameters) == list(protocol.parameters), name
    start = inspect.signature(FakeTranscribe.start_job).parameters
    spec_fields = list(inspect.signature(JobSpec).parameters)
    assert list(start)[1:] == spec_fields
    assert tuple(spec_fields) == FIELDS
    for name in spec_fields[1:]:
        assert start[name].default == inspect.signature(JobSpec).parameters[name].default


def test_fault_and_event_options_are_declared_once() -> None:
    """set_faults and enable_events spell no option out: each takes **options of one
    TypedDict, whose names are exactly those its defaults give."""
    import typing

    assert set(typing.get_type_hints(FaultOptions)) == set(DEFAULT_FAULT_OPTIONS)
    assert set(typing.get_type_hints(EventOptions)) == set(DEFAULT_EVENT_OPTIONS)
    takers = {
        FakeTranscribe.set_faults: DEFAULT_FAULT_OPTIONS,
        LocalTranscribe.set_faults: DEFAULT_FAULT_OPTIONS,
        make_faults: DEFAULT_FAULT_OPTIONS,
        FakeTranscribe.enable_events: DEFAULT_EVENT_OPTIONS,
        LocalTranscribe.enable_events: DEFAULT_EVENT_OPTIONS,
        FakeEventQueue.__init__: DEFAULT_EVENT_OPTIONS,
    }
    for function, defaults in takers.items():
        parameters = inspect.signature(function).parameters
        assert not set(parameters) & set(defaults), function
        assert parameters["options"].kind is inspect.Parameter.VAR_KEYWORD, function
    with pytest.raises(TypeError, match="unexpected fault option 'quotas'; the options are"):
        make_faults(quotas=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected event option 'lost'"):
        FakeTranscribe().enable_events(lost=0.5)  # type: ignore[call-arg]


def test_terminal_at_is_never_unknown() -> None:
    """A job far back in the queue already knows when it ends."""
    account = Account(1)
    for i in range(100):
        started(account, f"j{i}", 0, duration=2)
    last = account.get(JobKind.STANDARD, "j99")
    assert last is not None
    assert last.terminal_at == 200
    assert math.isfinite(last.terminal_at)
