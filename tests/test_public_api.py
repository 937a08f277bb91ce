"""The public surface stays small and deliberate."""

from __future__ import annotations

import transcribe_poller
import transcribe_poller.testing
from transcribe_poller import (
    _backoff,
    _client,
    _eventbridge,
    _events,
    _exceptions,
    _health,
    _jobs,
    _oneshot,
    _options,
    _poller,
    _stats,
    _sweep,
    _transcript,
)
from transcribe_poller.testing import (
    _account,
    _bed,
    _contract,
    _control,
    _fake,
    _fakequeue,
    _faults,
    _script,
)

EXPECTED = {
    "Backoff": _backoff.Backoff,
    "ClinicalDocument": _transcript.ClinicalDocument,
    "CompletionEvent": _events.CompletionEvent,
    "DEFAULT_OPTIONS": _options.DEFAULT_OPTIONS,
    "EventBridgeQueue": _eventbridge.EventBridgeQueue,
    "InvalidJobNameError": _exceptions.InvalidJobNameError,
    "JobKind": _jobs.JobKind,
    "JobLike": _jobs.JobLike,
    "JobRef": _jobs.JobRef,
    "KindStatistics": _stats.KindStatistics,
    "NotificationsError": _exceptions.NotificationsError,
    "Outcome": _events.Outcome,
    "Poller": _poller.Poller,
    "PollerClosedError": _exceptions.PollerClosedError,
    "PollerOptions": _options.PollerOptions,
    "PollerStatistics": _stats.PollerStatistics,
    "ServiceHealth": _health.ServiceHealth,
    "ServiceUnreachableError": _exceptions.ServiceUnreachableError,
    "Segment": _transcript.Segment,
    "Sweep": _sweep.Sweep,
    "TranscribeClient": _client.TranscribeClient,
    "TranscribePollerError": _exceptions.TranscribePollerError,
    "Transcript": _transcript.Transcript,
    "TranscriptError": _transcript.TranscriptError,
    "TranscriptUnavailableError": _exceptions.TranscriptUnavailableError,
    "StartRefusedError": _exceptions.StartRefusedError,
    "open_poller": _oneshot.open_poller,
    "wait_for_jobs": _oneshot.wait_for_jobs,
}
EXPECTED_TESTING = {
    "Concurrency": _account.Concurrency,
    "DEFAULT_CONCURRENCY": _account.DEFAULT_CONCURRENCY,
    "JobSpec": _script.JobSpec,
    "TranscribeDouble": _contract.TranscribeDouble,
    "Counts": _faults.Counts,
    "FakeEventQueue": _fakequeue.FakeEventQueue,
    "FakeTranscribe": _fake.FakeTranscribe,
    "JOBS_PATH": _control.JOBS_PATH,
    "job_spec": _control.job_spec,
    "Faults": _faults.Faults,
    "LocalTranscribe": _bed.LocalTranscribe,
    "Quota": _faults.Quota,
    "ScriptedJob": _script.ScriptedJob,
    "TrafficReport": _faults.TrafficReport,
}


def test_all_lists_exactly_the_public_names() -> None:
    """__all__ is exactly the names meant to be public, and nothing else is exported."""
    assert sorted(transcribe_poller.__all__) == sorted(EXPECTED)
    # (pytest rewrites the package, being a plugin, and adds "@py_*" names.)
    public = {n for n in dir(transcribe_poller) if n.isidentifier() and not n.startswith("_")}
    assert public - {"testing"} == set(EXPECTED)
    assert sorted(transcribe_poller.testing.__all__) == sorted(EXPECTED_TESTING)


def test_each_public_name_is_the_object_it_documents() -> None:
    """Every exported name is the very object defined in its private module."""
    for name, obj in EXPECTED.items():
        assert getattr(transcribe_poller, name) is obj, name
    for name, obj in EXPECTED_TESTING.items():
        assert getattr(transcribe_poller.testing, name) is obj, name


def test_the_version_matches_the_distribution() -> None:
    """__version__ is the installed distribution's version."""
    from importlib.metadata import version

    assert transcribe_poller.__version__ == version("transcribe-poller")


def test_options_are_declared_once() -> None:
    """Poller, open_poller and wait_for_jobs take the same options, PollerOptions, with
    the defaults of DEFAULT_OPTIONS: none of them spells an option out."""
    import inspect
    import typing

    from transcribe_poller import (
        DEFAULT_OPTIONS,
        Poller,
        PollerOptions,
        open_poller,
        wait_for_jobs,
    )

    assert set(typing.get_type_hints(PollerOptions)) == set(DEFAULT_OPTIONS)
    for function in (Poller.__init__, open_poller, wait_for_jobs):
        parameters = inspect.signature(function).parameters
        assert not set(parameters) & set(DEFAULT_OPTIONS), function
        assert parameters["options"].kind is inspect.Parameter.VAR_KEYWORD


def test_an_unknown_option_is_named() -> None:
    """A misspelt option is a TypeError naming it and the known ones."""
    import pytest

    from transcribe_poller import Poller
    from transcribe_poller.testing import FakeTranscribe

    with pytest.raises(
        TypeError, match=r"unexpected option 'max_rates'; the options are: .*budget"
    ):
        Poller(FakeTranscribe(), max_rates=3)  # type: ignore[call-arg]
