"""What a load phase records per update, and the figures made from it."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(seconds: list[float]) -> dict:
    """p50/p95/p99 and friends, in milliseconds."""
    ordered = sorted(seconds)
    as_ms = lambda value: None if value is None else round(value * 1000, 3)  # noqa: E731
    return {"count": len(ordered),
            "p50_ms": as_ms(percentile(ordered, 50)), "p95_ms": as_ms(percentile(ordered, 95)),
            "p99_ms": as_ms(percentile(ordered, 99)),
            "mean_ms": as_ms(sum(ordered) / len(ordered)) if ordered else None,
            "max_ms": as_ms(ordered[-1]) if ordered else None}


@dataclass(slots=True)
class StepSample:
    kind: str             # "text" or "callback": what the simulated user sent
    step: str             # where in the session: "start", "language", "search", ...
    offered_at: float     # the update was queued on the fake server (perf_counter)
    first_reply_at: float  # the first reply to that chat reached the server
    done_at: float        # the reply that lets the user go on reached the server


@dataclass
class StepRecorder:
    """Every step of every simulated user in one phase."""

    samples: list[StepSample] = field(default_factory=list)
    offered: Counter = field(default_factory=Counter)
    timeouts: Counter = field(default_factory=Counter)
    timed_out_offers: list[float] = field(default_factory=list)  # when those were offered
    step_timeout: float = 0.0
    errors: Counter = field(default_factory=Counter)
    sessions_started: int = 0
    sessions_completed: int = 0

    def offer(self, kind: str) -> None:
        self.offered[kind] += 1

    def answered(self, sample: StepSample) -> None:
        self.samples.append(sample)

    def timed_out(self, kind: str, offered_at: float, waited: float) -> None:
        self.timeouts[kind] += 1
        self.timed_out_offers.append(offered_at)
        self.step_timeout = waited

    def failed(self, reason: str) -> None:
        self.errors[reason] += 1

    def summary(self, window_start: float, window_end: float) -> dict:
        """Throughput counts replies that arrived inside the window; latency covers updates
        offered inside it (so the warm-up and the drain after the phase stay out). An update
        that timed out counts with the timeout as its latency: leaving it out would make an
        overloaded target look faster the more it drops."""
        span = max(window_end - window_start, 1e-9)
        answered = [s for s in self.samples if window_start <= s.done_at <= window_end]
        offered = [s for s in self.samples if window_start <= s.offered_at <= window_end]
        kinds = Counter(s.kind for s in answered)
        by_step: dict[str, list[float]] = {}
        for sample in offered:
            by_step.setdefault(sample.step, []).append(sample.first_reply_at - sample.offered_at)
        timed_out = [self.step_timeout for at in self.timed_out_offers
                     if window_start <= at <= window_end]
        latency = latency_summary([s.first_reply_at - s.offered_at for s in offered] + timed_out)
        latency["timeouts_counted_at_timeout"] = len(timed_out)
        return {
            "window_seconds": round(span, 3),
            "answered_in_window": len(answered),
            "throughput_per_s": round(len(answered) / span, 1),
            "latency": latency,
            "answered_kinds": dict(kinds),
            "latency_by_step": {step: latency_summary(values) for step, values in by_step.items()},
            "offered_total": sum(self.offered.values()),
            "answered_total": len(self.samples),
            "timeouts": sum(self.timeouts.values()),
            "errors": dict(self.errors),
            "sessions_started": self.sessions_started,
            "sessions_completed": self.sessions_completed,
        }
