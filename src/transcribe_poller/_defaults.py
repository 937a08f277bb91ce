"""The Poller's option defaults, declared once.

``Poller``, ``open_poller``, ``wait_for_jobs`` and the command line all take these
options; each names its defaults from here, so they cannot drift apart.
"""

from __future__ import annotations

MAX_RATE = 25.0
"""Requests per second per Get operation: below AWS's default quota of 30."""

NOT_FOUND_GRACE = 5.0
"""Seconds a job may stay unknown before NOT_FOUND: a job just started may not show yet."""

MAX_FAULTS: int | None = None
"""Transient faults of one job in a row before it ends with ERROR: None, never."""

UNREACHABLE_AFTER = 15.0
"""Seconds of failed connections, with no request ever answered, before giving up."""

REQUEST_TIMEOUT = 20.0
"""Seconds without an answer after which a request is abandoned, as a transient fault."""

BUDGET = 0.8
"""Requests per second each kind with pending jobs spends on ordinary looks."""
