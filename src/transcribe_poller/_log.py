"""Where the library's log lines go.

An application that configured structlog gets them through its own configuration.
One that did not would otherwise get structlog's default: every line, debug
included, printed to stdout among its own output. So, unconfigured, the lines go to
the standard library's ``logging`` logger ``"transcribe_poller"`` instead, rendered
as ``key=value`` text: silent below WARNING unless the application sets that
logger's level, and visible on stderr from WARNING up, as Python's logging does.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

LOGGER_NAME = "transcribe_poller"


def get_logger() -> Any:
    """A logger bound now, so that structlog's lazy proxy does not bind on every call."""
    if structlog.is_configured():
        return structlog.get_logger(LOGGER_NAME).bind()
    stdlib = logging.getLogger(LOGGER_NAME)
    return structlog.wrap_logger(
        stdlib,
        processors=[structlog.processors.LogfmtRenderer(key_order=["event"])],
        # Levels below the logger's own are dropped before any processing.
        wrapper_class=structlog.make_filtering_bound_logger(stdlib.getEffectiveLevel()),
    ).bind()
