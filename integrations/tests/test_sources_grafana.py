"""Grafana Alerting webhook parser and its HMAC signature (``grafana.py``).

Payloads: ``payloads/grafana_*.json``, modelled on Grafana's documented
webhook JSON and ``grafana/alerting``'s webhook message (see payloads/README.md).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.grafana import GrafanaSource

from .payloads import NOW, load, raw_bytes

grafana = get("grafana")


def sign(secret: str, body: bytes, timestamp: str | None = None) -> str:
    message = body if timestamp is None else timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_firing_group_becomes_one_alert_per_grafana_alert() -> None:
    result = grafana.parse(load("grafana_firing"), headers={}, now=NOW)
    assert not result.is_test
    assert [a.fingerprint for a in result.alerts] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    memory, cpu = result.alerts
    assert memory.source == "grafana"
    assert memory.status == "firing"
    assert memory.title == "This alert was triggered for zone us-1"
    assert memory.description.startswith("The system has high memory usage")
    assert "Runbook: https://myrunbook.example.com/runbook/1234" in memory.description
    assert memory.severity == "critical" and cpu.severity == "warning"
    assert (memory.service, memory.environment) == ("checkout", "production")
    assert (cpu.service, cpu.environment) == ("", "")
    assert memory.started_at == datetime(2021, 10, 12, 7, 51, 3, 157076, UTC)
    assert memory.ended_at is None  # Go's zero time: no end
    # The panel is the most useful link; the escaped \u0026 arrives as "&".
    assert memory.link == "https://grafana.example.com/d/dashboard_uid?orgId=1&viewPanel=1"
    assert cpu.link == "https://grafana.example.com/alerting/grafana/d1rdpdv7k/view?orgId=1"
    assert memory.labels["alertname"] == "High memory usage"
    assert memory.labels["grafana_folder"] == "Checkout"
    assert memory.raw["values"] == {"B": 44.23943737541908, "C": 1}
    assert "receiver" not in memory.raw  # each alert keeps its own part


def test_resolved_alert_closes_the_firing_one() -> None:
    firing = grafana.parse(load("grafana_firing"), headers={}, now=NOW).alerts[0]
    resolved = grafana.parse(load("grafana_resolved"), headers={}, now=NOW).alerts[0]
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.status == "resolved"
    assert resolved.ended_at == datetime(2021, 10, 12, 8, 6, 3, 157076, UTC)


def test_resolved_without_end_ends_now() -> None:
    payload = load("grafana_resolved")
    payload["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"
    assert grafana.parse(payload, headers={}, now=NOW).alerts[0].ended_at == NOW


def test_contact_point_test_is_acknowledged_and_opens_nothing() -> None:
    result = grafana.parse(load("grafana_test"), headers={}, now=NOW)
    assert result.is_test and result.alerts == []


def test_a_real_alert_next_to_a_test_alert_is_kept() -> None:
    payload = load("grafana_test")
    payload["alerts"].append(load("grafana_firing")["alerts"][0])
    result = grafana.parse(payload, headers={}, now=NOW)
    assert not result.is_test
    assert [a.fingerprint for a in result.alerts] == ["c6eadffa33fcdf37"]


def test_legacy_alerting_body() -> None:
    alert = grafana.parse(load("grafana_legacy_alerting"), headers={}, now=NOW).alerts[0]
    assert alert.title == "Load peaking!"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.fingerprint == "legacy:1:1"
    assert alert.link.startswith("https://grafana.example.com/d/hZ7BuVbWz/")
    assert alert.labels["tag name"] == "tag value"
    ok = load("grafana_legacy_alerting")
    ok["state"] = "ok"
    closed = grafana.parse(ok, headers={}, now=NOW).alerts[0]
    assert (closed.fingerprint, closed.status, closed.ended_at) == ("legacy:1:1", "resolved", NOW)
    assert grafana.parse(load("grafana_legacy_test"), headers={}, now=NOW).is_test


def test_missing_optional_fields_are_fine() -> None:
    payload = {"alerts": [{"status": "firing", "labels": {"alertname": "Bare"}}]}
    alert = grafana.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title == "Bare"
    assert alert.severity == "warning"  # no severity label
    assert alert.started_at is None and alert.link == "" and alert.description == ""
    # Without Grafana's fingerprint, the label set is the identity.
    again = grafana.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.fingerprint == again.fingerprint and alert.fingerprint.startswith("sha256:")


def test_unicode_html_and_very_long_titles() -> None:
    payload = load("grafana_firing")
    first = payload["alerts"][0]
    first["annotations"]["summary"] = (
        "<script>alert('x')</script> Dépassement mémoire 🔥 " + "é" * 400
    )
    first["annotations"]["description"] = "Ligne 1\nLigne 2 — ça va"
    alert = grafana.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("<script>alert('x')</script> Dépassement mémoire 🔥 ")
    assert len(alert.title) == 300 and alert.title.endswith("\u2026")
    assert "Ligne 1\nLigne 2 — ça va" in alert.description


def test_duplicate_alerts_in_one_group_keep_the_last_copy() -> None:
    payload = load("grafana_firing")
    copy = dict(payload["alerts"][0], status="resolved", endsAt="2021-10-12T10:00:00Z")
    payload["alerts"].append(copy)
    alerts = grafana.parse(payload, headers={}, now=NOW).alerts
    assert [a.fingerprint for a in alerts] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    assert alerts[0].status == "resolved"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"alerts": []}, "alerts"),
        ({"alerts": None}, "alerts"),
        ({"alerts": {"0": {}}}, "alerts"),
        ({"alerts": ["nope"]}, "alerts[0]"),
        ({"status": "pending"}, "status"),
        ({"commonLabels": ["x"]}, "commonLabels"),
    ],
)
def test_malformed_group_fields_are_named(change: dict, field: str) -> None:
    payload = load("grafana_firing")
    payload.update(change)
    with pytest.raises(PayloadError) as caught:
        grafana.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("labels", ["severity=critical"], "alerts[1].labels"),
        ("annotations", "summary", "alerts[1].annotations"),
        ("startsAt", "last tuesday", "alerts[1].startsAt"),
        ("startsAt", True, "alerts[1].startsAt"),
        ("status", "paused", "alerts[1].status"),
        ("fingerprint", {"id": 1}, "alerts[1].fingerprint"),
    ],
)
def test_malformed_alert_fields_are_named(key: str, value: object, field: str) -> None:
    payload = load("grafana_firing")
    payload["alerts"][1][key] = value
    with pytest.raises(PayloadError) as caught:
        grafana.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field
    assert str(caught.value).startswith(field + " ")


def test_more_than_a_thousand_alerts_are_refused_whole() -> None:
    payload = load("grafana_firing")
    payload["alerts"] = [dict(payload["alerts"][0], fingerprint=str(i)) for i in range(1001)]
    with pytest.raises(PayloadError, match="more than 1000"):
        grafana.parse(payload, headers={}, now=NOW)


# ---------------------------------------------------------------- signature


def test_signature_over_the_body_verifies() -> None:
    body = raw_bytes("grafana_firing")
    headers = {"X-Grafana-Alerting-Signature": sign("s3cret", body)}
    assert grafana.verify_signature(body, headers, "s3cret", NOW)


def test_signature_header_is_case_insensitive_and_the_source_default_name_works() -> None:
    body = raw_bytes("grafana_firing")
    assert grafana.verify_signature(
        body, {"x-grafana-alerting-signature": sign("s3cret", body).upper()}, "s3cret", NOW
    )
    assert grafana.verify_signature(
        body, {"X-Grafana-Alert-Signature": sign("s3cret", body)}, "s3cret", NOW
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Grafana-Alerting-Signature": ""},
        {"X-Grafana-Alerting-Signature": "sha256=" + "0" * 64},
        {"X-Grafana-Alerting-Signature": "not hex at all ☃"},
    ],
)
def test_missing_or_wrong_signatures_fail(headers: dict[str, str]) -> None:
    assert not grafana.verify_signature(raw_bytes("grafana_firing"), headers, "s3cret", NOW)


def test_signature_with_the_wrong_secret_or_a_changed_body_fails() -> None:
    body = raw_bytes("grafana_firing")
    headers = {"X-Grafana-Alerting-Signature": sign("s3cret", body)}
    assert not grafana.verify_signature(body, headers, "other", NOW)
    assert not grafana.verify_signature(body + b" ", headers, "s3cret", NOW)
    assert not grafana.verify_signature(body, headers, "", NOW)


def test_rotated_secrets_any_line_verifies() -> None:
    body = raw_bytes("grafana_firing")
    old = {"X-Grafana-Alerting-Signature": sign("old-secret", body)}
    new = {"X-Grafana-Alerting-Signature": sign("new-secret", body)}
    both = "new-secret\nold-secret\n"
    assert grafana.verify_signature(body, old, both, NOW)
    assert grafana.verify_signature(body, new, both, NOW)
    assert not grafana.verify_signature(body, old, "new-secret", NOW)


def test_timestamped_signature_verifies_within_five_minutes_only() -> None:
    body = raw_bytes("grafana_firing")
    sent = int((NOW - timedelta(seconds=90)).timestamp())
    headers = {
        "X-Grafana-Alerting-Signature": sign("s3cret", body, str(sent)),
        "X-Grafana-Alerting-Timestamp": str(sent),
    }
    assert grafana.verify_signature(body, headers, "s3cret", NOW)
    # The docs' example header name for the timestamp works too.
    alt = {
        "X-Grafana-Alerting-Signature": headers["X-Grafana-Alerting-Signature"],
        "X-Grafana-Alerting-Signature-Timestamp": str(sent),
    }
    assert grafana.verify_signature(body, alt, "s3cret", NOW)
    # A replay six minutes later is refused, as is a timestamp from the future.
    assert not grafana.verify_signature(body, headers, "s3cret", NOW + timedelta(minutes=6))
    assert not grafana.verify_signature(body, headers, "s3cret", NOW - timedelta(minutes=8))


def test_timestamp_must_be_signed_with_the_body() -> None:
    body = raw_bytes("grafana_firing")
    sent = str(int(NOW.timestamp()))
    body_only = {
        "X-Grafana-Alerting-Signature": sign("s3cret", body),
        "X-Grafana-Alerting-Timestamp": sent,
    }
    assert not grafana.verify_signature(body, body_only, "s3cret", NOW)
    forged = {
        "X-Grafana-Alerting-Signature": sign("s3cret", body, sent),
        "X-Grafana-Alerting-Timestamp": str(int(sent) + 1),
    }
    assert not grafana.verify_signature(body, forged, "s3cret", NOW)


@pytest.mark.parametrize("timestamp", ["abc", "١٢٣", "-5", "99999999999999999999"])
def test_garbage_timestamps_fail_closed(timestamp: str) -> None:
    body = raw_bytes("grafana_firing")
    headers = {
        "X-Grafana-Alerting-Signature": sign("s3cret", body, timestamp),
        "X-Grafana-Alerting-Timestamp": timestamp,
    }
    assert not grafana.verify_signature(body, headers, "s3cret", NOW)


def test_source_metadata() -> None:
    assert GrafanaSource.sends_resolve and GrafanaSource.signs
