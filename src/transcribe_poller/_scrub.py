"""Cutting credentials out of text before it leaves the library.

The query string of a presigned URL (``X-Amz-Signature``, ``X-Amz-Credential``,
``X-Amz-Security-Token``) is a credential. Text from the service or from an error
(a FailureReason, an error message, a repr) may hold such URLs in many forms: with
or without a scheme, JSON-escaped (``https:\\/\\/host\\/key?…\\u0026…``) or
percent-encoded (``https%3A%2F%2Fhost%2Fkey%3F…``). :func:`scrub` cuts the query
string of each and keeps the rest, so that the reader still sees which object it was.

Linear time by construction, since the text may be large and comes from outside:

- the text is split into tokens (runs of characters that cannot end a URL) by one
  pattern that is tried only where a token starts, and only the tokens holding a
  ``?`` (in any form) or an ``X-Amz-`` reach Python;
- in a token, each pattern below does a bounded amount of work at each position
  (bounded repeats, or a repeat over one label that only one position reaches), and
  each is run at most once over the token.
"""

from __future__ import annotations

import re

# What replaces a cut query string, as before this module existed.
CUT = "?…"
# What replaces the value of a signing parameter found outside a URL.
CUT_VALUE = "…"

# Characters that end a URL in prose, a repr, logfmt or JSON. ``#`` starts a
# fragment, which is no credential.
_END = r"\s'\"<>#"

# A token that holds a query start (``?``, ``%3F``, double-encoded ``%253F``, or the
# JSON escape ``\u003f``) or a signing parameter. The lookbehind lets the match start
# only where a token starts: a token is scanned once, not once per character.
_TOKEN = re.compile(
    rf"(?<![^{_END}])[^{_END}]*?(?:\?|%(?:25)?3F|\\u003F|X-Amz-)[^{_END}]*",
    re.IGNORECASE,
)

# Where a URL shows itself. A scheme's ``://``, plain, JSON-escaped (``:\/\/``, or
# ``:\\/\\/`` in a repr of JSON) or percent-encoded; or a host name with a dot followed
# by a slash (``bucket.s3.amazonaws.com/key``, ``s3.us-east-1.amazonaws.com/b/k``).
# For a host only its last ``x.label`` is matched: a match starts only right before a
# dot and scans one label, so every position costs little.
_SCHEME = re.compile(r":(?:\\{0,8}/){2}|%(?:25)?3A%(?:25)?2F%(?:25)?2F", re.IGNORECASE)
_HOST = re.compile(
    r"[A-Za-z0-9-]\.[A-Za-z0-9-]+(?::[0-9]{1,5})?(?:\\{0,8}/|%(?:25)?2F)", re.IGNORECASE
)
_QUERY_START = re.compile(r"\?|%(?:25)?3F|\\u003F", re.IGNORECASE)

# The backstop: a signing parameter anywhere, URL or not, with ``=`` plain or
# percent-encoded (once or twice). Its value runs to the next parameter separator
# (``&``, ``%26``, ``%2526``, ``\u0026``) or the token's end; the three alternatives
# are disjoint, so the repeat never backtracks.
_PARAM = re.compile(
    r"(X-Amz-(?:Signature|Credential|Security-Token)(?:=|%(?:25)?3D))"
    r"(?:[^&%\\]|%(?!(?:25)?26)|\\(?!u0026))*",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """``text`` with the query string of every URL in it cut out (``?…`` left), and the
    value of every ``X-Amz-Signature``, ``X-Amz-Credential`` and
    ``X-Amz-Security-Token`` parameter replaced by ``…``. Paths are kept; a text
    without either is returned unchanged. Idempotent, and linear in ``len(text)``."""
    return _TOKEN.sub(_scrub_token, text)


def _scrub_token(match: re.Match[str]) -> str:
    token = match.group()
    start = _url_start(token)
    if start >= 0:
        query = _QUERY_START.search(token, start)
        # An empty query is no secret: "is it at host.com/key?" stays as it is.
        if query is not None and query.end() < len(token):
            token = token[: query.start()] + CUT
    if _PARAM.search(token) is None:
        return token  # the common case, and a search costs less than a sub
    return _PARAM.sub(rf"\1{CUT_VALUE}", token)


def _url_start(token: str) -> int:
    """Where the first URL in ``token`` is known to be one (past its ``://`` or its
    host's slash), or -1. A query string starts after that point, never before."""
    scheme = _SCHEME.search(token)
    host = _HOST.search(token)
    if scheme is None:
        return -1 if host is None else host.end()
    return scheme.end() if host is None else min(scheme.end(), host.end())
