"""The library's own cost: CPU per poll and memory per watched job, next to a bare loop.

An in-process fake client (no HTTP, no botocore) answers GetTranscriptionJob and
GetMedicalTranscriptionJob at once; every job is QUEUED, then IN_PROGRESS, then
COMPLETED on its ``--polls``-th Get. Two scenarios poll the same jobs:

* ``bare``: one plain asyncio task per job: call the fake, stop on a terminal status,
  else ``asyncio.sleep`` a full-jitter delay (uniform(0, min(2 ms, 1 ms * 2**n))).
* ``poller``: ``transcribe_poller.Poller`` with ``Backoff(initial=0.001,
  maximum=0.002)`` (the same delays) and ``max_rate=1e9``, all jobs in one
  ``poller.watch()``, events consumed as they come.

Both make the same calls and the same number of sleeps, so the difference is the
poller's own machinery (task group, rate limiter, backoff object, events, logging
calls). structlog is configured to drop everything below WARNING during the measure
(``--log-level`` changes that; records then go to /dev/null).

Each measure runs in a fresh child process (this file with the hidden ``--child``
option): ``cpu`` (time.process_time over the whole batch, divided by the number of
Gets), ``tracemalloc`` (Python allocations still held when every job has been polled
at least twice, divided by the number of jobs) and ``rss`` (growth of the process's
resident set over the same span, without tracemalloc).

    .venv/bin/python benchmarks/overhead.py --quick   # about 25 s
    .venv/bin/python benchmarks/overhead.py           # 5 repetitions, about 2.5 minutes

A benchmark prints figures; it is not a test and does not run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _provenance import git_revision, machine, versions

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCENARIOS = ("bare", "poller")
MODES = ("cpu", "tracemalloc", "rss")
TERMINAL = frozenset({"COMPLETED", "FAILED"})
TARGET_CPU_US = 10.0
TARGET_MEMORY_KB = 1.5
WARMUP_JOBS = 50


class FakeTranscribe:
    """Answers Gets from memory. ``hold`` keeps every job IN_PROGRESS until cleared."""

    def __init__(self, standard: list[str], medical: list[str], finish_after: int) -> None:
        self.finish_after = finish_after
        # Built up front so the counters are not part of the measured memory.
        self.standard_calls = dict.fromkeys(standard, 0)
        self.medical_calls = dict.fromkeys(medical, 0)
        self.total = 0
        self.hold = False
        # Set once every job has been polled twice: the steady state memory is read at.
        self.polled_twice = asyncio.Event()
        self._jobs = len(self.standard_calls) + len(self.medical_calls)
        self._twice = 0

    def _job(self, name: str, name_field: str, calls: dict[str, int]) -> dict[str, Any]:
        count = calls[name] + 1
        calls[name] = count
        self.total += 1
        if count == 2:
            self._twice += 1
            if self._twice == self._jobs:
                self.polled_twice.set()
        if count >= self.finish_after and not self.hold:
            return {
                name_field: name,
                "TranscriptionJobStatus": "COMPLETED",
                "Transcript": {"TranscriptFileUri": f"https://s3.local/out/{name}.json"},
            }
        return {
            name_field: name,
            "TranscriptionJobStatus": "QUEUED" if count == 1 else "IN_PROGRESS",
            # The rest of what the service answers for a running job, as botocore
            # parses it: a poller that kept each pending job's answer would hold it.
            "LanguageCode": "en-US",
            "MediaSampleRateHertz": 44100,
            "MediaFormat": "mp3",
            "Media": {"MediaFileUri": f"s3://media-bucket/recordings/{name}.mp3"},
            "CreationTime": datetime.datetime.now(datetime.timezone.utc),
            "StartTime": datetime.datetime.now(datetime.timezone.utc),
            "Settings": {"ChannelIdentification": False, "ShowAlternatives": False},
        }

    async def get_transcription_job(self, *, TranscriptionJobName: str) -> dict[str, Any]:
        job = self._job(TranscriptionJobName, "TranscriptionJobName", self.standard_calls)
        return {"TranscriptionJob": job, "ResponseMetadata": _metadata()}

    async def get_medical_transcription_job(
        self, *, MedicalTranscriptionJobName: str
    ) -> dict[str, Any]:
        job = self._job(
            MedicalTranscriptionJobName, "MedicalTranscriptionJobName", self.medical_calls
        )
        return {"MedicalTranscriptionJob": job, "ResponseMetadata": _metadata()}


def _metadata() -> dict[str, Any]:
    """botocore's ResponseMetadata, on every answer."""
    return {
        "RequestId": "8d0e4b4c-1f44-4a0f-9c43-2b6f1e0f6a3e",
        "HTTPStatusCode": 200,
        "HTTPHeaders": {"content-type": "application/x-amz-json-1.1", "content-length": "512"},
        "RetryAttempts": 0,
    }


def job_names(jobs: int, medical_share: float, tag: str) -> tuple[list[str], list[str]]:
    medical = round(jobs * medical_share)
    standard = jobs - medical
    return (
        [f"{tag}-std-{i:05d}" for i in range(standard)],
        [f"{tag}-med-{i:05d}" for i in range(medical)],
    )


# -- the two scenarios --------------------------------------------------------------------


async def run_bare(
    client: FakeTranscribe, standard: list[str], medical: list[str], rng: random.Random
) -> int:
    finished = 0

    async def one(call: Any, name_field: str, answer_field: str, name: str) -> None:
        nonlocal finished
        attempt = 0
        while True:
            answer = await call(**{name_field: name})
            if answer[answer_field]["TranscriptionJobStatus"] in TERMINAL:
                finished += 1
                return
            await asyncio.sleep(rng.uniform(0.0, min(0.002, 0.001 * 2**attempt)))
            attempt += 1

    tasks = [
        asyncio.create_task(
            one(client.get_transcription_job, "TranscriptionJobName", "TranscriptionJob", n)
        )
        for n in standard
    ]
    tasks += [
        asyncio.create_task(
            one(
                client.get_medical_transcription_job,
                "MedicalTranscriptionJobName",
                "MedicalTranscriptionJob",
                n,
            )
        )
        for n in medical
    ]
    await asyncio.gather(*tasks)
    return finished


def gets_only() -> dict[str, Any]:
    """Poller arguments that keep it on per-job Gets: the fake answers no List request.

    A poller that can sweep (list unfinished jobs instead of polling each one) gets
    ``sweep=Sweep(mode="never")``; an older one needs nothing.
    """
    import inspect

    import transcribe_poller

    if "sweep" not in inspect.signature(transcribe_poller.Poller).parameters:
        return {}
    sweep: Any = getattr(transcribe_poller, "Sweep", None)
    if sweep is None:  # not public (yet): take it from where the poller does
        from transcribe_poller._sweep import Sweep as sweep
    return {"sweep": sweep(mode="never")}


async def run_poller(
    client: FakeTranscribe, standard: list[str], medical: list[str], rng: random.Random
) -> int:
    from transcribe_poller import Backoff, JobRef, Outcome, Poller

    refs = [JobRef.standard(n) for n in standard] + [JobRef.medical(n) for n in medical]
    finished = 0
    backoff = Backoff(initial=0.001, maximum=0.002, rng=rng)
    async with (
        Poller(client, backoff=backoff, max_rate=1e9, **gets_only()) as poller,  # type: ignore[arg-type]
        poller.watch(refs) as events,
    ):
        async for event in events:
            if event.outcome is not Outcome.COMPLETED:
                raise RuntimeError(f"unexpected event {event!r}")
            finished += 1
    return finished


RUNNERS = {"bare": run_bare, "poller": run_poller}


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


async def _child(args: argparse.Namespace) -> dict[str, Any]:
    runner = RUNNERS[args.child]
    rng = random.Random(args.seed)
    # Warm up first: imports, anyio's backend, structlog's lazy proxies, code caches.
    warm_std, warm_med = job_names(WARMUP_JOBS, args.medical_share, "warm")
    await runner(FakeTranscribe(warm_std, warm_med, args.polls), warm_std, warm_med, rng)

    standard, medical = job_names(args.jobs, args.medical_share, "job")
    client = FakeTranscribe(standard, medical, args.polls)
    jobs = len(standard) + len(medical)
    result: dict[str, Any] = {"scenario": args.child, "mode": args.mode, "jobs": jobs}
    if args.child == "poller":
        result["poller_options"] = {k: repr(v) for k, v in gets_only().items()}
    gc.collect()

    if args.mode == "cpu":
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        finished = await runner(client, standard, medical, rng)
        cpu = time.process_time() - cpu_started
        result.update(
            cpu_s=cpu,
            wall_s=time.perf_counter() - wall_started,
            polls=client.total,
            sleeps=client.total - jobs,
            finished=finished,
            cpu_us_per_poll=cpu / client.total * 1e6,
        )
        return result

    # Memory: hold every job IN_PROGRESS, measure once each has been polled twice.
    client.hold = True
    if args.mode == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    else:
        before = _rss_bytes() or 0
    measured: dict[str, float] = {}

    async def measure_then_release() -> None:
        await client.polled_twice.wait()
        if args.mode == "tracemalloc":
            current, peak = tracemalloc.get_traced_memory()
            measured["held_bytes"] = current - before
            measured["peak_bytes"] = peak - before
        else:
            measured["held_bytes"] = (_rss_bytes() or 0) - before
        client.hold = False

    monitor = asyncio.create_task(measure_then_release())
    finished = await runner(client, standard, medical, rng)
    await monitor
    if args.mode == "tracemalloc":
        tracemalloc.stop()
    result.update(
        finished=finished,
        polls=client.total,
        bytes_per_job=measured["held_bytes"] / jobs,
        peak_bytes_per_job=measured.get("peak_bytes", 0) / jobs or None,
    )
    return result


def child_main(args: argparse.Namespace) -> None:
    import structlog

    level = getattr(logging, args.log_level)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
    )
    import transcribe_poller  # noqa: F401  (imported before any measure, in both scenarios)

    result = asyncio.run(_child(args))
    print(json.dumps(result))


# -- the parent ---------------------------------------------------------------------------


def run_child(
    args: argparse.Namespace, scenario: str, mode: str, repetition: int
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        scenario,
        "--mode",
        mode,
        "--jobs",
        str(args.jobs),
        "--polls",
        str(args.polls),
        "--medical-share",
        str(args.medical_share),
        "--seed",
        str(args.seed + repetition),
        "--log-level",
        args.log_level,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{scenario}/{mode} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        cpu = [r for r in runs if r["scenario"] == scenario and r["mode"] == "cpu"]
        traced = [r for r in runs if r["scenario"] == scenario and r["mode"] == "tracemalloc"]
        rss = [r for r in runs if r["scenario"] == scenario and r["mode"] == "rss"]
        summary[scenario] = {
            "cpu_us_per_poll": _median(cpu, "cpu_us_per_poll"),
            "cpu_us_per_poll_all": [r["cpu_us_per_poll"] for r in cpu],
            "cpu_s": _median(cpu, "cpu_s"),
            "wall_s": _median(cpu, "wall_s"),
            "polls": _median(cpu, "polls"),
            "sleeps": _median(cpu, "sleeps"),
            "traced_bytes_per_job": _median(traced, "bytes_per_job"),
            "traced_peak_bytes_per_job": _median(traced, "peak_bytes_per_job"),
            "rss_bytes_per_job": _median(rss, "bytes_per_job"),
        }
    return summary


def render(summary: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    bare, poller = summary["bare"], summary["poller"]

    def row(label: str, key: str, scale: float, digits: int, target: str = "") -> str:
        b, p = bare[key], poller[key]
        if b is None or p is None:
            return f"{label:<34}{'-':>12}{'-':>12}{'-':>14}  {target}"
        return (
            f"{label:<34}{b * scale:>12.{digits}f}{p * scale:>12.{digits}f}"
            f"{(p - b) * scale:>14.{digits}f}  {target}"
        )

    header = f"{'':<34}{'bare loop':>12}{'poller':>12}{'poller - bare':>14}  target"
    lines = [
        header,
        "-" * len(header),
        row("CPU per poll, us", "cpu_us_per_poll", 1, 1, f"<= {TARGET_CPU_US:g} us"),
        row("CPU for the batch, s", "cpu_s", 1, 2),
        row("wall for the batch, s", "wall_s", 1, 2),
        row("polls (Gets)", "polls", 1, 0),
        row("sleeps", "sleeps", 1, 0),
        row("memory per job, KB (tracemalloc)", "traced_bytes_per_job", 1 / 1024, 2),
        row("  peak per job, KB (tracemalloc)", "traced_peak_bytes_per_job", 1 / 1024, 2),
        row("memory per job, KB (RSS growth)", "rss_bytes_per_job", 1 / 1024, 2),
    ]
    lines[-3] += f"<= {TARGET_MEMORY_KB:g} KB"
    cpu_delta = poller["cpu_us_per_poll"] - bare["cpu_us_per_poll"]
    mem_delta = (poller["traced_bytes_per_job"] - bare["traced_bytes_per_job"]) / 1024
    lines += [
        "",
        f"{args.jobs} jobs ({args.medical_share:.0%} medical), each COMPLETED on its "
        f"{args.polls}th Get; medians of {args.repeats} run(s), each measure in a fresh "
        "process.",
        "CPU: time.process_time() over the batch / number of Gets; the fake client's own "
        "cost is in both columns.",
        "memory: Python allocations (tracemalloc) still held once every job has been "
        "polled twice, / jobs; RSS growth over the same span measured separately, "
        "without tracemalloc.",
        f"structlog filtered below {args.log_level} during the measure.",
        "",
        f"Targets: overhead <= {TARGET_CPU_US:g} us CPU per poll: measured "
        f"{cpu_delta:.1f} us, {'met' if cpu_delta <= TARGET_CPU_US else 'NOT MET'}; "
        f"<= {TARGET_MEMORY_KB:g} KB per watched job (tracemalloc): measured "
        f"{mem_delta:.2f} KB, {'met' if mem_delta <= TARGET_MEMORY_KB else 'NOT MET'}.",
    ]
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    began = time.perf_counter()
    print(
        f"profile {'quick' if args.quick else 'default'}: {args.jobs} jobs, COMPLETED on "
        f"Get #{args.polls}, {args.repeats} repetition(s) of {', '.join(MODES)} for "
        f"{' and '.join(SCENARIOS)}; structlog below {args.log_level} filtered",
        flush=True,
    )
    runs = []
    for repetition in range(args.repeats):
        for mode in MODES:
            for scenario in SCENARIOS:
                result = run_child(args, scenario, mode, repetition)
                runs.append({**result, "repetition": repetition})
                brief = (
                    f"{result['cpu_us_per_poll']:.1f} us/poll"
                    if mode == "cpu"
                    else f"{result['bytes_per_job'] / 1024:.2f} KB/job"
                )
                print(f"  run {repetition + 1} {mode:<11} {scenario:<6} {brief}", flush=True)
    summary = aggregate(runs)
    table = render(summary, args)
    print()
    print(table)
    now = datetime.datetime.now(datetime.timezone.utc)
    output = (
        Path(args.output)
        if args.output
        else RESULTS / f"overhead-{'quick' if args.quick else 'default'}-{now:%Y%m%dT%H%M%SZ}.json"
    )
    document = {
        "benchmark": "overhead",
        "date_utc": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(("transcribe-poller", "anyio", "structlog")),
        "git": git_revision(),
        "settings": {
            "jobs": args.jobs,
            "polls_per_job": args.polls,
            "medical_share": args.medical_share,
            "repeats": args.repeats,
            "seed": args.seed,
            "log_level": args.log_level,
            "backoff": "Backoff(initial=0.001, maximum=0.002), full jitter",
            "max_rate": 1e9,
        },
        "summary": summary,
        "overhead": {
            "cpu_us_per_poll": summary["poller"]["cpu_us_per_poll"]
            - summary["bare"]["cpu_us_per_poll"],
            "traced_kb_per_job": (
                summary["poller"]["traced_bytes_per_job"] - summary["bare"]["traced_bytes_per_job"]
            )
            / 1024,
        },
        "runs": runs,
        "table": table,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1))
    print(f"\nJSON written to {output} ({time.perf_counter() - began:.0f} s in all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "CPU per poll and memory per watched job of transcribe_poller.Poller against "
            "an in-process fake client, next to a bare asyncio loop making the same calls "
            "and sleeps. Prints a table and writes JSON to benchmarks/results/."
        )
    )
    parser.add_argument(
        "--quick", action="store_true", help="one repetition instead of five (about 25 s)"
    )
    parser.add_argument(
        "--jobs", type=int, default=10_000, help="watched jobs (default %(default)s)"
    )
    parser.add_argument(
        "--polls",
        type=int,
        default=4,
        help="each job is COMPLETED on this Get (default %(default)s)",
    )
    parser.add_argument(
        "--medical-share",
        type=float,
        default=0.25,
        help="share of medical jobs (default %(default)s)",
    )
    parser.add_argument("--repeats", type=int, help="repetitions (default 5, quick 1)")
    parser.add_argument("--seed", type=int, default=1, help="jitter seed (default %(default)s)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING"),
        help="structlog level during the measure; records go to /dev/null (default %(default)s)",
    )
    parser.add_argument("--output", help="JSON path (default: benchmarks/results/<name>.json)")
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
