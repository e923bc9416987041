"""The tls kind against real local TLS servers (trustme certificates), and its
config validation."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from rest_framework.exceptions import ValidationError

from monitors.checks import validate_config
from monitors.checks.tls import TlsCheck
from monitors.models import Status
from monitors.tests.servers import (
    Reply,
    closed_port,
    issue_cert,
    listening_port,
    run_check,
    serve_http,
    tls_server,
    trust_ca,
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls(port: int, timeout: float = 5, **config: object):
    return run_check("tls", {"host": "127.0.0.1", "port": port, **config}, timeout=timeout)


def test_valid_certificate_is_up(ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> None:
    trust_ca(monkeypatch, ca)
    expiry = (datetime.now(UTC) + timedelta(days=90)).date()
    with tls_server(issue_cert(ca, days_left=90)) as (_host, port):
        outcome = tls(port)
    assert outcome.status == Status.UP
    assert re.fullmatch(r"certificate expires in (89|90) days \(\d{4}-\d\d-\d\d\)", outcome.message)
    assert expiry.isoformat() in outcome.message
    assert isinstance(outcome.latency_ms, float)


def test_untrusted_certificate_is_down_unless_verify_is_off(ca: trustme.CA) -> None:
    with tls_server(issue_cert(ca, days_left=90)) as (_host, port):
        outcome = tls(port)
        assert outcome.status == Status.DOWN
        assert outcome.message.startswith("certificate verification failed: ")
        assert "self-signed" in outcome.message or "issuer" in outcome.message
        assert tls(port, verify=False).status == Status.UP


def test_expiring_soon_is_degraded_then_down(ca: trustme.CA, monkeypatch) -> None:
    trust_ca(monkeypatch, ca)
    with tls_server(issue_cert(ca, days_left=10.5)) as (_host, port):
        outcome = tls(port)
        assert outcome.status == Status.DEGRADED
        assert outcome.message.startswith("certificate expires in 10 days (")
        assert tls(port, degraded_within_days=10).status == Status.UP
    with tls_server(issue_cert(ca, days_left=2.5)) as (_host, port):
        outcome = tls(port)
        assert outcome.status == Status.DOWN
        assert outcome.message.startswith("certificate expires in 2 days (")
        assert tls(port, down_within_days=2).status == Status.DEGRADED


def test_expired_certificate_is_down(ca: trustme.CA, monkeypatch) -> None:
    trust_ca(monkeypatch, ca)
    with tls_server(issue_cert(ca, days_left=-3)) as (_host, port):
        outcome = tls(port)
        assert outcome.status == Status.DOWN
        assert outcome.message == "certificate verification failed: certificate has expired"
        outcome = tls(port, verify=False)
        assert outcome.status == Status.DOWN
        assert re.fullmatch(r"certificate expired 3 days ago \(\d{4}-\d\d-\d\d\)", outcome.message)


def test_server_name_is_sent_and_verified(ca: trustme.CA, monkeypatch) -> None:
    trust_ca(monkeypatch, ca)
    with tls_server(issue_cert(ca, names=["status.example.test"])) as (_host, port):
        outcome = tls(port)
        assert outcome.status == Status.DOWN
        assert "mismatch" in outcome.message or "match" in outcome.message
        assert tls(port, server_name="status.example.test").status == Status.UP
        assert tls(port, server_name="other.example.test").status == Status.DOWN


def test_connection_refused_and_not_tls(ca: trustme.CA) -> None:
    outcome = tls(closed_port())
    assert (outcome.status, outcome.message) == (Status.DOWN, "connection refused")
    with serve_http({"/": Reply(200, "plain")}) as url:
        outcome = tls(int(url.rsplit(":", 1)[1]))
    assert outcome.status == Status.DOWN
    assert outcome.message.startswith("TLS handshake failed")


def test_silent_server_times_out() -> None:
    with listening_port() as port:
        started = time.perf_counter()
        outcome = tls(port, timeout=0.5)
    assert (outcome.status, outcome.message) == (Status.DOWN, "timeout after 0.5s")
    assert time.perf_counter() - started < 3


def test_judge_windows() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    config = {"degraded_within_days": 14, "down_within_days": 3}
    judge = TlsCheck.judge
    outcome = judge(now + timedelta(days=41, hours=2), now, config, 1.0)
    assert (outcome.status, outcome.message) == (
        Status.UP,
        "certificate expires in 41 days (2026-02-11)",
    )
    assert judge(now + timedelta(days=14), now, config, None).status == Status.UP
    assert judge(now + timedelta(days=13, hours=23), now, config, None).status == Status.DEGRADED
    assert judge(now + timedelta(days=3), now, config, None).status == Status.DEGRADED
    outcome = judge(now + timedelta(hours=5), now, config, None)
    assert (outcome.status, outcome.message) == (
        Status.DOWN,
        "certificate expires in 5 hours (2026-01-01)",
    )
    outcome = judge(now - timedelta(days=1), now, config, None)
    assert outcome.message == "certificate expired 1 day ago (2025-12-31)"


def test_defaults() -> None:
    assert validate_config("tls", {"host": "Example.com"}) == {
        "host": "example.com",
        "port": 443,
        "server_name": None,
        "verify": True,
        "degraded_within_days": 14,
        "down_within_days": 3,
    }
    assert validate_config("tls", {"host": "x.test", "server_name": ""})["server_name"] is None


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "host"),
        ({"host": "https://x.test"}, "host"),
        ({"host": "x" * 1_000_000}, "host"),
        ({"host": "x.test", "port": "443"}, "port"),
        ({"host": "x.test", "port": 0}, "port"),
        ({"host": "x.test", "server_name": "<b>x</b>"}, "server_name"),
        ({"host": "x.test", "server_name": 1}, "server_name"),
        ({"host": "x.test", "verify": "no"}, "verify"),
        ({"host": "x.test", "degraded_within_days": 0}, "degraded_within_days"),
        ({"host": "x.test", "degraded_within_days": 10**100}, "degraded_within_days"),
        ({"host": "x.test", "degraded_within_days": 14.5}, "degraded_within_days"),
        ({"host": "x.test", "down_within_days": -1}, "down_within_days"),
        ({"host": "x.test", "down_within_days": 14}, "down_within_days"),
        ({"host": "x.test", "degraded_within_days": 5, "down_within_days": 7}, "down_within_days"),
        ({"host": "x.test", "sni": "x.test"}, "sni"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("tls", config)
    assert field in info.value.detail
