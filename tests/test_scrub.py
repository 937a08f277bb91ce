"""The scrubber: every form of a presigned URL loses its query string, nothing else changes."""

from __future__ import annotations

import json
import random
from urllib.parse import quote

import pytest

from transcribe_poller._classify import scrub as scrub_in_classify
from transcribe_poller._events import strip_query
from transcribe_poller._scrub import scrub

# The three values that must never leave: distinct, so a leak names its parameter.
SIGNATURE = "5e1f0c9d0badc0de5e1f0c9d"
CREDENTIAL = "AKIAEXAMPLEKEYID"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE"
SECRETS = (SIGNATURE, CREDENTIAL, TOKEN)

QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={CREDENTIAL}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900"
    f"&X-Amz-Security-Token={TOKEN}%2B%2Fab%3D"
    "&X-Amz-SignedHeaders=host"
    f"&X-Amz-Signature={SIGNATURE}"
)
HOST = "bucket.s3.us-east-1.amazonaws.com"
PLAIN = f"https://{HOST}/out/job.json?{QUERY}"
# What the bare parameters become: only the three signing values go.
QUERY_CUT = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=20240101T000000Z"
    "&X-Amz-Expires=900&X-Amz-Security-Token=…&X-Amz-SignedHeaders=host&X-Amz-Signature=…"
)


def json_escaped(text: str) -> str:
    """``text`` as a JSON encoder that escapes ``/`` and ``&`` writes it (Go's does)."""
    return text.replace("/", "\\/").replace("&", "\\u0026")


# Each form of a presigned URL (or of its parameters alone), and what scrub leaves.
FORMS: dict[str, tuple[str, str]] = {
    "scheme": (PLAIN, f"https://{HOST}/out/job.json?…"),
    "s3 scheme": (f"s3://bucket/out/job.json?{QUERY}", "s3://bucket/out/job.json?…"),
    "virtual host, no scheme": (
        f"bucket.s3.amazonaws.com/out/job.json?{QUERY}",
        "bucket.s3.amazonaws.com/out/job.json?…",
    ),
    "path style, no scheme": (
        f"s3.us-east-1.amazonaws.com/bucket/out/job.json?{QUERY}",
        "s3.us-east-1.amazonaws.com/bucket/out/job.json?…",
    ),
    "host with port, no scheme": (
        f"s3.example.internal:9000/bucket/k.json?{QUERY}",
        "s3.example.internal:9000/bucket/k.json?…",
    ),
    "json escaped": (json_escaped(PLAIN), f"https:\\/\\/{HOST}\\/out\\/job.json?…"),
    "json escaped, no scheme": (
        json_escaped(f"{HOST}/out/job.json?{QUERY}"),
        f"{HOST}\\/out\\/job.json?…",
    ),
    "json escaped question mark": (
        PLAIN.replace("?", "\\u003f"),
        f"https://{HOST}/out/job.json?…",
    ),
    "percent encoded": (
        quote(PLAIN, safe=""),
        f"https%3A%2F%2F{HOST}%2Fout%2Fjob.json?…",
    ),
    "percent encoded twice": (
        quote(quote(PLAIN, safe=""), safe=""),
        f"https%253A%252F%252F{HOST}%252Fout%252Fjob.json?…",
    ),
    "bare parameters": (QUERY, QUERY_CUT),
    "bare parameters, lower case": (QUERY.lower(), QUERY_CUT.lower()),
    "bare parameters, percent encoded": (
        quote(QUERY, safe=""),
        quote(QUERY_CUT, safe="").replace(quote("…"), "…"),
    ),
    "bare parameters, json escaped": (json_escaped(QUERY), json_escaped(QUERY_CUT)),
}

# Where such a text shows up: prose, a repr, JSON, logfmt, markup, lines.
CONTEXTS = (
    "{}",
    "The media file at {} could not be read. Check it and try again.",
    "uri='{}'",
    '{{"uri": "{}", "n": 1}}',
    "event=failed uri={} polls=3",
    "<a href={}>here</a>",
    "first line\n\t{}\nlast line",
)


def leaked(text: str) -> list[str]:
    """The secret values (in any case) still in ``text``."""
    return [secret for secret in SECRETS if secret.lower() in text.lower()]


@pytest.mark.parametrize("form", FORMS)
def test_each_form_loses_its_query_and_keeps_its_path(form: str) -> None:
    """Each form is cut to its path (or its parameter names) and ``?…``."""
    text, expected = FORMS[form]
    assert leaked(text)  # the case holds secrets to begin with
    assert scrub(text) == expected


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("form", FORMS)
def test_each_form_is_cut_wherever_it_stands(form: str, context: str) -> None:
    """Within prose, quotes, JSON, logfmt, markup or lines, only the query goes."""
    text, expected = FORMS[form]
    scrubbed = scrub(context.format(text))
    assert not leaked(scrubbed)
    assert scrubbed == context.format(expected)


@pytest.mark.parametrize("form", FORMS)
def test_scrub_is_idempotent(form: str) -> None:
    """A scrubbed text is left as it is."""
    once = scrub(FORMS[form][0])
    assert scrub(once) == once


def test_scrub_is_idempotent_on_random_mixtures() -> None:
    """Scrubbing twice equals scrubbing once on 3000 random mixtures of URL pieces."""
    pieces = [
        *(text for text, _ in FORMS.values()),
        *"?/.:&#\\'\" \n%=…",
        "a.b",
        "a.b/",
        "://",
        ":\\/\\/",
        "%3F",
        "%3A%2F%2F",
        "%2F",
        "%26",
        "\\u0026",
        "\\u003f",
        "?…",
        "X-Amz-Signature=",
        "x-amz-credential%3D",
        "host",
        "é",
    ]
    rng = random.Random(22)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        once = scrub(text)
        assert scrub(once) == once, text


def test_several_urls_in_one_text_keep_their_own_paths() -> None:
    """Two URLs in a text: each loses its own query, both paths stay."""
    text = f"read {PLAIN} then s3.amazonaws.com/b/two.json?X-Amz-Signature=ab12 and stop"
    assert scrub(text) == (
        f"read https://{HOST}/out/job.json?… then s3.amazonaws.com/b/two.json?… and stop"
    )


def test_a_fragment_survives_the_cut() -> None:
    """The fragment after a query is no credential and stays."""
    assert scrub("https://h.example/p?X-Amz-Signature=ab#part-2") == "https://h.example/p?…#part-2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The requested job couldn't be found. Check the job name and try your request again.",
        "Is it done? Yes. Why? Because the audio was 3.5 s long (ratio 3/4).",
        "e.g. a.b/c? no: see section 2.1/3? later",
        "https://example.com/path/file.json",
        "s3://bucket/key.json and https://h.example/p#frag",
        "https://h.example/p? is a URL with an empty query",
        "X-Amz-Date=20240101T000000Z&X-Amz-Expires=900",
        "time 10:30:00, C:\\dir\\file.txt, a:b:c, ./relative/path?",
        '{"status": "FAILED", "reason": "Unsupported media format."}',
        "naïve café résumé… ¿qué? 日本語のテキスト",
        "Bad JSON: {'a': [1, 2, 3]} <tag attr='v'> #hash ?? ?!",
    ],
)
def test_text_without_a_secret_is_unchanged(text: str) -> None:
    """Prose, paths, queryless URLs and harmless parameters come out as they went in."""
    assert scrub(text) == text


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "adversarial",
    [
        "a." * 500_000 + "/?",
        "a." * 500_000 + "?x",
        "://" * 333_333 + "?",
        ":\\/" * 333_333,
        "x?" * 500_000,
        "a? " * 333_333,
        "a.b/" * 250_000 + "?x",
        "%3A%2F%2F" * 111_111 + "%3F",
        "%3A%2F" * 166_666,
        "\\" * 1_000_000 + "?",
        "a" * 1_000_000 + "?x",
        "X-Amz-Signature=" * 62_500,
        "X-Amz-Signature%" * 62_500,
        "X-Amz-Signature=" + "\\u002" * 200_000,
        "https://h.example/p?" + "&" * 1_000_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_scrub_is_linear_on_a_megabyte_of_adversarial_text(adversarial: str) -> None:
    """1 MB built to make a backtracking regex quadratic: done well within the timeout.

    Each pattern does bounded work per position, so these take well under a second;
    a quadratic scan of 1 MB would take hours, so the timeout cannot flake."""
    once = scrub(adversarial)
    assert scrub(once) == once


def test_classify_uses_the_same_scrubber() -> None:
    """``_classify.scrub``, imported by older code, is this scrubber."""
    assert scrub_in_classify is scrub


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (None, None),
        ("s3://bucket/key.json", "s3://bucket/key.json"),
        (PLAIN, f"https://{HOST}/out/job.json"),
        (quote(PLAIN, safe=""), f"https%3A%2F%2F{HOST}%2Fout%2Fjob.json"),
        (json_escaped(PLAIN), f"https:\\/\\/{HOST}\\/out\\/job.json"),
    ],
)
def test_strip_query_leaves_the_bare_uri(uri: str | None, expected: str | None) -> None:
    """strip_query drops the query (plain, encoded or escaped) and the ``?`` itself."""
    assert strip_query(uri) == expected


def test_json_of_a_scrubbed_text_holds_no_secret() -> None:
    """A text scrubbed then JSON-encoded still holds none of the values."""
    assert not leaked(json.dumps(scrub(f"failed: {PLAIN}")))
