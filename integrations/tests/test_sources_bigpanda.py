"""BigPanda notifications webhook parser (``bigpanda.py``).

Payloads: ``payloads/bigpanda_*.json``, from BigPanda's webhook incident object
and alert object reference (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get

from .payloads import NOW, load

bp = get("bigpanda")


def test_active_incident() -> None:
    (alert,) = bp.parse(load("bigpanda_active"), headers={}, now=NOW).alerts
    assert alert.fingerprint == "5c2f6d3e8a1b4c0012345678"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.title == "CRITICAL - Host Unreachable"
    assert (alert.service, alert.environment) == ("checkout", "production")
    assert alert.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert alert.description.splitlines() == [
        "- [nagios.nagios_east] CRITICAL - Host Unreachable (critical)",
        "- [datadog.production] Disk latency high (warning)",
    ]
    assert alert.labels["alert_count"] == "2"
    assert alert.labels["source_systems"] == "nagios.nagios_east, datadog.production"
    assert alert.labels["host"] == "production-database-1"


def test_wrapped_resolved_incident_closes_it() -> None:
    (alert,) = bp.parse(load("bigpanda_resolved"), headers={}, now=NOW).alerts
    assert alert.fingerprint == "5c2f6d3e8a1b4c0012345678"
    assert alert.status == "resolved"
    assert alert.ended_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)
    # No description on the alert: primary and secondary property values.
    assert alert.title == "production-database-1:CPU load"


def test_incidents_api_field_names() -> None:
    payload = {
        "id": "abc",
        "status": "warning",
        "resolved": False,
        "startedOn": 1466416853,
        "alerts": [],
    }
    alert = bp.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.status, alert.severity, alert.title) == (
        "firing",
        "warning",
        "BigPanda incident abc",
    )
    assert alert.started_at == datetime(2016, 6, 20, 10, 0, 53, tzinfo=UTC)
    assert (
        bp.parse({**payload, "resolved": True}, headers={}, now=NOW).alerts[0].status == "resolved"
    )


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("critical", "critical"), ("warning", "warning"), ("unknown", "warning"), ("ok", "info")],
)
def test_severity_mapping(severity: str, expected: str) -> None:
    payload = load("bigpanda_active")
    payload["severity"] = severity
    assert bp.parse(payload, headers={}, now=NOW).alerts[0].severity == expected


def test_unicode_html_and_long_descriptions() -> None:
    payload = load("bigpanda_active")
    payload["alerts"][0]["description"] = (
        "<svg onload=alert(1)> Base de données injoignable " + "é" * 400
    )
    alert = bp.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("<svg onload=alert(1)> Base de données injoignable é")
    assert len(alert.title) == 300


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("id"), "id"),
        (lambda p: p.update(alerts={"a": 1}), "alerts"),
        (lambda p: p.update(alerts=["x"]), "alerts[0]"),
        (lambda p: p.update(active="maybe"), "active"),
        (lambda p: p["alerts"][0].update(tags=5), "alerts[0].tags"),
        (lambda p: p.update(start="the other day"), "start"),
    ],
)
def test_malformed_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("bigpanda_active")
    mutate(payload)
    with pytest.raises(PayloadError) as caught:
        bp.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_wrapped_incident_errors_name_the_wrapper() -> None:
    with pytest.raises(PayloadError) as caught:
        bp.parse({"incident": {"status": "critical"}}, headers={}, now=NOW)
    assert caught.value.field == "incident.id"
    with pytest.raises(PayloadError) as caught:
        bp.parse({"incident": "5c2f"}, headers={}, now=NOW)
    assert caught.value.field == "incident"
