"""The alert decision is pure: property tests over random result sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alerting.evaluation import (
    RESOLVED,
    TRIGGERED,
    Decision,
    RuleSpec,
    Sample,
    decide,
    failing,
    recovered,
    replay,
)

samples = st.builds(
    Sample,
    status=st.sampled_from(["UP", "DEGRADED", "DOWN"]),
    latency_ms=st.one_of(st.none(), st.floats(0, 3000)),
)
rules = st.one_of(
    st.builds(
        RuleSpec,
        kind=st.just("STATUS"),
        value=st.sampled_from(["DOWN", "DEGRADED"]),
        failure_threshold=st.integers(1, 5),
        success_threshold=st.integers(1, 5),
    ),
    st.builds(
        RuleSpec,
        kind=st.just("LATENCY"),
        value=st.sampled_from(["100", "1000", "250.5"]),
        failure_threshold=st.integers(1, 5),
        success_threshold=st.integers(1, 5),
    ),
    st.builds(
        RuleSpec,
        kind=st.just("UPTIME"),
        value=st.sampled_from(["0", "50", "99.9", "100"]),
        failure_threshold=st.integers(1, 6),
        success_threshold=st.integers(1, 6),
    ),
)


def _run(rule: RuleSpec, seq: list[Sample], batches: list[int]) -> list[tuple[int, Decision]]:
    """Feed ``seq`` in batches of the given sizes, as workers would."""
    status: str | None = None
    out: list[tuple[int, Decision]] = []
    done = 0
    for size in batches:
        if done >= len(seq):
            break
        size = min(size, len(seq) - done)
        done += size
        for index, decision in replay(rule, seq[:done], size, status):
            out.append((index, decision))
            status = TRIGGERED if decision is Decision.TRIGGER else RESOLVED
    return out


@given(rules, st.lists(samples, max_size=60), st.lists(st.integers(1, 7), min_size=60, max_size=60))
def test_outcome_is_the_same_however_results_are_batched(rule, seq, batches) -> None:
    one_by_one = _run(rule, seq, [1] * len(seq))
    assert _run(rule, seq, batches) == one_by_one
    assert _run(rule, seq, [len(seq) or 1]) == one_by_one


@given(rules, st.lists(samples, max_size=60))
def test_events_strictly_alternate_starting_with_a_trigger(rule, seq) -> None:
    decisions = [d for _, d in _run(rule, seq, [1] * len(seq))]
    assert all(d is not Decision.NONE for d in decisions)
    for i, d in enumerate(decisions):
        assert d is (Decision.TRIGGER if i % 2 == 0 else Decision.RESOLVE)


@given(rules, st.lists(samples, max_size=60))
def test_a_trigger_needs_a_full_failure_window_and_a_resolve_a_success_window(rule, seq) -> None:
    for index, decision in _run(rule, seq, [1] * len(seq)):
        history = seq[: index + 1]
        if decision is Decision.TRIGGER:
            assert failing(rule, history)
        else:
            assert recovered(rule, history)


def test_status_rule_thresholds() -> None:
    rule = RuleSpec("STATUS", "DOWN", failure_threshold=3, success_threshold=2)
    down, up, degraded = Sample("DOWN"), Sample("UP"), Sample("DEGRADED")
    assert decide(rule, [down, down], None) is Decision.NONE
    assert decide(rule, [up, down, down, down], None) is Decision.TRIGGER
    assert decide(rule, [down, degraded, down], None) is Decision.NONE
    assert decide(rule, [down, down, down, up], TRIGGERED) is Decision.NONE
    assert decide(rule, [down, up, up], TRIGGERED) is Decision.RESOLVE
    assert decide(rule, [down, up, degraded], TRIGGERED) is Decision.NONE


def test_latency_rule_ignores_results_without_latency() -> None:
    rule = RuleSpec("LATENCY", "1000", failure_threshold=2, success_threshold=2)
    slow, fast, blind = Sample("UP", 1500.0), Sample("UP", 20.0), Sample("DOWN", None)
    assert decide(rule, [slow, blind, slow], None) is Decision.TRIGGER
    assert decide(rule, [slow, fast], None) is Decision.NONE
    assert decide(rule, [slow, fast, blind, fast], TRIGGERED) is Decision.RESOLVE
    # Exactly at the value is neither above (trigger) nor below (resolve).
    at = Sample("UP", 1000.0)
    assert decide(rule, [at, at], None) is Decision.NONE
    assert decide(rule, [at, at], TRIGGERED) is Decision.NONE


def test_uptime_rule_uses_percentage_over_the_window_not_the_sample_count() -> None:
    rule = RuleSpec("UPTIME", "99.9", failure_threshold=4, success_threshold=4)
    up, down = Sample("UP"), Sample("DOWN")
    assert decide(rule, [up, up, up, down], None) is Decision.TRIGGER  # 75 % < 99.9 %
    assert decide(rule, [up, up, up], None) is Decision.NONE  # window not full yet
    assert decide(rule, [down, up, up, up, up], TRIGGERED) is Decision.RESOLVE
    low = RuleSpec("UPTIME", "50", failure_threshold=4, success_threshold=2)
    assert decide(low, [up, up, down, down], None) is Decision.NONE  # 50 % is not below 50
    assert decide(low, [up, down, down, down], None) is Decision.TRIGGER
