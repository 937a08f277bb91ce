"""--replicas N: the table per process, the notes and the targets."""

from __future__ import annotations

import argparse
from typing import Any

from .profiles import Profile
from .render import KIND_HEADER, KIND_NOTE, figures_row, fmt, kind_row

# Targets for "many replicas in one account", by number of replicas.
REPLICA_TARGETS: dict[int, dict[str, float]] = {
    4: {
        "lost": 0,
        "throttled_share": 0.02,
        "requests_per_job": 2.0,
        "p95_s": 2.5,
        "p95_spread": 1.25,
    },
    8: {"lost": 0, "throttled_share": 0.05},
}


def render_replicas(
    summary: dict[str, Any], profile: Profile, replicas: int, naming: str, args: argparse.Namespace
) -> str:
    agg = summary["aggregate"]
    lines = [
        *_process_table(summary),
        "",
        f"{'all, by':<8}{KIND_HEADER}",
        *(f"{'':<8}{kind_row(kind, k)}" for kind, k in summary["kinds"].items()),
        "",
        *_replica_notes(summary),
        f"List requests throttled: {agg['list_throttled']} of {agg['list_requests']} "
        f"({100 * agg['list_throttled_share']:.1f}%); sweeps {agg['sweeps']}, "
        f"{agg['list_pages']} List pages in all.",
        f"Spread of per-process p95: max/min = {fmt(agg['p95_spread'], 2)}.",
        f"Requests counted by the pollers: {agg['requests_counted_by_pollers']}; "
        f"seen by the proxy: {agg['requests']}.",
        "",
        f"{replicas} processes at once, each a Poller with its defaults (legacy client) "
        f"watching its own batch; names {naming}. {profile.describe_quota()}",
        f"Per process: {profile.describe_batch()}, seed {args.seed} * 1000 + process.",
        "all: requests, List and throttled as the proxy saw them (every process); "
        "req/job = requests / jobs; p50/p95 over every reported job. Per process: "
        "requests and throttled as that process's poller counted them (statistics()).",
        KIND_NOTE,
    ]
    return "\n".join(lines)


def _process_table(summary: dict[str, Any]) -> list[str]:
    """A row per process, then the row of all of them."""
    header = (
        f"{'process':<8}{'jobs':>5}{'reported':>9}{'lost':>6}{'wrong':>6}{'req/job':>8}"
        f"{'requests':>9}{'of which List':>14}{'throttled':>16}{'p50 s':>7}{'p95 s':>7}"
        f"{'wall s':>8}{'CPU s':>7}"
    )
    rule = "-" * len(header)
    rows = [_process_row(f"r{p['replica']}", p) for p in summary["processes"]]
    return [header, rule, *rows, rule, _process_row("all", summary["aggregate"])]


def _process_row(label: str, row: dict[str, Any]) -> str:
    return f"{label:<8}{figures_row(row)}{row['wall_s']:>8.1f}{row['client_cpu_s']:>7.2f}"


def _replica_notes(summary: dict[str, Any]) -> list[str]:
    """Why jobs were lost, and warnings the pollers logged, per process."""
    notes = []
    for p in summary["processes"]:
        if p["lost_reasons"]:
            reasons = ", ".join(f"{n} {why}" for why, n in p["lost_reasons"].items())
            notes.append(f"lost by r{p['replica']}: {reasons}")
        if p["uri_mismatches"]:
            notes.append(f"URI mismatches by r{p['replica']}: {p['uri_mismatches']}")
        if p["log_warnings"]:
            said = ", ".join(f"{n} x {event!r}" for event, n in p["log_warnings"].items())
            notes.append(f"warnings logged by r{p['replica']}: {said}")
    return notes


def replica_checks(
    summary: dict[str, Any], targets: dict[str, float]
) -> list[tuple[str, bool, str]]:
    """(label, met, measured) for each target set for this number of replicas."""
    agg = summary["aggregate"]
    checks = []
    if "lost" in targets:
        checks.append(("lost == 0", agg["lost"] <= targets["lost"], str(agg["lost"])))
        checks.append(("wrong == 0", agg["wrong_outcomes"] == 0, str(agg["wrong_outcomes"])))
    if "throttled_share" in targets:
        limit = targets["throttled_share"]
        share = agg["throttled_share"]
        checks.append((f"throttled <= {limit:.0%}", share <= limit, f"{100 * share:.2f}%"))
    if "requests_per_job" in targets:
        limit = targets["requests_per_job"]
        per_job = agg["requests_per_job"]
        checks.append((f"req/job <= {limit:.1f}", per_job <= limit, f"{per_job:.2f}"))
    if "p95_s" in targets:
        limit = targets["p95_s"]
        p95 = agg["latency_s"]["p95"]
        checks.append((f"p95 <= {limit:g} s", p95 is not None and p95 <= limit, fmt(p95, 2)))
    if "p95_spread" in targets:
        limit = targets["p95_spread"]
        spread = agg["p95_spread"]
        met = spread is not None and spread <= limit
        checks.append((f"p95 max/min <= {limit:.2f}", met, fmt(spread, 2)))
    return checks


def render_replica_targets(summary: dict[str, Any], replicas: int) -> str:
    targets = REPLICA_TARGETS.get(replicas)
    if targets is None:
        known = " and ".join(str(n) for n in REPLICA_TARGETS)
        return f"No targets set for {replicas} replicas (they are set for {known})."
    lines = [f"Targets ({replicas} replicas):"]
    for label, ok, measured in replica_checks(summary, targets):
        lines.append(f"  {label:<22} measured {measured:<8} {'met' if ok else 'NOT MET'}")
    return "\n".join(lines)
