"""Transcripts fetched while other jobs are polled, on the local test bed.

Does fetching transcripts slow the polling of other jobs, and does the memory it
takes follow ``max_downloads`` or the number of documents? On LocalTranscribe
(127.0.0.1, no concurrency cap, AWS's default quotas on GetTranscriptionJob and
ListTranscriptionJobs while jobs are awaited), one ``Poller`` with its defaults
(``--max-downloads``) runs in a child process (this file with the hidden
``--child`` option); the bed stays in the parent, so its CPU and memory are not the
poller's.

* Latency: the contenders in turn, on the same bed and the same client
  (``--rounds`` times each), each with a poller of its own (fresh, so that none
  starts with the List budget the batch before it spent). Each awaits a fresh
  batch of ``--awaited`` standard jobs with one ``watch()``, the same durations
  for every batch (uniform between ``--shortest`` and ``--longest`` seconds).
  ``no-downloads`` does nothing else;
  ``fetching`` meanwhile fetches the transcripts of ``--fetched`` other jobs,
  COMPLETED before the run, with the same poller's ``fetch_transcript``, every
  fetch launched at once in one task group (so ``max_downloads`` is what bounds
  them); ``fetching-1-thread`` does the same with anyio's default thread limiter
  set to 1 token instead of 40 (a control: the library parses on a limiter of its
  own, one document at a time, so this should change nothing). Detection latency per job:
  ``time.time()`` when its event reached the ``watch()`` loop minus its script's
  ``terminal_at``; ``Get``: the first Get that read the end (the bed's
  ``first_terminal_read_at``) minus ``terminal_at``. Two probes run in the child
  throughout: the event loop's lag (a 10 ms sleep's overshoot) and the round trip
  of a tiny document from the bed's proxy every 0.1 s.
* Memory (``--memory``): in a fresh child per row, the poller fetches N
  transcripts, all launched at once, each dropped once read, nothing polled. The
  figure is the growth of the resident set: the peak over the fetch (``VmHWM``,
  which ``ru_maxrss`` reads, reset just before through ``/proc/self/clear_refs``)
  minus the resident set before. With ``--tracemalloc`` the same N is fetched
  again under tracemalloc (its peak); one document alone is always measured
  under tracemalloc first, for scale.

The fetched jobs' transcripts are ``--words`` words with two speakers, so each
document is hundreds of KB. They are fetched from their events, taken by a
separate set-up poller beforehand, so a fetch spends no Get. With ``--via
service`` (the default) their output is in the service's bucket and each is
fetched over HTTP from its presigned URI, which the bed's proxy serves (making
each document as it is asked for); with ``--via bucket`` it is in a bucket of the
caller's (moto's S3, written when the job ended) and read with GetObject.

    .venv/bin/python benchmarks/transcripts.py            # about 2.5 minutes
    .venv/bin/python benchmarks/transcripts.py --smoke    # tiny sizes, about 10 s

A benchmark prints figures; it is not a test (the smoke size runs in the tests).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import logging
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import anyio
import structlog

from transcribe_poller import CompletionEvent, Poller, PollerStatistics

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUCKET = "transcripts-benchmark"
# AWS's default quotas of the standard kind's two operations: (rate per second, burst).
QUOTAS = {"GetTranscriptionJob": (30.0, 30.0), "ListTranscriptionJobs": (5.0, 5.0)}
# name: (fetch while awaiting, tokens of anyio's default thread limiter, where parsing
# runs; None leaves anyio's default, 40)
CONTENDERS: dict[str, tuple[bool, int | None]] = {
    "no-downloads": (False, None),
    "fetching": (True, None),
    "fetching-1-thread": (True, 1),
}
LAG_TICK = 0.01  # the event-loop lag probe sleeps this long, and measures the excess
PROBE_EVERY = 0.1  # the document round-trip probe's pace
SAMPLE_EVERY = 0.02  # how often the child reads statistics() while fetching

WORDS = (
    "the a and to of we you it is that for on with this your can will be order account "
    "number call back today tomorrow please confirm ship delivery invoice payment card "
    "thank hello yes no sure right okay problem help question answer again time week "
    "morning afternoon address email phone status update refund item box label"
)


# -- the parent's side ---------------------------------------------------------------


def speech(rng: random.Random, words: int) -> str:
    """A recording's words: sentences of 6 to 20 words, now and then a number."""
    vocabulary = WORDS.split()
    out: list[str] = []
    while len(out) < words:
        sentence = [rng.choice(vocabulary) for _ in range(rng.randint(6, 20))]
        if rng.random() < 0.3:
            sentence[rng.randrange(len(sentence))] = str(rng.randint(10, 99999))
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += rng.choice(".?.")
        out.extend(sentence)
    return " ".join(out[:words]).rstrip(".?") + "."


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 to 100), linear interpolation between order statistics."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


class Child:
    """A child process that speaks JSON lines on its stdin and stdout."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(message) + "\n")
        stdin.flush()

    def receive(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            code = self.process.wait()
            raise RuntimeError(f"the child process ended (exit {code}) without an answer")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        code = self.process.wait(timeout=60)
        if code != 0:
            raise RuntimeError(f"the child process exited {code}")


def start_fetched(bed: Any, args: argparse.Namespace, prefix: str, count: int) -> list[str]:
    """Start ``count`` short jobs with long transcripts; return their names."""
    rng = random.Random(args.seed * 7919 + count)
    names = [f"{prefix}-{i:04d}" for i in range(count)]
    for name in names:
        bed.start_job(
            name,
            duration=0.5,
            transcript=speech(rng, args.words),
            speakers=2,
            output_bucket=BUCKET if args.via == "bucket" else None,
        )
    return names


def wait_until_ended(bed: Any, names: list[str]) -> None:
    last = max(bed.script(name).terminal_at for name in names)
    time.sleep(max(0.0, last - time.time() + 0.1))


def child_config(
    bed: Any, args: argparse.Namespace, mode: str, fetched: list[str]
) -> dict[str, Any]:
    return {
        "mode": mode,
        "transcribe": bed.client_kwargs(),
        "s3": bed.s3_client_kwargs() if args.via == "bucket" else None,
        "fetched": fetched,
        "probe": "probe-0000",
        "max_downloads": args.max_downloads,
        "log_level": args.log_level,
    }


def run_latency(bed: Any, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    durations = [rng.uniform(args.shortest, args.longest) for _ in range(args.awaited)]
    fetched = start_fetched(bed, args, "doc", args.fetched)
    wait_until_ended(bed, fetched)
    child = Child(child_config(bed, args, "latency", fetched))
    try:
        ready = child.receive()
        bed.set_faults(quota=QUOTAS)
        runs: list[dict[str, Any]] = []
        for round_ in range(args.rounds):
            for index, contender in enumerate(args.contenders):
                fetch, threads = CONTENDERS[contender]
                bed.reset_traffic()
                names = [f"wait-{round_}{index}-{i:04d}" for i in range(args.awaited)]
                for name, duration in zip(names, durations, strict=True):
                    bed.start_job(name, duration=duration)
                child.send({"names": names, "fetch": fetch, "threads": threads})
                answer = child.receive()
                runs.append(tally(bed, contender, round_, names, answer))
        child.send({"stop": True})
        child.close()
    finally:
        if child.process.poll() is None:
            child.process.kill()
        bed.set_faults()
    return {"setup": ready, "runs": runs, "durations": [round(d, 3) for d in durations]}


def tally(
    bed: Any, contender: str, round_: int, names: list[str], answer: dict[str, Any]
) -> dict[str, Any]:
    latencies: list[float] = []
    reads: list[float] = []  # from the end to the first Get that read it
    wrong = 0
    ended_while_fetching = 0
    fetch = answer.get("fetch")
    for name in names:
        script = bed.script(name)
        if fetch and fetch["launched_at"] <= script.terminal_at <= fetch["ended_at"]:
            ended_while_fetching += 1
        seen = answer["detected"].get(name)
        if seen is None:
            continue
        if seen["outcome"] != script.outcome:
            wrong += 1
        latencies.append(seen["at"] - script.terminal_at)
        if script.first_terminal_read_at is not None:
            reads.append(script.first_terminal_read_at - script.terminal_at)
    traffic = bed.traffic().total
    stats = answer["statistics"]
    return {
        "contender": contender,
        "round": round_,
        "jobs": len(names),
        "reported": len(latencies),
        "wrong": wrong,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "p99_s": percentile(latencies, 99),
        "max_s": max(latencies, default=float("nan")),
        "read_p50_s": percentile(reads, 50),
        "read_p95_s": percentile(reads, 95),
        "requests": stats["requests"],
        "requests_per_job": stats["requests"] / len(names),
        "throttled": stats["throttled"],
        "proxy_requests": traffic.requests,
        "proxy_throttled": traffic.throttled,
        "ended_while_fetching": ended_while_fetching if fetch else None,
        "wall_s": answer["wall_s"],
        "cpu_s": answer["cpu_s"],
        "loop_lag_p95_ms": answer["loop_lag_p95_ms"],
        "loop_lag_max_ms": answer["loop_lag_max_ms"],
        "probe_p50_ms": answer["probe_p50_ms"],
        "probe_p95_ms": answer["probe_p95_ms"],
        "fetch": fetch,
    }


def run_memory(bed: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for row, (size, threads) in enumerate(args.memory):
        fetched = start_fetched(bed, args, f"mem{row}", size)
        wait_until_ended(bed, fetched)
        config = child_config(bed, args, "memory", fetched)
        config.update(threads=threads, tracemalloc=args.tracemalloc)
        child = Child(config)
        try:
            answer = child.receive()
            child.close()
        finally:
            if child.process.poll() is None:
                child.process.kill()
        answer.update(documents=size, threads=threads)
        results.append(answer)
    return results


def start_probe(bed: Any) -> None:
    bed.start_job("probe-0000", duration=0.1)
    time.sleep(0.2)


# -- rendering -----------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def threads_label(threads: int | None) -> str:
    return "40 (anyio's default)" if threads is None else str(threads)


def render_latency(latency: dict[str, Any], args: argparse.Namespace) -> list[str]:
    runs = latency["runs"]
    by = {c: [r for r in runs if r["contender"] == c] for c in args.contenders}
    many = args.rounds > 1
    lines = [
        f"Detection latency: {args.awaited} standard jobs of {args.shortest:g} to "
        f"{args.longest:g} s awaited with one watch() (Get 30/s, List 5/s); meanwhile, "
        f"for the fetching rows, {args.fetched} transcripts fetched by the same poller "
        f"(max_downloads={args.max_downloads}, every fetch launched at once)"
        + (f"; medians of {args.rounds} rounds" if many else ""),
        "",
        f"{'contender':<19}{'reported':>9}{'p50 s':>7}{'p95 s':>7}{'p99 s':>7}{'max s':>7}"
        f"{'Get p50/p95 s':>15}{'req/job':>8}{'thrott':>7}{'loop lag p95/max ms':>21}"
        f"{'doc probe p50/p95 ms':>22}{'CPU s':>7}{'wall s':>7}",
    ]
    for contender in args.contenders:
        rs = by[contender]
        lines.append(
            f"{contender:<19}{min(r['reported'] for r in rs):>5}/{rs[0]['jobs']:<3}"
            f"{median_of(rs, 'p50_s'):>7.2f}{median_of(rs, 'p95_s'):>7.2f}"
            f"{median_of(rs, 'p99_s'):>7.2f}{median_of(rs, 'max_s'):>7.2f}"
            f"{median_of(rs, 'read_p50_s'):>8.2f} / {median_of(rs, 'read_p95_s'):<4.2f}"
            f"{median_of(rs, 'requests_per_job'):>8.2f}{sum(r['throttled'] for r in rs):>7}"
            f"{median_of(rs, 'loop_lag_p95_ms'):>12.0f} / {median_of(rs, 'loop_lag_max_ms'):<6.0f}"
            f"{median_of(rs, 'probe_p50_ms'):>13.1f} / {median_of(rs, 'probe_p95_ms'):<6.0f}"
            f"{median_of(rs, 'cpu_s'):>7.1f}{median_of(rs, 'wall_s'):>7.1f}"
        )
    lines.append(
        "  (Get: from the end to the first Get that read it; loop lag: a 10 ms sleep's "
        "overshoot; doc probe: a tiny document's round trip from the bed)"
    )
    quiet = by.get("no-downloads")
    if quiet:
        for contender in args.contenders:
            if contender == "no-downloads":
                continue
            p50 = median_of(by[contender], "p50_s") / median_of(quiet, "p50_s")
            p95 = median_of(by[contender], "p95_s") / median_of(quiet, "p95_s")
            lines.append(f"  ratio to 'no-downloads', {contender}: p50 {p50:.2f}, p95 {p95:.2f}")
    if many:
        for contender in args.contenders:
            each = ", ".join(f"{r['p95_s']:.2f}" for r in by[contender])
            lines.append(f"  p95 of each round, {contender}: {each} s")
    fetching = [r for r in runs if r["fetch"]]
    if not fetching:
        return lines
    lines += [
        "",
        "Fetches of the fetching rows (documents and bytes as statistics() counted them):",
        f"{'contender':<19}{'round':>6}{'documents':>10}{'failed':>7}{'KB/doc':>7}{'fetch s':>8}"
        f"{'docs/s':>7}{'MB/s':>6}{'max active':>11}{'refreshes':>10}"
        f"{'awaited jobs ending meanwhile':>31}",
    ]
    for run in fetching:
        fetch = run["fetch"]
        seconds = fetch["ended_at"] - fetch["launched_at"]
        lines.append(
            f"{run['contender']:<19}{run['round']:>6}{fetch['downloads']:>10}"
            f"{fetch['failures']:>7}"
            f"{fetch['download_bytes'] / max(1, fetch['downloads']) / 1000:>7.0f}"
            f"{seconds:>8.1f}{fetch['downloads'] / seconds:>7.1f}"
            f"{fetch['download_bytes'] / seconds / 1e6:>6.1f}{fetch['max_active']:>11}"
            f"{fetch['refreshes']:>10}{run['ended_while_fetching']:>24} of {run['jobs']}"
        )
    return lines


def render_memory(memory: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    traced = args.tracemalloc
    lines = [
        f"Memory while fetching N transcripts at once (max_downloads={args.max_downloads}), "
        "each dropped once read, no polling; a fresh process per row",
        "",
        f"{'N':>5}{'parse threads':>22}{'KB/doc':>8}{'RSS peak growth MB':>19}"
        + (f"{'tracemalloc peak MB':>20}" if traced else "")
        + f"{'max active':>11}{'max unparsed':>13}{'fetch s':>8}{'docs/s':>7}",
    ]
    for m in memory:
        lines.append(
            f"{m['documents']:>5}{threads_label(m['threads']):>22}"
            f"{m['bytes_per_document'] / 1000:>8.0f}{m['rss_growth_bytes'] / 1e6:>19.1f}"
            + (f"{m['traced_peak_bytes'] / 1e6:>20.1f}" if traced else "")
            + f"{m['max_active']:>11}{m['max_unparsed']:>13}{m['fetch_s']:>8.1f}"
            f"{m['documents'] / m['fetch_s']:>7.1f}"
        )
    first = memory[0]
    reset = all(m["rss_peak_reset"] for m in memory)
    lines += [
        "",
        f"One document alone (tracemalloc, first in each process): "
        f"{first['bytes_per_document'] / 1000:.0f} KB on the wire, a peak of "
        f"{statistics.median(m['one_peak_bytes'] for m in memory) / 1e6:.1f} MB of Python "
        f"allocations while fetched and read, "
        f"{statistics.median(m['one_kept_bytes'] for m in memory) / 1e6:.1f} MB held by "
        "its Transcript.",
        f"max_downloads documents' worth: {args.max_downloads} x that peak = "
        f"{args.max_downloads * statistics.median(m['one_peak_bytes'] for m in memory) / 1e6:.1f}"
        " MB.",
        "RSS peak growth: the process's peak resident set over the fetch (VmHWM, reset "
        "before it) minus its resident set before"
        + ("." if reset else " (the peak could not be reset: it may be the set-up's)."),
        "max unparsed: documents downloaded whose fetch had not returned (waiting for or "
        f"in a parsing thread), sampled every {SAMPLE_EVERY * 1000:g} ms.",
    ]
    return lines


# -- the child's side ----------------------------------------------------------------


def emit(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


async def events_of(client: Any, names: list[str]) -> dict[str, CompletionEvent]:
    """The jobs' COMPLETED events, from a set-up poller of its own (not measured)."""
    async with Poller(client, max_rate=1000.0) as setup, setup.watch(names) as events:
        return {event.job.name: event async for event in events}


_default_threads: list[float] = []  # the limiter's own total, read on first use


def set_parse_threads(threads: int | None) -> None:
    """Parsing runs in anyio's worker threads, under its default thread limiter:
    ``threads`` tokens, or the limiter's own default (None)."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    if not _default_threads:
        _default_threads.append(limiter.total_tokens)
    limiter.total_tokens = _default_threads[0] if threads is None else threads


class Fetches:
    """Fetch every transcript at once, each dropped once read."""

    def __init__(self, poller: Poller, events: list[CompletionEvent], s3: Any) -> None:
        self.poller, self.events, self.s3 = poller, events, s3
        self.returned = 0
        self.failures = 0
        self.characters = 0
        self.launched_at = 0.0
        self.ended_at = 0.0

    async def run(self) -> None:
        self.launched_at = time.time()
        async with anyio.create_task_group() as group:
            for event in self.events:
                group.start_soon(self.one, event)
        self.ended_at = time.time()

    async def one(self, event: CompletionEvent) -> None:
        try:
            transcript = await self.poller.fetch_transcript(event, s3=self.s3)
        except Exception as error:
            self.failures += 1
            print(f"fetch of {event.job.name} failed: {error!r}", file=sys.stderr)
            return
        finally:
            self.returned += 1
        self.characters += len(transcript.text)


async def loop_lag(lags: list[float]) -> None:
    while True:
        before = time.perf_counter()
        await anyio.sleep(LAG_TICK)
        lags.append(time.perf_counter() - before - LAG_TICK)


async def document_probe(url: str, rtts: list[float]) -> None:
    """GET a tiny document from the bed every PROBE_EVERY s: how fast the bed's proxy,
    which serves the documents and answers Transcribe alike, answers."""
    import aiohttp
    import yarl

    async with aiohttp.ClientSession() as session:
        while True:
            before = time.perf_counter()
            async with session.get(yarl.URL(url, encoded=True)) as response:
                await response.read()
                assert response.status == 200, response.status
            rtts.append(time.perf_counter() - before)
            await anyio.sleep(PROBE_EVERY)


def delta(after: PollerStatistics, before: PollerStatistics) -> dict[str, int]:
    return {
        "requests": after.requests - before.requests,
        "throttled": after.throttled - before.throttled,
        "downloads": after.downloads - before.downloads,
        "download_bytes": after.download_bytes - before.download_bytes,
        "refreshes": after.download_refreshes - before.download_refreshes,
        "failures": after.download_failures - before.download_failures,
    }


async def latency_phase(
    poller: Poller,
    names: list[str],
    fetch: list[CompletionEvent],
    probe_url: str | None,
    s3: Any,
) -> dict[str, Any]:
    detected: dict[str, dict[str, Any]] = {}
    lags: list[float] = []
    rtts: list[float] = []
    fetches = Fetches(poller, fetch, s3) if fetch else None
    max_active = 0
    before = poller.statistics()
    began, cpu = time.time(), time.process_time()

    async def watch() -> None:
        async with poller.watch(names) as events:
            async for event in events:
                detected[event.job.name] = {"at": time.time(), "outcome": event.outcome.value}

    async def sample() -> None:
        nonlocal max_active
        while True:
            max_active = max(max_active, poller.statistics().downloads_active)
            await anyio.sleep(SAMPLE_EVERY)

    async with anyio.create_task_group() as probes:
        probes.start_soon(loop_lag, lags)
        if probe_url is not None:
            probes.start_soon(document_probe, probe_url, rtts)
        if fetches is not None:
            probes.start_soon(sample)
        async with anyio.create_task_group() as work:
            work.start_soon(watch)
            if fetches is not None:
                work.start_soon(fetches.run)
        probes.cancel_scope.cancel()
    wall, cpu = time.time() - began, time.process_time() - cpu
    counts = delta(poller.statistics(), before)
    answer: dict[str, Any] = {
        "detected": detected,
        "statistics": counts,
        "wall_s": wall,
        "cpu_s": cpu,
        "loop_lag_p95_ms": percentile(lags, 95) * 1000,
        "loop_lag_max_ms": max(lags, default=0.0) * 1000,
        "probe_p50_ms": percentile(rtts, 50) * 1000,
        "probe_p95_ms": percentile(rtts, 95) * 1000,
    }
    if fetches is not None:
        answer["fetch"] = {
            "launched_at": fetches.launched_at,
            "ended_at": fetches.ended_at,
            "returned": fetches.returned,
            "characters": fetches.characters,
            "max_active": max_active,
            **counts,
        }
    return answer


async def memory_phase(
    poller: Poller, events: list[CompletionEvent], s3: Any, traced: bool
) -> dict[str, Any]:
    fetches = Fetches(poller, events, s3)
    before = poller.statistics()
    max_active = max_unparsed = 0

    async def sample() -> None:
        nonlocal max_active, max_unparsed
        while True:
            now = poller.statistics()
            max_active = max(max_active, now.downloads_active)
            max_unparsed = max(max_unparsed, now.downloads - before.downloads - fetches.returned)
            await anyio.sleep(SAMPLE_EVERY)

    gc.collect()
    peak_reset = not traced and _reset_peak_rss()
    rss_before = _status_bytes("VmRSS")
    base = 0
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    async with anyio.create_task_group() as group:
        group.start_soon(sample)
        await fetches.run()
        group.cancel_scope.cancel()
    result: dict[str, Any] = {
        "fetch_s": fetches.ended_at - fetches.launched_at,
        "max_active": max_active,
        "max_unparsed": max_unparsed,
        "failures": fetches.failures,
        **delta(poller.statistics(), before),
    }
    if traced:
        result["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    else:
        # The peak since the reset: VmHWM, which ru_maxrss reads too. Without the reset
        # (an old kernel) it is the process's peak so far, set-up included: said so.
        result["rss_growth_bytes"] = _status_bytes("VmHWM") - rss_before
        result["rss_peak_reset"] = peak_reset
    return result


def _reset_peak_rss() -> bool:
    """Set the process's peak resident set back to its current size (Linux 4.0 on)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _status_bytes(field: str) -> int:
    """A ``/proc/self/status`` size (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


async def one_document(poller: Poller, event: CompletionEvent, s3: Any) -> tuple[int, int]:
    """tracemalloc's peak while one transcript is fetched, and what its Transcript holds."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    transcript = await poller.fetch_transcript(event, s3=s3)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - base
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del transcript
    return peak, kept


async def memory_child(
    poller: Poller, events: list[CompletionEvent], config: dict[str, Any]
) -> dict[str, Any]:
    s3 = config["s3_client"]
    one_peak, one_kept = await one_document(poller, events[0], s3)
    set_parse_threads(config["threads"])
    plain = await memory_phase(poller, events, s3, traced=False)
    answer = {
        "one_peak_bytes": one_peak,
        "one_kept_bytes": one_kept,
        "bytes_per_document": plain["download_bytes"] / max(1, plain["downloads"]),
        "rss_growth_bytes": plain["rss_growth_bytes"],
        "rss_peak_reset": plain["rss_peak_reset"],
        "fetch_s": plain["fetch_s"],
        "max_active": plain["max_active"],
        "max_unparsed": plain["max_unparsed"],
        "failures": plain["failures"],
        "downloads": plain["downloads"],
    }
    if config["tracemalloc"]:
        traced = await memory_phase(poller, events, s3, traced=True)
        answer.update(
            traced_peak_bytes=traced["traced_peak_bytes"],
            traced_fetch_s=traced["fetch_s"],
            traced_max_unparsed=traced["max_unparsed"],
            failures=plain["failures"] + traced["failures"],
        )
    return answer


async def child_main(config: dict[str, Any]) -> None:
    from contextlib import AsyncExitStack

    from aiobotocore.session import get_session

    out = sys.stdout
    session = get_session()
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client("transcribe", **config["transcribe"])
        )
        s3 = None
        if config["s3"] is not None:
            s3 = await stack.enter_async_context(session.create_client("s3", **config["s3"]))
        config["s3_client"] = s3
        began = time.time()
        found = await events_of(client, [*config["fetched"], config["probe"]])
        probe = found.pop(config["probe"])
        events = [found[name] for name in config["fetched"]]
        setup_s = time.time() - began
        if config["mode"] == "memory":
            poller = await stack.enter_async_context(
                Poller(client, max_downloads=config["max_downloads"])
            )
            emit(out, {"setup_s": setup_s, **await memory_child(poller, events, config)})
            return
        emit(out, {"setup_s": setup_s, "fetched": len(events)})
        while line := await anyio.to_thread.run_sync(sys.stdin.readline):
            command = json.loads(line)
            if command.get("stop"):
                return
            set_parse_threads(command["threads"])
            # A fresh poller per batch: each contender starts with the List budget's
            # full head start (ListBudget), not what the batches before it left.
            async with Poller(client, max_downloads=config["max_downloads"]) as poller:
                answer = await latency_phase(
                    poller,
                    command["names"],
                    events if command["fetch"] else [],
                    probe.transcript_uri,
                    s3,
                )
            set_parse_threads(None)
            emit(out, answer)


# -- the command line ----------------------------------------------------------------


def memory_rows(text: str) -> list[tuple[int, int | None]]:
    """``"100,500,500:1"``: N documents, each with its parse threads (default: anyio's)."""
    rows: list[tuple[int, int | None]] = []
    for item in text.split(","):
        if item.strip():
            size, _, threads = item.partition(":")
            rows.append((int(size), int(threads) if threads else None))
    return rows


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--awaited", type=int, default=500, help="jobs awaited per contender")
    parser.add_argument("--fetched", type=int, default=500, help="transcripts fetched meanwhile")
    parser.add_argument("--shortest", type=float, default=5.0, help="awaited jobs, seconds")
    parser.add_argument("--longest", type=float, default=30.0, help="awaited jobs, seconds")
    parser.add_argument("--words", type=int, default=2000, help="words per fetched transcript")
    parser.add_argument("--max-downloads", type=int, default=8, help="the poller's option")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated, in this order, of: {', '.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--memory",
        default="100,500,500:1",
        help="memory runs: N documents each, comma-separated; N:T runs N with T parse "
        "threads ('' for none)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="measure each memory run again under tracemalloc (about 4 times slower)",
    )
    parser.add_argument("--via", choices=("service", "bucket"), default="service")
    parser.add_argument("--rounds", type=int, default=1, help="each contender this many times")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--output", help="JSON path (default: benchmarks/results/<name>.json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:  # every part, at sizes whose figures mean nothing
        args.awaited, args.fetched, args.words = 10, 10, 300
        args.shortest, args.longest = 0.2, 1.0
        args.contenders = "no-downloads,fetching"
        args.memory = "10:1"
        args.tracemalloc = True
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = [c for c in args.contenders if c not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders: {', '.join(unknown)}")
    args.memory = memory_rows(args.memory)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    config = None if args.child is None else json.loads(args.child)
    level = getattr(logging, (args.log_level if config is None else config["log_level"]).upper())
    # To stderr: a child's stdout carries its answers.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    if config is not None:
        anyio.run(child_main, config)
        return 0

    sys.path.insert(0, str(HERE))
    from _provenance import git_revision, machine, versions

    from transcribe_poller.testing import LocalTranscribe

    began = time.monotonic()
    with LocalTranscribe(concurrency=None) as bed:
        start_probe(bed)
        latency = run_latency(bed, args) if args.contenders else {"runs": []}
        memory = run_memory(bed, args)
    lines = render_latency(latency, args) if args.contenders else []
    if memory:
        lines += ["", *render_memory(memory, args)]
    print("\n".join(lines))
    lost = sum(r["jobs"] - r["reported"] + r["wrong"] for r in latency["runs"])
    failed = sum((r["fetch"] or {}).get("failures", 0) for r in latency["runs"])
    failed += sum(m["failures"] for m in memory)
    took = time.monotonic() - began
    print(f"\nlost or wrong: {lost}, fetches failed: {failed}; took {took:.0f} s")
    now = datetime.datetime.now(datetime.timezone.utc)
    profile = "smoke" if args.smoke else "default"
    output = (
        Path(args.output)
        if args.output
        else RESULTS / f"transcripts-{profile}-{now:%Y%m%dT%H%M%SZ}.json"
    )
    settings = {k: v for k, v in vars(args).items() if k not in ("child", "output")}
    document = {
        "benchmark": "transcripts",
        "measured_at": now.isoformat(timespec="seconds"),
        "settings": settings,
        "machine": machine(),
        "git": git_revision(),
        "versions": versions(),
        "latency": latency,
        "memory": memory,
        "took_s": took,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1))
    print(f"JSON written to {output}")
    return 1 if lost or failed else 0


if __name__ == "__main__":
    sys.exit(main())
