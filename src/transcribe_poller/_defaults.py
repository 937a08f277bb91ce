"""The Poller's option defaults by name, for code that reads one of them.

They are declared once, in ``_options.DEFAULT_OPTIONS``; these names follow it.
"""

from __future__ import annotations

from ._options import DEFAULT_OPTIONS, REQUEST_TIMEOUT

MAX_RATE = DEFAULT_OPTIONS["max_rate"]
NOT_FOUND_GRACE = DEFAULT_OPTIONS["not_found_grace"]
MAX_FAULTS = DEFAULT_OPTIONS["max_faults"]
UNREACHABLE_AFTER = DEFAULT_OPTIONS["unreachable_after"]
BUDGET = DEFAULT_OPTIONS["budget"]

__all__ = [
    "BUDGET",
    "MAX_FAULTS",
    "MAX_RATE",
    "NOT_FOUND_GRACE",
    "REQUEST_TIMEOUT",
    "UNREACHABLE_AFTER",
]
