"""The tables of a contenders run: all jobs, per kind, and push."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from .profiles import Profile


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(results: list[dict[str, Any]], profile: Profile, args: argparse.Namespace) -> str:
    header = (
        f"{'contender':<16}{'jobs':>5}{'reported':>9}{'lost':>6}{'wrong':>6}"
        f"{'req/job':>8}{'requests':>9}{'of which List':>14}{'throttled':>16}"
        f"{'p50 s':>7}{'p95 s':>7}{'p99 s':>7}{'wall s':>8}{'client CPU s':>13}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        share = f"{r['throttled']} ({100 * r['throttled_share']:.1f}%)"
        lat = r["latency_s"]
        lines.append(
            f"{r['contender']:<16}{r['jobs']:>5}{r['reported']:>9}{r['lost']:>6}"
            f"{r['wrong_outcomes']:>6}{r['requests_per_job']:>8.2f}{r['requests']:>9}"
            f"{r['list_requests']:>14}{share:>16}{fmt(lat['p50']):>7}{fmt(lat['p95']):>7}{fmt(lat['p99']):>7}"
            f"{r['wall_s']:>8.1f}{r['client_cpu_s']:>13.2f}"
        )
    notes = []
    for r in results:
        if r["lost_reasons"]:
            reasons = ", ".join(f"{n} {why}" for why, n in r["lost_reasons"].items())
            notes.append(f"lost by {r['contender']}: {reasons}")
        if r["uri_mismatches"]:
            notes.append(f"URI mismatches by {r['contender']}: {r['uri_mismatches']}")
    if notes:
        lines += ["", *notes]
    lines += [
        "",
        profile.describe_quota(),
        f"Per contender: {profile.describe_batch()}, seed {args.seed}.",
        "reported: COMPLETED or FAILED delivered. lost: no result before the deadline "
        f"(longest job + {profile.grace:g} s), an exception, or another outcome.",
        "wrong: reported COMPLETED/FAILED unlike the script. requests, throttled: seen by "
        "the proxy while this contender ran, Get and List (botocore's own retries "
        "included); req/job = requests / jobs.",
        "p50/p95/p99: detection latency over reported jobs = time.time() when the "
        "contender learned the terminal status - ScriptedJob.terminal_at.",
        "wall: from handing the jobs to the contender until its last job was reported or "
        "lost. client CPU: time.process_time() of the contender's own process (moto and "
        "the proxy run in the parent process and are not included).",
    ]
    kinds = render_kinds(results)
    if kinds:
        lines += ["", kinds]
    push = render_push(results)
    if push:
        lines += ["", push]
    return "\n".join(lines)


PUSH_HEADER = (
    f"{'':<37}{'event in queue, from it':^26}{'event lost, from end':^27}\n"
    f"{'push':<16}{'kind':<16}{'jobs':>5}{'with':>6}{'p50 s':>7}{'p95 s':>7}{'max s':>6}"
    f"{'no event':>9}{'p50 s':>6}{'p95 s':>6}{'max s':>6}{'Transcribe/job':>15}"
)


def render_push(results: list[dict[str, Any]]) -> str:
    """The push contender: latency from the event, or from the end when it was lost."""
    pushers = [r for r in results if r.get("push")]
    if not pushers:
        return ""
    header = PUSH_HEADER
    lines = [header, "-" * len(header.splitlines()[-1])]
    notes = []
    for r in pushers:
        push = r["push"]
        for kind, k in push["kinds"].items():
            ev, lost = k["latency_from_event_s"], k["latency_without_event_s"]
            lines.append(
                f"{r['contender']:<16}{kind:<16}{k['jobs']:>5}{k['with_event']:>6}"
                f"{fmt(ev['p50'], 2):>7}{fmt(ev['p95'], 2):>7}{fmt(ev['max'], 1):>6}"
                f"{k['without_event']:>9}{fmt(lost['p50']):>6}{fmt(lost['p95']):>6}"
                f"{fmt(lost['max']):>6}{k['transcribe_requests_per_job']:>15.2f}"
            )
        wire = push["sqs_requests_on_the_wire"] or {}
        said = ", ".join(f"{op} {n}" for op, n in sorted(wire.items()))
        notes.append(
            f"{r['contender']}: SQS {push['sqs_requests']} requests (statistics().queue_requests) "
            f"for {push['evented_jobs']} jobs of kinds with events: "
            f"{fmt(push['sqs_requests_per_job'], 2)} per job; {push['sqs_messages']} messages "
            f"received; on the wire: {said}."
        )
        e, o = push["emitter"], push["event_options"] or {}
        delay = o.get("delay") or [0, 0]
        notes.append(
            f"{r['contender']}: the bed sent {e['sent']} events ({e['duplicated']} of them "
            f"duplicates), lost {e['lost']} on purpose, failed {e['failed']}, "
            f"{e['pending']} still pending; loss {o.get('loss', 0):.0%}, duplicate "
            f"{o.get('duplicate', 0):.0%}, delay {delay[0]:g}-{delay[1]:g} s, seed "
            f"{o.get('seed')}; reconcile interval {fmt(push['reconcile_interval_s'], 0)} s."
        )
    lines += [
        *(line for note in notes for line in textwrap.wrap(note, width=90, subsequent_indent="  ")),
        *textwrap.wrap(
            "with: jobs whose first event was put in the queue (bed.event_sent_at); latency "
            "from it = time.time() when the contender was told of the end (after the Get that "
            "saw it returned) - event_sent_at, over reported jobs (negative: found before the "
            "event). no event: jobs whose event was lost; latency from ScriptedJob.terminal_at. "
            "Transcribe/job: requests of the kind's own Get and List per job of the kind. SQS "
            "requests are not Transcribe's and are in none of the other columns.",
            width=90,
        ),
    ]
    return "\n".join(lines)


KIND_HEADER = (
    f"{'kind':<16}{'jobs':>5}{'reported':>9}{'lost':>6}{'wrong':>6}{'req/job':>8}"
    f"{'requests':>9}{'of which List':>14}{'throttled':>16}{'p50 s':>7}{'p95 s':>7}"
)
KIND_NOTE = (
    "per kind: requests are those of the kind's own Get and List operations "
    "(each has its own quota); latency over the kind's reported jobs."
)


def kind_row(kind: str, k: dict[str, Any]) -> str:
    return f"{kind:<16}{figures_row(k)}"


def figures_row(k: dict[str, Any]) -> str:
    """The columns every table of a tally shares: jobs, requests, throttling, latency."""
    share = f"{k['throttled']} ({100 * k['throttled_share']:.1f}%)"
    lat = k["latency_s"]
    return (
        f"{k['jobs']:>5}{k['reported']:>9}{k['lost']:>6}{k['wrong_outcomes']:>6}"
        f"{k['requests_per_job']:>8.2f}{k['requests']:>9}{k['list_requests']:>14}{share:>16}"
        f"{fmt(lat['p50']):>7}{fmt(lat['p95']):>7}"
    )


def render_kinds(results: list[dict[str, Any]]) -> str:
    """Per kind of job, for the poller contenders (every contender's are in the JSON)."""
    pollers = [r for r in results if r["contender"].startswith("poller")]
    if not pollers:
        return ""
    header = f"{'per kind':<16}{KIND_HEADER}"
    lines = [header, "-" * len(header)]
    for r in pollers:
        for kind, k in r["kinds"].items():
            lines.append(f"{r['contender']:<16}{kind_row(kind, k)}")
    lines.append(KIND_NOTE)
    return "\n".join(lines)
