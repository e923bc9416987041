"""Datadog webhook parser (``datadog.py``): the default body and the custom
payload from docs/integrations.md.

Payloads: ``payloads/datadog_*.json``, Datadog's default webhook body and the
documented variables (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.datadog import DatadogSource, split_title

from .payloads import NOW, load

dd = get("datadog")


def test_default_body_triggered() -> None:
    result = dd.parse(load("datadog_default_triggered"), headers={}, now=NOW)
    (alert,) = result.alerts
    assert result.delivery_id == "7092285263583962451"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.title == "CPU usage is high on host:web-1"
    assert alert.started_at == datetime(2023, 11, 14, 22, 18, 20, tzinfo=UTC)
    assert alert.labels["host"] == "web-1"
    assert alert.labels["org"] == "Acme Équipe"
    assert alert.labels["transition"] == "Triggered"
    # Datadog's %%% markdown markers are dropped; the message stays.
    assert not alert.description.startswith("%%%")
    assert "**system.cpu.user** over **host:web-1" in alert.description
    assert alert.link == ""


def test_default_body_recovered_closes_the_triggered_alert() -> None:
    fired = dd.parse(load("datadog_default_triggered"), headers={}, now=NOW).alerts[0]
    recovered = dd.parse(load("datadog_default_recovered"), headers={}, now=NOW).alerts[0]
    assert recovered.fingerprint == fired.fingerprint
    assert recovered.status == "resolved"
    assert recovered.ended_at == datetime(2023, 11, 14, 22, 28, 20, tzinfo=UTC)
    assert recovered.started_at is None


def test_other_hosts_of_a_multi_alert_are_other_alerts() -> None:
    other = load("datadog_default_triggered")
    other["title"] = "[Triggered on {host:web-2}] CPU usage is high"
    first = dd.parse(load("datadog_default_triggered"), headers={}, now=NOW).alerts[0]
    second = dd.parse(other, headers={}, now=NOW).alerts[0]
    assert first.fingerprint != second.fingerprint


def test_custom_payload_warn() -> None:
    alert = dd.parse(load("datadog_custom_warn"), headers={}, now=NOW).alerts[0]
    assert alert.fingerprint == "aggreg:9bd4ac313a4d1e8fae2482df7b77628"
    assert alert.status == "firing"
    assert alert.severity == "warning"  # Warn wins over priority P2
    assert alert.title == "Disk space low on host:db-1,env:staging"
    assert (alert.service, alert.environment) == ("billing-db", "staging")
    assert alert.labels["team"] == "storage" and alert.labels["metric"] == "system.disk.in_use"
    assert alert.labels["alert_id"] == "7654321"
    assert "system.disk.in_use over host:db-1 was > 0.8" in alert.description
    assert alert.link == "https://app.datadoghq.com/event/event?id=7092285263583970001"


@pytest.mark.parametrize(
    ("transition", "priority", "alert_type", "status", "severity"),
    [
        ("Triggered", "P1", "error", "firing", "critical"),
        ("Re-Triggered", "P4", "error", "firing", "info"),
        ("Triggered", "", "warning", "firing", "warning"),
        ("No Data", "P1", "error", "firing", "warning"),
        ("Renotify", "", "", "firing", "critical"),
        ("Recovered", "P1", "success", "resolved", "critical"),
        ("", "", "success", "resolved", "info"),
    ],
)
def test_transition_priority_and_type_mapping(
    transition: str, priority: str, alert_type: str, status: str, severity: str
) -> None:
    payload = load("datadog_custom_warn")
    payload.update(
        title="Disk space low",
        alert_title="Disk space low",
        alert_transition=transition,
        alert_priority=priority,
        alert_type=alert_type,
    )
    alert = dd.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.status, alert.severity) == (status, severity)


def test_unfilled_placeholders_count_as_absent() -> None:
    result = dd.parse(load("datadog_custom_unfilled"), headers={}, now=NOW)
    alert = result.alerts[0]
    assert alert.title == "Synthetic check failed"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.labels == {"transition": "Triggered"}
    assert alert.link == ""
    assert result.delivery_id.startswith("sha256:")  # $ID was not filled


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("[P2] [Recovered] CPU high", ("CPU high", "Recovered", "", "P2")),
        ("[Re-Warn on {env:prod}] [P1] Queue", ("Queue", "Re-Warn", "env:prod", "P1")),
        ("[No Data on {host:a}] Heartbeat", ("Heartbeat", "No Data", "host:a", "")),
        ("[Maintenance] not a prefix", ("[Maintenance] not a prefix", "", "", "")),
    ],
)
def test_split_title(title: str, expected: tuple[str, str, str, str]) -> None:
    assert split_title(title) == expected


def test_unicode_and_long_titles() -> None:
    payload = load("datadog_default_triggered")
    payload["title"] = "[Triggered] 监控 <b>CPU</b> \u00fcber " + "x" * 600
    alert = dd.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("监控 <b>CPU</b> über x")
    assert len(alert.title) == 300


def test_tags_may_be_a_list() -> None:
    payload = load("datadog_custom_warn")
    payload["tags"] = ["env:prod", "service:api"]
    alert = dd.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.service, alert.environment) == ("api", "staging")  # scope env wins


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None, "alert_title": None, "alert_id": None, "aggreg_key": None}, "title"),
        ({"org": "Acme"}, "org"),
        ({"tags": 42}, "tags"),
        ({"title": ["a"]}, "title"),
        ({"alert_transition": {"x": 1}}, "alert_transition"),
    ],
)
def test_malformed_fields_are_named(change: dict, field: str) -> None:
    payload = load("datadog_custom_warn")
    for key, value in change.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    with pytest.raises(PayloadError) as caught:
        dd.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_garbled_dates_do_not_reject_the_alert() -> None:
    payload = load("datadog_default_triggered")
    payload["date"] = "Tue Nov 14"
    payload["last_updated"] = "1700000300000"
    assert dd.parse(payload, headers={}, now=NOW).alerts[0].started_at == datetime(
        2023, 11, 14, 22, 18, 20, tzinfo=UTC
    )


def test_datadog_needs_a_quiet_period() -> None:
    assert DatadogSource.sends_resolve is False
    assert dd.verify_signature(b"{}", {}, "", NOW)
