"""The ping kind against 127.0.0.1 (real ICMP), and its config validation.

Pinging works as root or where ``net.ipv4.ping_group_range`` admits the
process; where neither holds, the check must say so clearly, and that is
what is asserted instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rest_framework.exceptions import ValidationError

from monitors.checks import ping as ping_module
from monitors.checks import validate_config
from monitors.checks.ping import PERMISSION_MESSAGE, ping_timing, summarise
from monitors.models import Status
from monitors.tests.servers import run_check


def _unprivileged_allowed() -> bool:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except (OSError, ValueError):
        return False
    return any(low <= gid <= high for gid in {os.getgid(), *os.getgroups()})


def _privileged() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def test_ping_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ping_module, "_needs_privileged", None)
    outcome = run_check("ping", {"host": "127.0.0.1", "count": 2}, timeout=5)
    if not (_unprivileged_allowed() or _privileged()):
        assert (outcome.status, outcome.message) == (Status.DOWN, PERMISSION_MESSAGE)
        assert "ping_group_range" in outcome.message
        return
    assert outcome.status == Status.UP, outcome.message
    assert outcome.message.startswith("2/2 replies, avg ")
    assert isinstance(outcome.latency_ms, float)
    assert 0 <= outcome.latency_ms < 1000
    # The socket kind that worked is remembered for the next checks.
    assert ping_module._needs_privileged is (not _unprivileged_allowed())


def test_ping_by_name_with_default_count(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = run_check("ping", {"host": "localhost"}, timeout=5)
    if not (_unprivileged_allowed() or _privileged()):
        assert outcome.message == PERMISSION_MESSAGE
        return
    assert outcome.status == Status.UP, outcome.message
    assert outcome.message.startswith("3/3 replies")


def test_loss_rules() -> None:
    outcome = summarise("h", 3, 3, 1.25)
    assert (outcome.status, outcome.latency_ms, outcome.message) == (
        Status.UP,
        1.25,
        "3/3 replies, avg 1.2 ms",
    )
    outcome = summarise("h", 3, 2, 2.0)
    assert (outcome.status, outcome.message) == (
        Status.DEGRADED,
        "1/3 packets lost, avg 2.0 ms",
    )
    outcome = summarise("h", 3, 0, 0.0)
    assert (outcome.status, outcome.latency_ms, outcome.message) == (
        Status.DOWN,
        None,
        "no reply from h (3/3 packets lost)",
    )


@pytest.mark.parametrize(("timeout", "count"), [(1, 1), (1, 10), (10, 3), (120, 10)])
def test_timing_fits_in_the_timeout(timeout: float, count: int) -> None:
    interval, per_reply = ping_timing(timeout, count)
    assert interval * (count - 1) + per_reply * count <= timeout
    assert per_reply > 0


def test_defaults() -> None:
    assert validate_config("ping", {"host": "Router.LAN"}) == {"host": "router.lan", "count": 3}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "host"),
        ({"host": None}, "host"),
        ({"host": "1.2.3.4/24"}, "host"),
        ({"host": "🙂" * 300}, "host"),
        ({"host": "x" * 1_000_000}, "host"),
        ({"host": "<img src=x onerror=alert(1)>"}, "host"),
        ({"host": "x.test", "count": 0}, "count"),
        ({"host": "x.test", "count": 11}, "count"),
        ({"host": "x.test", "count": "3"}, "count"),
        ({"host": "x.test", "count": False}, "count"),
        ({"host": "x.test", "count": 10**10000}, "count"),
        ({"host": "x.test", "interval": 1}, "interval"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("ping", config)
    assert field in info.value.detail
