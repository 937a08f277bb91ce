"""Job references and the service's naming rule."""

from __future__ import annotations

import pytest

from transcribe_poller import InvalidJobNameError, JobKind, JobRef, TranscribePollerError
from transcribe_poller._jobs import as_job_refs


@pytest.mark.parametrize("name", ["a", "A.b_c-9", "x" * 200])
def test_valid_names_are_accepted(name: str) -> None:
    """Names of 1 to 200 characters of [0-9a-zA-Z._-] are valid."""
    assert JobRef(name).name == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("x" * 201, "201 characters"),
        ("has space", "' '"),
        ("slash/name", "'/'"),
        ("ünïcode", "'ï"),
    ],
)
def test_invalid_names_raise_naming_the_job(name: str, reason: str) -> None:
    """An invalid name is both a ValueError and a TranscribePollerError, and names the job."""
    with pytest.raises(InvalidJobNameError) as caught:
        JobRef(name)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TranscribePollerError)
    assert repr(name)[:30] in str(caught.value)
    assert reason in str(caught.value)


def test_kinds_and_constructors() -> None:
    """A standard and a medical job with one name are different, hashable jobs."""
    assert JobRef.standard("a") == JobRef("a") == JobRef("a", "standard")  # type: ignore[arg-type]
    assert JobRef.medical("a") != JobRef.standard("a")
    assert len({JobRef.medical("a"), JobRef.standard("a"), JobRef("a")}) == 2
    assert JobRef.medical("a").kind is JobKind.MEDICAL
    with pytest.raises(ValueError, match="unknown kind 'dental'"):
        JobRef("a", "dental")  # type: ignore[arg-type]


def test_job_lists_take_strings_as_standard_and_drop_repeats() -> None:
    """A plain str is a standard job; repeats collapse, order is kept."""
    refs = as_job_refs(["b", JobRef.medical("b"), "a", JobRef("b")])
    assert refs == [JobRef("b"), JobRef.medical("b"), JobRef("a")]
    assert as_job_refs("solo") == [JobRef("solo")]
    with pytest.raises(TypeError, match="got int"):
        as_job_refs([1])  # type: ignore[list-item]


def test_a_kind_of_the_wrong_type_is_a_type_error() -> None:
    """JobRef's kind must be a JobKind or its value: anything else is a TypeError."""
    with pytest.raises(TypeError, match="kind must be a JobKind"):
        JobRef("a", kind=5)  # type: ignore[arg-type]
