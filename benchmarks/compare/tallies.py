"""Verdicts: every job judged against its script, and the figures of a run."""

from __future__ import annotations

import collections
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .kinds import CONTENDERS, EVENT_KINDS, KINDS, LIST_OPERATIONS
from .profiles import PlannedJob, Scripts


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_uri_ok(plan: PlannedJob, name: str, record: dict[str, Any]) -> bool:
    """A COMPLETED report carries this job's transcript to fetch: the redacted one if
    any; a Medical Scribe report carries its clinical document too."""
    uri = record["uri"]
    if uri is None or name not in uri:
        return False
    if ("/redacted-" in uri) != (plan.redaction is not None):
        return False
    if plan.kind == "medical-scribe":
        clinical = record.get("clinical_document_uri")
        return clinical is not None and name in clinical
    return True


@dataclass
class Tally:
    """Verdicts over some jobs: reported, lost (and why), wrong, and how fast."""

    jobs: int = 0
    latencies: list[float] = field(default_factory=list)
    lost_reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    wrong: list[str] = field(default_factory=list)
    uri_errors: list[str] = field(default_factory=list)

    def add(self, job: PlannedJob, name: str, script: Any, record: dict[str, Any] | None) -> None:
        self.jobs += 1
        if record is None or record["outcome"] is None:
            self.lost_reasons[record["lost"] if record else "no result"] += 1
            return
        if record["outcome"] != script.outcome:
            self.wrong.append(
                f"{job.kind}:{name} reported {record['outcome']}, script {script.outcome}"
            )
            return
        self.latencies.append(record["detected_at"] - script.terminal_at)
        # Every contender here reads the final answer, so a COMPLETED report has a URI.
        if record["outcome"] == "COMPLETED" and not expected_uri_ok(job, name, record):
            self.uri_errors.append(f"{job.kind}:{name} uri {record['uri']}")

    @property
    def lost(self) -> int:
        return sum(self.lost_reasons.values())

    def figures(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "reported": self.jobs - self.lost,
            "lost": self.lost,
            "lost_reasons": dict(self.lost_reasons),
            "wrong_outcomes": len(self.wrong),
            "wrong_examples": self.wrong[:5],
            "uri_mismatches": len(self.uri_errors),
            "uri_mismatch_examples": self.uri_errors[:5],
            "latency_s": latency_figures(self.latencies),
        }


def latency_figures(latencies: list[float]) -> dict[str, Any]:
    return {
        "count": len(latencies),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=None),
        "mean": sum(latencies) / len(latencies) if latencies else None,
    }


def tally(scripts: Scripts, records: dict[tuple[str, str], Any], kind: str | None = None) -> Tally:
    """Judge every job of the batch (of one kind, if given) against its script."""
    result = Tally()
    for (job_kind, name), (job, script) in scripts.items():
        if kind is None or job_kind == kind:
            result.add(job, name, script, records.get((job_kind, name)))
    return result


def kind_traffic(traffic: Any, kind: str, jobs: int) -> dict[str, Any]:
    """Requests of one kind's two operations (its Get and its List), throttled included."""
    from transcribe_poller.testing import Counts

    get = traffic.by_operation.get(KINDS[kind].get_operation, Counts())
    listing = traffic.by_operation.get(KINDS[kind].list_operation, Counts())
    requests = get.requests + listing.requests
    return {
        "requests": requests,
        "requests_per_job": requests / jobs if jobs else 0.0,
        "list_requests": listing.requests,
        "throttled": get.throttled + listing.throttled,
        "throttled_share": (get.throttled + listing.throttled) / requests if requests else 0.0,
    }


def kind_figures(
    scripts: Scripts, records: dict[tuple[str, str], Any], traffic: Any
) -> dict[str, dict[str, Any]]:
    """Per kind of job in the batch: its jobs judged, and its own operations' requests."""
    kinds = {}
    for kind in KINDS:
        of_kind = tally(scripts, records, kind)
        if of_kind.jobs:
            kinds[kind] = {**of_kind.figures(), **kind_traffic(traffic, kind, of_kind.jobs)}
    return kinds


def summarise(
    contender: str,
    outcome: dict[str, Any],
    scripts: Scripts,
    traffic: Any,
    bed_cpu: float,
    events: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from transcribe_poller.testing import Counts

    records = {(r["kind"], r["name"]): r for r in outcome["records"]}
    if events is not None:
        for key, record in records.items():
            record["event_sent_at"] = events["sent_at"].get(key)
    overall = tally(scripts, records)
    kinds = kind_figures(scripts, records, traffic)
    # Counts were reset before this contender began: every request seen is its own, List
    # requests included (they name no job, so the per-job counts leave them out).
    requests = traffic.total.requests
    throttled = traffic.total.throttled
    list_requests = sum(traffic.by_operation.get(op, Counts()).requests for op in LIST_OPERATIONS)
    per_job_requests = [traffic.job(name, kind).requests for kind, name in scripts]
    return {
        "contender": contender,
        "description": CONTENDERS[contender],
        "client_config": outcome["client_config"],
        **overall.figures(),
        "requests": requests,
        "requests_per_job": requests / overall.jobs,
        "list_requests": list_requests,
        "get_requests_named_by_jobs": sum(per_job_requests),
        "max_requests_one_job": max(per_job_requests, default=0),
        "throttled": throttled,
        "throttled_share": throttled / requests if requests else 0.0,
        "traffic_by_operation": {op: asdict(counts) for op, counts in traffic.by_operation.items()},
        "kinds": kinds,
        "push": None if events is None else push_figures(scripts, records, events, outcome, kinds),
        "wall_s": outcome["wall_s"],
        "client_cpu_s": outcome["client_cpu_s"],
        "client_max_rss_mb": outcome["client_max_rss_mb"],
        "bed_cpu_s": bed_cpu,
        "deadline_hit": bool(outcome.get("deadline_hit")),
        "poller_statistics": outcome.get("poller_statistics"),
        "log_warnings": outcome.get("log_warnings", {}),
        "records": outcome["records"],
    }


def push_figures(
    scripts: Scripts,
    records: dict[tuple[str, str], Any],
    events: dict[str, Any],
    outcome: dict[str, Any],
    kinds: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """For the push contender, per kind that sends events: detection latency from the
    event for the jobs whose event came (the moment the contender was told, which
    follows the Get that saw the end, minus the moment the event was put in the
    queue), and from the job's end for those whose event was lost; Transcribe and SQS
    requests per job."""
    by_kind: dict[str, Any] = {}
    for kind in EVENT_KINDS:
        if kind not in kinds:
            continue
        from_event: list[float] = []
        get_from_event: list[float] = []
        without_event: list[float] = []
        with_event = no_event = 0
        for (job_kind, name), (_, script) in scripts.items():
            if job_kind != kind:
                continue
            sent_at = events["sent_at"].get((job_kind, name))
            with_event += sent_at is not None
            no_event += sent_at is None
            record = records.get((job_kind, name))
            if record is None or record["outcome"] != script.outcome:
                continue  # lost or wrong: counted in the main table
            if sent_at is None:
                without_event.append(record["detected_at"] - script.terminal_at)
            else:
                from_event.append(record["detected_at"] - sent_at)
                if script.first_terminal_read_at is not None:
                    get_from_event.append(script.first_terminal_read_at - sent_at)
        by_kind[kind] = {
            "jobs": kinds[kind]["jobs"],
            "with_event": with_event,
            "without_event": no_event,
            "latency_from_event_s": latency_figures(from_event),
            # The bed's side: when the first Get that answered the end was answered.
            "first_terminal_get_from_event_s": latency_figures(get_from_event),
            "latency_without_event_s": latency_figures(without_event),
            "transcribe_requests_per_job": kinds[kind]["requests_per_job"],
        }
    stats = outcome.get("poller_statistics") or {}
    evented_jobs = sum(k["jobs"] for k in by_kind.values())
    queue_requests = stats.get("queue_requests", 0)
    return {
        "event_options": events.get("options"),
        "emitter": events["statistics"],
        "reconcile_interval_s": outcome.get("reconcile_interval_s"),
        "kinds": by_kind,
        "evented_jobs": evented_jobs,
        "sqs_requests": queue_requests,
        "sqs_requests_per_job": queue_requests / evented_jobs if evented_jobs else None,
        "sqs_messages": stats.get("queue_messages", 0),
        "sqs_requests_on_the_wire": outcome.get("sqs_requests_by_operation"),
        "sqs_client_config": outcome.get("sqs_client_config"),
    }
