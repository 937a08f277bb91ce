"""The test bed's control endpoint: job specs from JSON are checked, naming the field."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from transcribe_poller.testing import LocalTranscribe
from transcribe_poller.testing._control import FIELDS, SPEC_DEFAULTS, job_spec


def test_spec_defaults_are_start_jobs_defaults() -> None:
    """A field left out of the JSON means what leaving out start_job's argument means."""
    parameters = inspect.signature(LocalTranscribe.start_job).parameters
    assert tuple(name for name in parameters if name != "self") == FIELDS
    for field, default in SPEC_DEFAULTS.items():
        assert default == parameters[field].default or (
            tuple(default) == tuple(parameters[field].default)
        ), field


def test_a_full_spec_is_accepted() -> None:
    """Every field given: returned as start_job's keyword arguments."""
    payload = {
        "name": "call-1",
        "kind": "standard",
        "duration": 3,
        "queued_for": 1,
        "fail_with": None,
        "redaction": "redacted",
        "subtitles": ["vtt", "srt"],
        "content_identification": False,
        "output_bucket": "my-bucket",
        "transcript": "Thank you for calling.",
        "speakers": 2,
        "channels": 0,
    }
    assert job_spec(payload) == payload
    assert job_spec({"name": "m", "kind": "medical"}) == {
        **SPEC_DEFAULTS,
        "name": "m",
        "kind": "medical",
    }
    ca = {"name": "c", "kind": "call-analytics", "redaction": "redacted_and_unredacted"}
    assert job_spec(ca) == {**SPEC_DEFAULTS, **ca}
    assert job_spec({"name": "s", "kind": "medical-scribe"})["kind"] == "medical-scribe"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (["call-1"], 'a job must be a JSON object, got ["call-1"]'),
        ({"duration": 3}, "field 'name' is required"),
        ({"name": "x", "durration": 3}, "unknown field 'durration'; the fields are name, kind"),
        ({"name": "a b"}, "name: invalid job name 'a b'"),
        ({"name": 7}, "name: invalid job name 7: must be a str"),
        (
            {"name": "x", "kind": "dental"},
            "kind must be one of 'standard', 'medical', 'call-analytics', 'medical-scribe', "
            "got 'dental'",
        ),
        ({"name": "x", "duration": -1}, "duration must be finite and >= 0, got -1"),
        ({"name": "x", "duration": "5"}, "duration must be a number of seconds, got '5'"),
        ({"name": "x", "duration": 1, "queued_for": 2}, "queued_for (2.0) must not exceed"),
        ({"name": "x", "fail_with": ""}, "fail_with must be a non-empty failure reason, got ''"),
        ({"name": "x", "redaction": "yes"}, "redaction must be one of"),
        ({"name": "x", "kind": "medical", "redaction": "redacted"}, "medical jobs have no"),
        (
            {"name": "x", "kind": "medical-scribe", "redaction": "redacted"},
            "medical-scribe jobs have no redacted transcript",
        ),
        (
            {"name": "x", "kind": "call-analytics", "subtitles": ["vtt"]},
            "subtitles apply to standard jobs only",
        ),
        (
            {"name": "x", "subtitles": "vtt"},
            "subtitles must be a list such as [\"vtt\"], got 'vtt'",
        ),
        ({"name": "x", "subtitles": ["txt"]}, "subtitles must hold 'vtt' or 'srt', got 'txt'"),
        ({"name": "x", "content_identification": "no"}, "content_identification must be true"),
        ({"name": "x", "output_bucket": 5}, "output_bucket must be a bucket name, got 5"),
    ],
)
def test_bad_specs_name_the_field_and_value(payload: Any, message: str) -> None:
    """Each mistake is refused with a message naming the field and the value."""
    with pytest.raises(ValueError, match=re.escape(message)):
        job_spec(payload)
