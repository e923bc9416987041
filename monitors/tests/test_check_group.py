"""The group kind: worst member status, and config validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from rest_framework.exceptions import ValidationError

from monitors.checks import RunContext, StateSnapshot, get_check, validate_config
from monitors.models import Status
from monitors.tests.servers import run_check

GROUP_ID = 100


def group(statuses: dict[int, str | None], ctx_class: type[RunContext] = RunContext, **extra):
    ctx = ctx_class(
        now=datetime.now(UTC),
        states={member: StateSnapshot(status=status) for member, status in statuses.items()},
        members={GROUP_ID: list(statuses)},
        **extra,
    )
    return run_check("group", {"members": ["aa", "bb"]}, monitor_id=GROUP_ID, ctx=ctx)


def test_all_up() -> None:
    outcome = group({1: Status.UP, 2: Status.UP, 3: Status.UP})
    assert (outcome.status, outcome.message, outcome.latency_ms) == (
        Status.UP,
        "all 3 members up",
        None,
    )


def test_worst_status_wins_and_members_are_listed() -> None:
    outcome = group({1: Status.UP, 2: Status.DEGRADED, 3: Status.UP})
    assert (outcome.status, outcome.message) == (Status.DEGRADED, "degraded: #2")
    outcome = group({1: Status.DOWN, 2: Status.DEGRADED, 3: Status.DOWN})
    assert (outcome.status, outcome.message) == (Status.DOWN, "down: #1, #3; degraded: #2")


def test_plain_string_statuses() -> None:
    assert group({1: "UP", 2: "DOWN"}).status == Status.DOWN
    assert group({1: "UP", 2: "UNKNOWN"}).message == "1 member up"


def test_members_without_status_are_ignored() -> None:
    outcome = group({1: None, 2: Status.UP})
    assert (outcome.status, outcome.message) == (Status.UP, "1 member up")
    assert group({1: None, 2: None}) is None
    assert group({}) is None


def test_member_missing_from_states_is_ignored() -> None:
    ctx = RunContext(
        now=datetime.now(UTC),
        states={2: StateSnapshot(status=Status.DOWN)},
        members={GROUP_ID: [1, 2]},
    )
    outcome = run_check("group", {"members": ["aa", "bb"]}, monitor_id=GROUP_ID, ctx=ctx)
    assert outcome.status == Status.DOWN


@dataclass
class TaggedContext(RunContext):
    tags: dict[int, str] = field(default_factory=dict)


def test_tags_are_used_when_the_engine_provides_them() -> None:
    outcome = group(
        {1: Status.DOWN, 2: Status.UP}, ctx_class=TaggedContext, tags={1: "api", 2: "web"}
    )
    assert outcome.message == "down: api"


def test_long_lists_are_cut() -> None:
    outcome = group({i: Status.DOWN for i in range(1, 31)})
    assert outcome.message.endswith("#10 and 20 more")


def test_member_tags() -> None:
    config = validate_config("group", {"members": ["api", "web-1", "db_main"]})
    assert config == {"members": ["api", "web-1", "db_main"]}
    assert get_check("group").member_tags(config) == ["api", "web-1", "db_main"]
    assert get_check("http").member_tags({"url": "http://x"}) == []


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"members": []},
        {"members": "api"},
        {"members": ["api", "api"]},
        {"members": ["API"]},
        {"members": ["a"]},
        {"members": ["-api"]},
        {"members": ["api-"]},
        {"members": ["<script>"]},
        {"members": ["ápi"]},
        {"members": [1]},
        {"members": [None]},
        {"members": ["t" * 65]},
        {"members": ["t" * 1_000_000]},
        {"members": [f"m{i}" for i in range(201)]},
        {"members": ["api"] * 10_000},
    ],
)
def test_invalid_members(config: dict) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("group", config)
    assert "members" in info.value.detail


def test_unknown_key() -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("group", {"members": ["api"], "mode": "all"})
    assert "mode" in info.value.detail


def test_two_hundred_members_are_fine() -> None:
    members = [f"m{i}" for i in range(200)]
    assert validate_config("group", {"members": members})["members"] == members
