"""Telling our own cancellation from a CancelledError a client raised by itself.

A client may raise ``asyncio.CancelledError`` though nobody cancelled anything (some
libraries turn an internal timeout into one, or cancel their own task). Let through,
it would cancel the task group that holds the poller, which lives in the caller's
task. So every request's caller asks :func:`really_cancelled` before re-raising: a
cancellation no scope asked for is a fault of that request, like any other.
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel


async def really_cancelled() -> bool:
    """Whether a cancellation caught now was asked for (by a scope or ``task.cancel()``),
    rather than raised by the client's own code."""
    if anyio.get_cancelled_exc_class() is not asyncio.CancelledError:
        return True  # trio's Cancelled cannot be raised by anyone but trio
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None:  # Python 3.11+: counts the cancel() calls not undone
        return bool(cancelling() > 0)
    # Python 3.10: an anyio scope that was cancelled cancels again at a checkpoint.
    try:
        await anyio.lowlevel.checkpoint_if_cancelled()
    except asyncio.CancelledError:
        return True
    return False


def is_foreign_cancellation(error: BaseException) -> bool:
    """asyncio's CancelledError met while running on another backend (trio): raised by
    a client, since trio cancels with its own exception."""
    return isinstance(error, asyncio.CancelledError)
