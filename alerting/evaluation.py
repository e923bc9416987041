"""The alert decision: a pure function of (rule, recent results, alert state).

STATUS   triggers when the last ``failure_threshold`` results all equal the
         value (DOWN or DEGRADED); resolves when the last
         ``success_threshold`` results are all UP.
LATENCY  triggers when the last ``failure_threshold`` results that have a
         latency are all above the value (ms); resolves when the last
         ``success_threshold`` such results are all below it. Results
         without a latency do not count.
UPTIME   triggers when uptime over the last ``failure_threshold`` results is
         below the value (%); resolves when uptime over the last
         ``success_threshold`` results is at or above it. Uptime counts UP and
         DEGRADED as available, as the daily rollups do.

``replay`` walks new results one at a time so the outcome is the same however
results are batched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

UP = "UP"
DEGRADED = "DEGRADED"
TRIGGERED = "TRIGGERED"
RESOLVED = "RESOLVED"


class Decision(Enum):
    NONE = "NONE"
    TRIGGER = "TRIGGER"
    RESOLVE = "RESOLVE"


@dataclass(frozen=True)
class RuleSpec:
    """What evaluation needs of a rule."""

    kind: str  # STATUS | LATENCY | UPTIME
    value: str
    failure_threshold: int
    success_threshold: int

    @property
    def window(self) -> int:
        """How many recent results a decision may look at."""
        return max(self.failure_threshold, self.success_threshold)


@dataclass(frozen=True)
class Sample:
    """One check result as evaluation sees it."""

    status: str
    latency_ms: float | None = None


def _uptime(samples: Sequence[Sample]) -> float:
    ok = sum(1 for s in samples if s.status in (UP, DEGRADED))
    return 100.0 * ok / len(samples)


def failing(rule: RuleSpec, samples: Sequence[Sample]) -> bool:
    """True when the newest results meet the rule's trigger condition."""
    n = rule.failure_threshold
    if rule.kind == "STATUS":
        tail = samples[-n:]
        return len(tail) == n and all(s.status == rule.value for s in tail)
    if rule.kind == "LATENCY":
        timed = [s for s in samples if s.latency_ms is not None][-n:]
        return len(timed) == n and all(s.latency_ms > float(rule.value) for s in timed)  # type: ignore[operator]
    if rule.kind == "UPTIME":
        tail = samples[-n:]
        return len(tail) == n and _uptime(tail) < float(rule.value)
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def recovered(rule: RuleSpec, samples: Sequence[Sample]) -> bool:
    """True when the newest results meet the rule's resolve condition."""
    n = rule.success_threshold
    if rule.kind == "STATUS":
        tail = samples[-n:]
        return len(tail) == n and all(s.status == UP for s in tail)
    if rule.kind == "LATENCY":
        timed = [s for s in samples if s.latency_ms is not None][-n:]
        return len(timed) == n and all(s.latency_ms < float(rule.value) for s in timed)  # type: ignore[operator]
    if rule.kind == "UPTIME":
        tail = samples[-n:]
        return len(tail) == n and _uptime(tail) >= float(rule.value)
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def decide(rule: RuleSpec, samples: Sequence[Sample], alert_status: str | None) -> Decision:
    """TRIGGER, RESOLVE or NONE for the alert now in ``alert_status`` (None: never raised)."""
    if alert_status == TRIGGERED:
        return Decision.RESOLVE if recovered(rule, samples) else Decision.NONE
    return Decision.TRIGGER if failing(rule, samples) else Decision.NONE


def replay(
    rule: RuleSpec, history: Sequence[Sample], new: int, alert_status: str | None
) -> list[tuple[int, Decision]]:
    """Decisions for the last ``new`` samples of ``history``, taken one at a time.

    ``history`` is oldest first and ends with the new samples; returns
    (index in history, decision) for each transition, in order.
    """
    transitions: list[tuple[int, Decision]] = []
    status = alert_status
    for i in range(len(history) - new, len(history)):
        if i < 0:
            continue
        decision = decide(rule, history[: i + 1], status)
        if decision is Decision.TRIGGER:
            status = TRIGGERED
            transitions.append((i, decision))
        elif decision is Decision.RESOLVE:
            status = RESOLVED
            transitions.append((i, decision))
    return transitions
