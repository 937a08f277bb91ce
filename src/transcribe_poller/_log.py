"""Where the library's log lines go.

An application that configured structlog gets them through its own configuration.
One that did not would otherwise get structlog's default: every line, debug
included, printed to stdout among its own output. So, unconfigured, the lines go to
the standard library's ``logging`` logger ``"transcribe_poller"`` instead, rendered
as ``key=value`` text: silent below WARNING unless the application sets that
logger's level, and visible on stderr from WARNING up, as Python's logging does.

Either way every line passes :func:`scrub_secrets` first: a log line is text that
leaves the library, and a presigned URL's query string is a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from ._scrub import scrub

LOGGER_NAME = "transcribe_poller"

# How deep scrub_secrets looks into nested lists and dicts: enough for any value this
# library logs, and a bound on a value that contains itself.
_MAX_DEPTH = 8


def scrub_secrets(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: every string of the event, in lists, tuples and dicts
    too, scrubbed (:func:`~transcribe_poller._scrub.scrub`). Other values are left as
    they are: ``exc_info`` must stay an exception for the processors that render it."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _scrubbed(value, _MAX_DEPTH)
    return event_dict


def _scrubbed(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth <= 0:
        return value
    # Exact types only: a subclass (a named tuple, a read-only dict) is rebuilt
    # differently, and the library logs none.
    if type(value) in (list, tuple):
        return type(value)(_scrubbed(item, depth - 1) for item in value)
    if type(value) is dict:
        return {_scrubbed(k, depth - 1): _scrubbed(v, depth - 1) for k, v in value.items()}
    return value


def _exceptions_as_text(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Exceptions turned into their message, as the logfmt renderer prints them, so
    that scrub_secrets sees that text (``exc_info=error`` included)."""
    for key, value in list(event_dict.items()):
        if isinstance(value, BaseException):
            event_dict[key] = str(value)
    return event_dict


class _Scrubbed:
    """The application's processors with :func:`scrub_secrets` first, and again just
    before the last one (the renderer), for strings that a processor added on the way,
    such as a traceback rendered by ``format_exc_info``.

    It holds the configured list itself, as a logger bound by structlog does, and
    reads it on every line: a change made in place (``structlog.testing.capture_logs``
    does that) is seen, as it would be without this wrapper.
    """

    def __init__(self, processors: Iterable[Processor]) -> None:
        self._processors = processors

    def __iter__(self) -> Iterator[Processor]:
        yield scrub_secrets
        processors = list(self._processors)
        if processors:
            yield from processors[:-1]
            yield scrub_secrets
            yield processors[-1]

    def __repr__(self) -> str:
        return f"<scrubbed {self._processors!r}>"


def get_logger() -> Any:
    """A logger bound now, so that structlog's lazy proxy does not bind on every call."""
    if structlog.is_configured():
        return structlog.wrap_logger(
            None,  # the configured logger factory's logger, as structlog.get_logger()
            processors=_Scrubbed(structlog.get_config()["processors"]),
            logger_factory_args=(LOGGER_NAME,),
        ).bind()
    stdlib = logging.getLogger(LOGGER_NAME)
    return structlog.wrap_logger(
        stdlib,
        processors=[
            _exceptions_as_text,
            scrub_secrets,
            structlog.processors.LogfmtRenderer(key_order=["event"]),
        ],
        # Levels below the logger's own are dropped before any processing.
        wrapper_class=structlog.make_filtering_bound_logger(stdlib.getEffectiveLevel()),
    ).bind()
