"""Sweeps: one List request tells which of many jobs may have finished.

Polling each job with its own Get is bound by the Get quota: with 400 jobs pending
and 30 Gets/s, each job is seen every 13 s at best. A sweep lists the jobs that are
still QUEUED or IN_PROGRESS instead. A watched job missing from a complete listing
has probably ended (or does not exist), so its poll loop is woken for one Get; that
Get stays the authority for every event, so a wrong or stale listing costs one Get,
never a wrong event.

Listing the unfinished jobs rather than the finished ones keeps a sweep's cost
bounded by the jobs running in the account (the service caps concurrent jobs), not
by the 90 days of finished jobs it keeps, and needs no particular order of
summaries. When the watched names share a part, ``JobNameContains`` narrows the
listing to them. A sweep that would need more than ``max_pages`` pages gives no
hints at all (absence from a partial listing means nothing), and polling of that
kind falls back to per-job Gets for a while; so do List faults in a row, and List
throttled for ten intervals without a complete sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import structlog

from ._backoff import Backoff
from ._classify import Verdict, classify, describe
from ._jobs import JobKind
from ._ratelimit import RateLimiter
from ._stats import Counters

logger = structlog.get_logger("transcribe_poller")

SweepMode = Literal["auto", "always", "never"]

# The List operation of each kind: its name, client method, summaries, name field.
_LIST = {
    JobKind.STANDARD: (
        "ListTranscriptionJobs",
        "list_transcription_jobs",
        "TranscriptionJobSummaries",
        "TranscriptionJobName",
    ),
    JobKind.MEDICAL: (
        "ListMedicalTranscriptionJobs",
        "list_medical_transcription_jobs",
        "MedicalTranscriptionJobSummaries",
        "MedicalTranscriptionJobName",
    ),
}
_UNFINISHED = ("QUEUED", "IN_PROGRESS")  # QUEUED first: jobs only ever move forward
MIN_SHARED_PART = 3  # a shorter JobNameContains filters too little to be worth it
# Without a complete sweep for this many intervals, sweeping gives way to per-job Gets.
PATIENCE_INTERVALS = 10


@dataclass(frozen=True)
class Sweep:
    """When and how the poller lists jobs instead of polling each one.

    ``mode``: ``"auto"`` sweeps a kind of job while at least ``threshold`` of them
    are pending (and stops below half that), ``"always"`` whenever any is pending,
    ``"never"`` polls each job with Get only. ``max_list_rate`` is the List request
    budget per List operation (AWS's default quota is 5/s). A sweep starts at most
    every ``interval`` seconds. A job is also read with Get when it has not been for
    ``stale_after`` seconds, whatever the listings say.
    """

    mode: SweepMode = "auto"
    threshold: int = 10
    max_list_rate: float = 4.0
    interval: float = 1.5
    stale_after: float = 120.0
    page_size: int = 100
    max_pages: int = 20

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "always", "never"):
            raise ValueError(f"Sweep.mode must be 'auto', 'always' or 'never', got {self.mode!r}")
        for name in ("max_list_rate", "interval", "stale_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Sweep.{name} must be a positive number, got {value!r}")
        for name, low, high in (
            ("threshold", 1, None),
            ("page_size", 1, 100),
            ("max_pages", 1, None),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"Sweep.{name} must be a whole number >= {low}, got {value!r}")
            if high is not None and value > high:
                raise ValueError(f"Sweep.{name} must be at most {high}, got {value!r}")

    def wanted(self, pending: int, running: bool) -> bool:
        """Whether a kind with ``pending`` jobs should be swept (with hysteresis)."""
        if self.mode == "never" or pending == 0:
            return False
        if self.mode == "always":
            return True
        return pending >= (self.threshold / 2 if running else self.threshold)


def shared_part(names: Iterable[str]) -> str | None:
    """The longest common prefix or suffix of the names, if long enough to filter by."""
    names = list(names)
    if not names:
        return None
    prefix = _common_prefix(names)
    suffix = _common_prefix([name[::-1] for name in names])[::-1]
    best = max(prefix, suffix, key=len)
    return best if len(best) >= MIN_SHARED_PART else None


def _common_prefix(names: list[str]) -> str:
    shortest = min(names, key=len)
    for i, char in enumerate(shortest):
        if any(name[i] != char for name in names):
            return shortest[:i]
    return shortest


class Sweeper:
    """Sweeps one kind of job while the poller wants it; hints through ``hint``."""

    def __init__(
        self,
        *,
        client: Any,
        kind: JobKind,
        settings: Sweep,
        counters: Counters,
        pending: Callable[[], dict[str, Any]],
        hint: Callable[[Any], None],
        still_wanted: Callable[[], bool],
    ) -> None:
        self.operation, method, self._summaries_field, self._name_field = _LIST[kind]
        self._list = getattr(client, method)
        self.kind = kind
        self.settings = settings
        self.limiter = RateLimiter(settings.max_list_rate)
        self._counters = counters
        self._pending = pending
        self._hint = hint
        self._still_wanted = still_wanted
        self.running = False
        self.disabled_until = -math.inf
        self._last_complete = -math.inf
        self._log = logger.bind(kind=kind.value)

    async def run(self) -> None:
        self.running = True
        self._last_complete = anyio.current_time()
        try:
            await self._sweep_while_wanted()
        except Exception as error:
            # A malformed listing, say: per-job Gets still do the job.
            self._fall_back(describe(error), for_seconds=math.inf)
        finally:
            self.running = False

    async def _sweep_while_wanted(self) -> None:
        while self._still_wanted():
            started = anyio.current_time()
            before = self._pending()  # only jobs watched before the listing began
            listed = await self._list_unfinished(shared_part(before))
            if listed is None:
                return  # fallen back to per-job polling for now
            self._counters.sweeps += 1
            self._last_complete = anyio.current_time()
            for name, tracked in before.items():
                if name not in listed:
                    self._hint(tracked)
            await anyio.sleep(max(0.0, started + self.settings.interval - anyio.current_time()))

    async def _list_unfinished(self, contains: str | None) -> set[str] | None:
        """Names of every unfinished job (matching ``contains``), or None if incomplete."""
        names: set[str] = set()
        pages = 0
        for status in _UNFINISHED:
            token: str | None = None
            while True:
                if pages >= self.settings.max_pages:
                    self._fall_back(f"more than {self.settings.max_pages} pages per sweep")
                    return None
                params: dict[str, Any] = {"Status": status, "MaxResults": self.settings.page_size}
                if contains:
                    params["JobNameContains"] = contains
                if token:
                    params["NextToken"] = token
                page = await self._request(params)
                if page is None:
                    return None
                pages += 1
                self._counters.list_pages += 1
                names.update(s[self._name_field] for s in page.get(self._summaries_field, ()))
                token = page.get("NextToken")
                if not token:
                    break
        return names

    async def _request(self, params: dict[str, Any]) -> dict[str, Any] | None:
        faults = 0
        backoff = Backoff(initial=0.5, maximum=5.0)
        while True:
            sent_at = await self.limiter.acquire()
            self._counters.sent()
            self._counters.list_requests += 1
            try:
                return dict(await self._list(**params))
            except Exception as error:
                verdict, retry_after = classify(error)
                if verdict is Verdict.THROTTLED:
                    self._counters.throttled += 1
                    self.limiter.on_throttle(sent_at, retry_after)
                    self._log.info("list throttled", rate_limit=round(self.limiter.rate, 2))
                    stalled = anyio.current_time() - self._last_complete
                    if stalled > PATIENCE_INTERVALS * self.settings.interval:
                        # Throttled (or 503) for so long that jobs waiting for hints
                        # would wait for their stale read: let Gets carry on for now.
                        self._fall_back(f"no complete sweep for {stalled:.0f} s: List throttled")
                        return None
                elif verdict is Verdict.TRANSIENT:
                    faults += 1
                    if faults > 3:
                        # An outage, say: Gets carry on, and sweeps resume later.
                        self._fall_back(describe(error))
                        return None
                    self._counters.retried_faults += 1
                else:
                    # Access denied to List, say: Gets alone still do the job.
                    self._fall_back(describe(error), for_seconds=math.inf)
                    return None
            await anyio.sleep(backoff.delay(faults))

    def _fall_back(self, reason: str, for_seconds: float = 60.0) -> None:
        self.disabled_until = anyio.current_time() + for_seconds
        self._log.warning(
            "sweeping stopped; polling each job", reason=reason, for_seconds=for_seconds
        )
