"""Small helpers shared by the virtual-clock tests."""

from __future__ import annotations

from collections.abc import Iterable

from transcribe_poller import Backoff, CompletionEvent, JobLike, Poller

# Delays without jitter: every read time is known in advance.
EXACT = Backoff(initial=1.0, maximum=20.0, jitter="none")


async def collect(poller: Poller, jobs: Iterable[JobLike]) -> list[CompletionEvent]:
    """Every event of one watch, in the order they came."""
    async with poller.watch(jobs) as events:
        return [event async for event in events]
