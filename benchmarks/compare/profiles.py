"""Batch profiles and the plan of one batch: the same jobs for every contender."""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, replace
from typing import Any

from .kinds import GET_OPERATIONS, KINDS, LIST_OPERATIONS, REDACTABLE


@dataclass(frozen=True)
class Profile:
    standard: int
    medical: int
    call_analytics: int
    medical_scribe: int
    shortest: float
    longest: float
    quota: float
    burst: float
    list_quota: float
    fail_share: float
    grace: float

    def counts(self) -> dict[str, int]:
        """Jobs per kind, in the order the batch plan draws them."""
        return {
            "standard": self.standard,
            "medical": self.medical,
            "call-analytics": self.call_analytics,
            "medical-scribe": self.medical_scribe,
        }

    def describe_batch(self) -> str:
        kinds = " + ".join(f"{n} {kind}" for kind, n in self.counts().items() if n)
        return (
            f"{kinds} jobs, durations uniform {self.shortest:g}-{self.longest:g} s, "
            f"{self.fail_share:.0%} FAILED"
        )

    def describe_quota(self) -> str:
        return (
            f"Quota {self.quota:g} requests/s, burst {self.burst:g}, on each of the "
            f"{len(GET_OPERATIONS)} Get operations; {self.list_quota:g}/s, burst "
            f"{self.list_quota:g}, on each of the {len(LIST_OPERATIONS)} List operations "
            f"({', '.join(GET_OPERATIONS + LIST_OPERATIONS)})."
        )


DEFAULT_PROFILE = Profile(
    standard=300,
    medical=100,
    call_analytics=60,
    medical_scribe=40,
    shortest=15.0,
    longest=90.0,
    quota=30.0,
    burst=30.0,
    list_quota=5.0,
    fail_share=0.05,
    grace=120.0,
)
PROFILES = {
    "default": DEFAULT_PROFILE,
    # A larger batch for the two polling strategies (--contenders poller,poller-get-only).
    "large": replace(
        DEFAULT_PROFILE, standard=800, medical=200, call_analytics=120, medical_scribe=80
    ),
    # Fewer, shorter jobs under the same quota: the contenders in about 2 minutes.
    "quick": replace(
        DEFAULT_PROFILE,
        standard=100,
        medical=30,
        call_analytics=20,
        medical_scribe=10,
        shortest=5.0,
        longest=15.0,
        grace=45.0,
    ),
}


@dataclass(frozen=True)
class PlannedJob:
    """One job of the batch, the same for every contender apart from its name prefix."""

    kind: str  # a key of KINDS
    index: int
    duration: float
    fail_with: str | None
    redaction: str | None

    def name(self, prefix: str) -> str:
        return f"{prefix}-{KINDS[self.kind].short}-{self.index:04d}"


def plan_batch(profile: Profile, seed: int) -> list[PlannedJob]:
    """Durations uniform in [shortest, longest], a fail_share of FAILED jobs drawn at
    random, and a quarter each of the remaining redactable jobs redacted in each mode.

    Kinds are drawn in a fixed order (standard, medical, call analytics, medical
    scribe), so a batch without the two newer kinds is, job for job, the batch the
    script drew before they existed: before/after comparisons face the same jobs.
    """
    rng = random.Random(seed)
    counts = profile.counts()
    total = sum(counts.values())
    failing = set(rng.sample(range(total), round(total * profile.fail_share)))
    plan: list[PlannedJob] = []
    for kind, count in counts.items():
        for index in range(count):
            position = len(plan)
            duration = rng.uniform(profile.shortest, profile.longest)
            fail = f"scripted failure of job {position}" if position in failing else None
            redaction = None
            if kind in REDACTABLE and fail is None:
                redaction = ("redacted", "redacted_and_unredacted", None, None)[index % 4]
            plan.append(PlannedJob(kind, index, duration, fail, redaction))
    return plan


Scripts = dict[tuple[str, str], tuple[PlannedJob, Any]]


def profile_with_overrides(base: Profile, args: argparse.Namespace) -> Profile:
    """The profile with whatever the command line set (--standard, --quota, ...)."""
    overrides = {
        name: getattr(args, name)
        for name in Profile.__dataclass_fields__
        if getattr(args, name, None) is not None
    }
    return replace(base, **overrides)
