"""The tcp kind against real local sockets, and its config validation."""

from __future__ import annotations

import socket

import pytest
from rest_framework.exceptions import ValidationError

from monitors.checks import validate_config
from monitors.checks.fields import classify_os_error
from monitors.models import Status
from monitors.tests.servers import closed_port, listening_port, run_check


def test_open_port_is_up_with_latency() -> None:
    with listening_port() as port:
        outcome = run_check("tcp", {"host": "127.0.0.1", "port": port})
    assert outcome.status == Status.UP
    assert outcome.message == f"port {port} open"
    assert isinstance(outcome.latency_ms, float)
    assert 0 < outcome.latency_ms < 5000


def test_localhost_name_resolves() -> None:
    with listening_port() as port:
        outcome = run_check("tcp", {"host": "localhost", "port": port})
    # localhost may resolve to ::1 first; one of the addresses is tried after the other.
    assert outcome.status == Status.UP, outcome.message


def test_closed_port_is_refused() -> None:
    outcome = run_check("tcp", {"host": "127.0.0.1", "port": closed_port()})
    assert outcome.status == Status.DOWN
    assert outcome.message == "connection refused"
    assert outcome.latency_ms is None


def test_resolution_failure_message() -> None:
    # Kept off the network: the message for the error getaddrinfo raises.
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert classify_os_error(error, "nope.invalid") == "cannot resolve host 'nope.invalid'"
    assert classify_os_error(TimeoutError(110, "Connection timed out"), "h") == (
        "connection timed out"
    )


def test_degraded_above_threshold() -> None:
    with listening_port() as port:
        # No connection to loopback takes a negative time: a 1 ms threshold is
        # only crossed by slow machines, so assert on the rule itself.
        outcome = run_check("tcp", {"host": "127.0.0.1", "port": port, "degraded_above_ms": 1})
    expected = Status.DEGRADED if outcome.latency_ms > 1 else Status.UP
    assert outcome.status == expected


def test_defaults_and_normalisation() -> None:
    assert validate_config("tcp", {"host": " DB.Example.COM. ", "port": 5432}) == {
        "host": "db.example.com",
        "port": 5432,
        "degraded_above_ms": None,
    }
    assert validate_config("tcp", {"host": "[::1]", "port": 1})["host"] == "::1"
    assert validate_config("tcp", {"host": "bücher.example", "port": 65535})["host"] == (
        "xn--bcher-kva.example"
    )


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"port": 80}, "host"),
        ({"host": "x.test"}, "port"),
        ({"host": "x.test", "port": "80"}, "port"),
        ({"host": "x.test", "port": 80.0}, "port"),
        ({"host": "x.test", "port": True}, "port"),
        ({"host": "x.test", "port": None}, "port"),
        ({"host": "x.test", "port": 0}, "port"),
        ({"host": "x.test", "port": -1}, "port"),
        ({"host": "x.test", "port": 65536}, "port"),
        ({"host": "x.test", "port": 10**5000}, "port"),
        ({"host": 10**5000, "port": 80}, "host"),
        ({"host": "", "port": 80}, "host"),
        ({"host": "h" * 1_000_000, "port": 80}, "host"),
        ({"host": ["x.test"], "port": 80}, "host"),
        ({"host": "http://x.test", "port": 80}, "host"),
        ({"host": "x.test:80", "port": 80}, "host"),
        ({"host": "<script>alert(1)</script>", "port": 80}, "host"),
        ({"host": "a b.test", "port": 80}, "host"),
        ({"host": "-bad.test", "port": 80}, "host"),
        ({"host": "x.test", "port": 80, "degraded_above_ms": 0}, "degraded_above_ms"),
        ({"host": "x.test", "port": 80, "degraded_above_ms": 10**9}, "degraded_above_ms"),
        ({"host": "x.test", "port": 80, "timeout": 3}, "timeout"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("tcp", config)
    assert field in info.value.detail
