"""Hint sources: parties that learn, cheaper than a Get per job, which jobs may have ended.

A hint is never an event: it only asks the job's scheduler for one Get soon, and
that Get decides. So a wrong, late, repeated or lost hint costs a request or some
latency, never a wrong or lost event.

A source serves one kind of job. Its scheduler starts it when
:meth:`HintSource.wanted` says so and cancels it when no longer wanted; the
decision is taken only when something changes (a job added, finished or released,
a source ending). While :meth:`HintSource.run` runs, the source covers its kind:
jobs are read with a Get when hinted, and otherwise only when neither a Get nor the
source has shown them unfinished for ``reconcile_after`` seconds, which bounds what
a lost hint costs without growing with how long a job runs. When ``run`` returns, the source
cannot give hints for now: its jobs go back to per-job backoff, and the returned
number of seconds says when it may be started again (``math.inf``: never).
Several sources may cover one kind at once; the shortest ``reconcile_after`` of
those running applies.

A *push* source (the queue's coverage of a kind) hears of jobs' ends as they happen, but
best effort. While one runs, the others of its kind only reconcile: the scheduler
tells them its ``reconcile_interval`` (``pushed``), and the sweep slows to it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol


class HintFeed(Protocol):
    """What a running source sees of its scheduler."""

    def pending(self) -> Collection[str]:
        """Names of the jobs awaited now (a snapshot)."""
        ...

    def may_have_ended(self, name: str, *, output: bool = False) -> None:
        """Job ``name`` may have ended: read it soon. Unknown names are ignored.

        ``output``: the hint is the job's output object, which the service may write
        a moment before its status says COMPLETED: the read waits that moment, and
        is repeated a few times, shortly, while the status lags.
        """
        ...

    def awaits(self, name: str) -> bool:
        """Whether job ``name`` is awaited now."""
        ...

    def unfinished(self, names: Iterable[str]) -> None:
        """These jobs were just seen unfinished: as good as a Get that said so, so
        none is read before ``reconcile_after`` from now unless hinted."""
        ...

    def pushed(self) -> float | None:
        """The reconcile interval of a push source covering the kind now, or None."""
        ...


class HintSource(Protocol):
    """A source of hints for one kind of job (the List sweep is one)."""

    name: str
    reconcile_after: float  # seconds between per-job reads while it covers the kind
    push: bool
    reconcile_interval: float  # for a push source: how often the others reconcile

    def wanted(self, pending: int, running: bool, pushed: float | None) -> bool:
        """Whether the source should run with ``pending`` jobs awaited; ``pushed`` is
        the reconcile interval of a push source running for the kind, if any."""
        ...

    def rate_limits(self) -> Mapping[str, float]:
        """The client-side rate limit of each operation the source calls."""
        ...

    async def run(self, feed: HintFeed) -> float:
        """Give hints until cancelled, or return: seconds before a restart may help."""
        ...
