"""Prometheus Alertmanager webhook (version 4) parser (``alertmanager.py``).

Payloads: ``payloads/alertmanager_*.json``, modelled on the webhook_config
JSON format in the Prometheus docs (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get

from .payloads import NOW, load

am = get("alertmanager")


def test_firing_alert() -> None:
    result = am.parse(load("alertmanager_firing"), headers={}, now=NOW)
    (alert,) = result.alerts
    assert alert.source == "alertmanager"
    assert alert.fingerprint == "1a30ba71cca2921f"
    assert alert.status == "firing" and alert.severity == "critical"
    assert alert.title == "BlackBox Probe Failure: https://server.example.org"
    assert alert.description.startswith("Instance https://server.example.org has been down")
    # No service label: Prometheus' scrape job stands in; env from the label.
    assert (alert.service, alert.environment) == ("http_checks", "production")
    assert alert.started_at == datetime(2023, 2, 6, 13, 8, 45, 828000, UTC)
    assert alert.ended_at is None
    assert (
        alert.link
        == "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1"
    )
    assert alert.labels == {
        "alertname": "ProbeFailure",
        "instance": "https://server.example.org",
        "job": "http_checks",
        "monitor": "master",
        "severity": "critical",
        "env": "production",
    }


def test_resolved_alert_has_the_same_fingerprint_and_an_end() -> None:
    firing = am.parse(load("alertmanager_firing"), headers={}, now=NOW).alerts[0]
    resolved = am.parse(load("alertmanager_resolved"), headers={}, now=NOW).alerts[0]
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.status == "resolved"
    assert resolved.ended_at == datetime(2023, 2, 6, 13, 20, 45, 828000, UTC)


def test_group_with_mixed_statuses() -> None:
    alerts = am.parse(load("alertmanager_group"), headers={}, now=NOW).alerts
    assert [a.status for a in alerts] == ["firing", "resolved", "firing"]
    crash, recovered, worker = alerts
    # A firing alert's provisional endsAt (Alertmanager's resolve timeout) is no end.
    assert crash.ended_at is None
    assert crash.started_at == datetime(2024, 6, 1, 8, 0, 0, 123456, UTC)  # nanoseconds cut
    assert recovered.ended_at == datetime(2024, 6, 1, 7, 58, 30, tzinfo=UTC)
    assert (crash.service, crash.environment, crash.severity) == (
        "payments-api",
        "staging",
        "warning",
    )
    assert "Runbook: https://runbooks.prometheus-operator.dev/" in crash.description
    # Unicode from JSON escapes (\u2014, \u00e9, a surrogate pair) arrives intact.
    assert worker.description == "Pod payments/worker-0 — redémarrage en boucle 🔁"
    assert worker.title == "KubePodCrashLooping"
    assert worker.severity == "info" and worker.service == "kube-state-metrics"
    # A javascript: generatorURL never becomes a link.
    assert worker.link == ""


def test_alert_without_fingerprint_is_identified_by_its_labels() -> None:
    payload = load("alertmanager_group")
    third = payload["alerts"][2]
    assert "fingerprint" not in third
    first = am.parse(payload, headers={}, now=NOW).alerts[2].fingerprint
    third["labels"] = dict(reversed(list(third["labels"].items())))  # order is irrelevant
    third["status"] = "resolved"
    assert am.parse(payload, headers={}, now=NOW).alerts[2].fingerprint == first
    third["labels"]["pod"] = "worker-1"
    assert am.parse(payload, headers={}, now=NOW).alerts[2].fingerprint != first


def test_alert_status_falls_back_to_the_group_status() -> None:
    payload = load("alertmanager_resolved")
    del payload["alerts"][0]["status"]
    assert am.parse(payload, headers={}, now=NOW).alerts[0].status == "resolved"


def test_missing_optional_fields() -> None:
    payload = {"version": "4", "alerts": [{"labels": {"alertname": "Watchdog"}}]}
    alert = am.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.title, alert.status, alert.severity) == ("Watchdog", "firing", "warning")
    assert alert.started_at is None and alert.link == ""
    assert am.parse({"alerts": [{}]}, headers={}, now=NOW).alerts[0].title == "(no title)"


def test_very_long_label_values_and_titles_are_truncated() -> None:
    payload = load("alertmanager_firing")
    payload["alerts"][0]["annotations"]["summary"] = "S" * 5000
    payload["alerts"][0]["labels"]["huge"] = "v" * 5000
    alert = am.parse(payload, headers={}, now=NOW).alerts[0]
    assert len(alert.title) == 300
    assert len(alert.labels["huge"]) == 1000
    assert alert.raw["labels"]["huge"] == "v" * 5000  # raw stays as received


def test_replayed_group_has_the_same_delivery_id_and_a_change_does_not() -> None:
    first = am.parse(load("alertmanager_group"), headers={}, now=NOW).delivery_id
    assert am.parse(load("alertmanager_group"), headers={}, now=NOW).delivery_id == first
    changed = load("alertmanager_group")
    changed["alerts"][0]["status"] = "resolved"
    assert am.parse(changed, headers={}, now=NOW).delivery_id != first
    assert first.startswith("sha256:")


@pytest.mark.parametrize("version", ["5", "1", 2])
def test_unknown_versions_are_refused(version: object) -> None:
    payload = load("alertmanager_firing")
    payload["version"] = version
    with pytest.raises(PayloadError) as caught:
        am.parse(payload, headers={}, now=NOW)
    assert caught.value.field == "version"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("alerts"), "alerts"),
        (lambda p: p.update(alerts=[]), "alerts"),
        (lambda p: p["alerts"][0].update(labels="alertname=x"), "alerts[0].labels"),
        (lambda p: p["alerts"][0].update(endsAt=12.5e20), "alerts[0].endsAt"),
        (lambda p: p["alerts"][0].update(status=None, labels={}) or p.update(status="x"), "status"),
        (lambda p: p.update(groupLabels=[]), "groupLabels"),
    ],
)
def test_malformed_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("alertmanager_firing")
    mutate(payload)
    with pytest.raises(PayloadError) as caught:
        am.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_no_signature_scheme() -> None:
    assert am.verify_signature(b"anything", {}, "", NOW)
