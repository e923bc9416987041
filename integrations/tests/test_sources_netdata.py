"""Netdata Cloud webhook parser and its challenge (``netdata.py``).

Payloads: ``payloads/netdata_*.json``, from the field tables of Netdata's
webhook integration docs (see payloads/README.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.netdata import crc_response, verification_token

from .payloads import NOW, load

netdata = get("netdata")


def test_critical_alert() -> None:
    (alert,) = netdata.parse(load("netdata_critical"), headers={}, now=NOW).alerts
    assert alert.source == "netdata"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.title == "System CPU utilization on node web-01 is critical: 96.3%"
    assert alert.description.startswith("Average CPU utilization over the last 10 minutes")
    assert "Chart: system.cpu" in alert.description and "Duration: 5 minutes" in alert.description
    assert alert.started_at == datetime(2024, 5, 10, 10, 31, 22, tzinfo=UTC)
    assert alert.link.startswith("https://app.netdata.cloud/spaces/acme-production/")
    assert alert.labels["rooms"] == "All nodes, Web tier"
    assert alert.labels["host"] == "web-01"
    assert alert.labels["additional_active_warning_alerts"] == "3"
    assert alert.labels["class"] == "Utilization"


def test_clear_resolves_the_same_alert() -> None:
    fired = netdata.parse(load("netdata_critical"), headers={}, now=NOW).alerts[0]
    cleared = netdata.parse(load("netdata_clear"), headers={}, now=NOW).alerts[0]
    assert cleared.fingerprint == fired.fingerprint
    assert cleared.status == "resolved" and cleared.severity == "info"
    assert cleared.ended_at == datetime(2024, 5, 10, 10, 52, 3, tzinfo=UTC)


def test_same_alert_on_another_node_is_another_alert() -> None:
    other = load("netdata_critical")
    other["host"] = "web-02"
    assert (
        netdata.parse(other, headers={}, now=NOW).alerts[0].fingerprint
        != netdata.parse(load("netdata_critical"), headers={}, now=NOW).alerts[0].fingerprint
    )


def test_older_alarm_field_names() -> None:
    alert = netdata.parse(load("netdata_legacy_alarm"), headers={}, now=NOW).alerts[0]
    assert alert.labels["alert"] == "disk_space_usage"
    assert alert.severity == "warning"
    assert alert.link == "https://app.netdata.cloud/spaces/acme-production/alerts/1111"


def test_alert_name_may_be_nested() -> None:
    payload = load("netdata_critical")
    payload["alert"] = {"name": "10min_cpu_usage", "id": 7}
    nested = netdata.parse(payload, headers={}, now=NOW).alerts[0]
    assert (
        nested.fingerprint
        == netdata.parse(load("netdata_critical"), headers={}, now=NOW).alerts[0].fingerprint
    )


def test_reachability_notifications() -> None:
    down = netdata.parse(load("netdata_reachability"), headers={}, now=NOW).alerts[0]
    assert (down.status, down.severity, down.fingerprint) == (
        "firing",
        "critical",
        "reachability:web-02",
    )
    back = load("netdata_reachability")
    back.update(
        severity="info",
        message="web-02 is reachable",
        status={"reachable": True, "text": "reachable"},
    )
    up = netdata.parse(back, headers={}, now=NOW).alerts[0]
    assert (up.status, up.fingerprint, up.ended_at) == ("resolved", "reachability:web-02", NOW)


def test_test_notification_is_acknowledged_and_its_token_readable() -> None:
    payload = load("netdata_test")
    result = netdata.parse(payload, headers={}, now=NOW)
    assert result.is_test and result.alerts == []
    assert verification_token(payload) == "nd-verify-5f0c3c1e8a7b4d2e9f1a6b3c7d8e9f00"
    assert verification_token(load("netdata_critical")) == ""
    assert verification_token(["token"]) == ""


def test_crc_challenge_response() -> None:
    token = "6b0f6f3c-crc-token-from-netdata"
    expected = base64.b64encode(
        hmac.new(b"challenge secret", token.encode(), hashlib.sha256).digest()
    ).decode()
    assert crc_response(token, "challenge secret") == {"response_token": "sha256=" + expected}
    # With rotated secrets, the first line is the one Netdata was given.
    assert crc_response(token, "challenge secret\nolder") == crc_response(token, "challenge secret")
    assert crc_response(token, "other") != crc_response(token, "challenge secret")


@pytest.mark.parametrize("token", [None, "", 12, ["a"], "x" * 1001])
def test_crc_challenge_refuses_bad_tokens(token: object) -> None:
    with pytest.raises(PayloadError) as caught:
        crc_response(token, "secret")
    assert caught.value.field == "crc_token"


def test_crc_challenge_without_a_secret_is_refused() -> None:
    with pytest.raises(PayloadError):
        crc_response("abc", "")


def test_unicode_and_very_long_messages() -> None:
    payload = load("netdata_critical")
    payload["message"] = "Utilisation CPU élevée sur nœud « web-01 » " + "🔥" * 400
    alert = netdata.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("Utilisation CPU élevée sur nœud « web-01 » 🔥")
    assert len(alert.title) == 300


def test_missing_optional_fields() -> None:
    alert = netdata.parse(
        {"alert": "ram_usage", "severity": "warning"}, headers={}, now=NOW
    ).alerts[0]
    assert alert.title == "ram_usage"
    assert alert.started_at == NOW  # no date: received now
    assert alert.link == "" and alert.description == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"alert": None}, "alert"),
        ({"severity": "emergency"}, "severity"),
        ({"severity": None}, "severity"),
        ({"chart": ["system.cpu"]}, "chart"),
        ({"alert": ["x"]}, "alert"),
    ],
)
def test_malformed_fields_are_named(change: dict, field: str) -> None:
    payload = load("netdata_critical")
    for key, value in change.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    with pytest.raises(PayloadError) as caught:
        netdata.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_reachability_without_host_is_refused() -> None:
    payload = load("netdata_reachability")
    del payload["host"]
    with pytest.raises(PayloadError) as caught:
        netdata.parse(payload, headers={}, now=NOW)
    assert caught.value.field == "host"
