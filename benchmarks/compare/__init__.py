"""compare_waiters.py's parts: aiobotocore's waiters, a hand-written loop and the
Poller side by side on the local test bed, one module per job.

kinds (the service's names, the contenders), profiles (batches and their plan),
orchestration (the parent's side of a run: child processes, quotas, batches), child
(one contender in its own process), tallies (verdicts and figures), render and
targets (the tables and the checks under them), replicas and replica_render (many
pollers in one account), results (the JSON), cli (the options and entry points).
"""
