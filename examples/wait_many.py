"""Await a batch of standard and medical jobs, handling each as it finishes.

Runs as is against the local test bed (no AWS account needed):

    python examples/wait_many.py
"""

from __future__ import annotations

import logging
import random

import anyio

from transcribe_poller import JobRef, Outcome, Poller
from transcribe_poller.testing import LocalTranscribe


async def main(bed: LocalTranscribe) -> None:
    rng = random.Random(5)
    jobs: list[JobRef] = []
    for i in range(40):
        bed.start_job(f"call-{i:03d}", duration=rng.uniform(1, 4))
        jobs.append(JobRef.standard(f"call-{i:03d}"))
    for i in range(10):
        fail = "The audio file is too short." if i == 3 else None
        bed.start_job(f"visit-{i:03d}", kind="medical", duration=rng.uniform(1, 4), fail_with=fail)
        jobs.append(JobRef.medical(f"visit-{i:03d}"))

    async with bed.client() as client, Poller(client) as poller:
        async with poller.watch(jobs) as events:
            async for event in events:
                if event.outcome is Outcome.COMPLETED:
                    uri = (event.preferred_uri or "").split("?")[0]  # the query is a credential
                    print(f"done    {event.job}  ->  {uri}")
                else:
                    print(f"{event.outcome.value.lower():7} {event.job}: {event.failure_reason}")
        stats = poller.statistics()
    print(
        f"{stats.jobs_finished} jobs, {stats.requests} requests "
        f"({stats.requests / stats.jobs_finished:.1f} per job), {stats.throttled} throttled"
    )


if __name__ == "__main__":
    # The library logs to the logging logger "transcribe_poller" (structlog left
    # unconfigured): only its warnings and errors, on stderr, so stdout holds only what
    # this prints. (logging.getLogger("transcribe_poller").setLevel(logging.INFO) adds a
    # "job finished" line per job.)
    logging.basicConfig(level=logging.WARNING)
    with LocalTranscribe() as bed:
        anyio.run(main, bed)
