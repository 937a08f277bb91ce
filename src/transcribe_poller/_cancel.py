"""Telling our own cancellation from a CancelledError a client raised by itself.

A client may raise ``asyncio.CancelledError`` though nobody cancelled anything (some
libraries turn an internal timeout into one, or cancel their own task). Let through,
it would cancel the task group that holds the poller, which lives in the caller's
task. So every request's caller asks :func:`really_cancelled` before re-raising: a
cancellation no scope asked for is a fault of that request, like any other.
"""

from __future__ import annotations

import asyncio
import math

import anyio
import anyio.lowlevel


async def really_cancelled(*, own_task: bool = True) -> bool:
    """Whether a cancellation caught now was asked for, rather than raised by the
    client's own code.

    In a task the poller owns (its workers, sweeps, queue consumer) only the
    poller's cancel scopes cancel anything, so a cancellation is real exactly when
    one of the scopes around it was cancelled; a client that cancelled its own task
    (``asyncio.current_task().cancel()``) did not cancel a scope, and that stray
    request to cancel is withdrawn so the task carries on. In the caller's task
    (``own_task=False``: ``refresh()``) the caller may cancel the task natively
    (``asyncio.wait_for``, a web framework): any pending ``cancel()`` is real.
    """
    if anyio.get_cancelled_exc_class() is not asyncio.CancelledError:
        return True  # trio's Cancelled cannot be raised by anyone but trio
    if anyio.current_effective_deadline() == -math.inf:
        return True  # a scope around us was cancelled (or its deadline passed)
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None:  # Python 3.11+: counts the cancel() calls not undone
        if not own_task:
            return bool(cancelling() > 0)
        uncancel = getattr(task, "uncancel")  # noqa: B009 - a 3.11 method; mypy targets 3.10
        while cancelling() > 0:
            uncancel()
        return False
    if own_task:
        return False
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
