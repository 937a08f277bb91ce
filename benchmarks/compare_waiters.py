"""Side by side: aiobotocore's waiters, a hand-written loop and transcribe_poller.Poller
(sweeping, Gets only, and fed by EventBridge events through SQS).

Against the local test bed (moto behind the fault proxy, 127.0.0.1 only) with a quota
on each Get and List operation, every contender in turn waits for its own fresh batch
of jobs of the four kinds (standard, medical, Call Analytics, Medical Scribe; same
durations, outcomes and redaction, from the same seed) and the script reports jobs
reported, lost and wrong, requests and throttled answers per job, detection latency
(event delivered minus the moment the terminal status became visible), wall time and
the client's own CPU seconds; for the poller contenders also per kind of job.

The bed (moto and the proxy) runs in this process; each contender runs in a child
process (this same file with the hidden ``--child`` option), so the CPU time reported
for a contender is the client's alone, not the server's.

    .venv/bin/python benchmarks/compare_waiters.py --quick   # about 2.5 minutes
    .venv/bin/python benchmarks/compare_waiters.py           # about 11 minutes

A benchmark prints figures; the test suite runs it only at tiny sizes, as a smoke test.
The code is in the package benchmarks/compare/, one module per job.
"""

from compare.cli import main

if __name__ == "__main__":
    main()
