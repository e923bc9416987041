"""PagerDuty v3 webhook parser and ``X-PagerDuty-Signature`` (``pagerduty.py``).

Payloads: ``payloads/pagerduty_*.json``, from PagerDuty's V3 webhooks overview
and the ``pagey.ping`` test event (see payloads/README.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get

from .payloads import NOW, load, raw_bytes

pd = get("pagerduty")


def v1(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_incident_triggered() -> None:
    result = pd.parse(load("pagerduty_triggered"), headers={}, now=NOW)
    assert result.delivery_id == "5ac64822-4adc-4fda-ade0-410becf0de4f"
    (alert,) = result.alerts
    assert alert.fingerprint == "PGR0VU2"
    assert alert.status == "firing"
    assert alert.severity == "critical"  # priority P1
    assert alert.title == "A little bump in the road"
    assert alert.service == "API Service"
    assert alert.link == "https://acme.pagerduty.com/incidents/PGR0VU2"
    assert alert.started_at == datetime(2020, 10, 2, 18, 45, 22, tzinfo=UTC)
    assert alert.labels["assignees"] == "User 123"
    assert alert.labels["teams"] == "Engineering"
    assert alert.labels["incident_number"] == "2"
    assert alert.labels["event_type"] == "incident.triggered"
    assert "Escalation policy: Default" in alert.description


def test_incident_resolved_closes_it() -> None:
    (alert,) = pd.parse(load("pagerduty_resolved"), headers={}, now=NOW).alerts
    assert alert.fingerprint == "PGR0VU2"
    assert alert.status == "resolved"
    assert alert.severity == "warning"  # no priority, urgency low
    assert alert.ended_at == datetime(2020, 10, 2, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("incident.acknowledged", "acknowledged", "firing"),
        ("incident.unacknowledged", "triggered", "firing"),
        ("incident.reopened", "triggered", "firing"),
        ("incident.priority_updated", "triggered", "firing"),
        ("incident.resolved", None, "resolved"),
        ("incident.escalated", None, "firing"),
    ],
)
def test_incident_events_carry_the_current_state(
    event_type: str, status: str | None, expected: str
) -> None:
    payload = load("pagerduty_triggered")
    payload["event"]["event_type"] = event_type
    if status is None:
        del payload["event"]["data"]["status"]
    else:
        payload["event"]["data"]["status"] = status
    assert pd.parse(payload, headers={}, now=NOW).alerts[0].status == expected


@pytest.mark.parametrize(
    ("priority", "urgency", "severity"),
    [
        ("P2", "low", "critical"),
        ("P3", "high", "warning"),
        ("P5", "high", "info"),
        (None, "high", "critical"),
    ],
)
def test_severity_from_priority_then_urgency(
    priority: str | None, urgency: str, severity: str
) -> None:
    payload = load("pagerduty_triggered")
    data = payload["event"]["data"]
    data["priority"] = None if priority is None else {"summary": priority}
    data["urgency"] = urgency
    assert pd.parse(payload, headers={}, now=NOW).alerts[0].severity == severity


def test_ping_is_a_test() -> None:
    result = pd.parse(load("pagerduty_ping"), headers={}, now=NOW)
    assert result.is_test and result.alerts == []
    assert result.delivery_id == "01FKZOXA868SHYEE4DVNWB5P9W"


def test_notes_and_other_resources_are_acknowledged_without_alerts() -> None:
    result = pd.parse(load("pagerduty_annotated"), headers={}, now=NOW)
    assert not result.is_test and result.alerts == []
    service_event = {
        "event": {"id": "x", "event_type": "service.updated", "data": {"type": "service"}}
    }
    assert pd.parse(service_event, headers={}, now=NOW).alerts == []


def test_replayed_event_has_the_same_delivery_id() -> None:
    assert (
        pd.parse(load("pagerduty_triggered"), headers={}, now=NOW).delivery_id
        == pd.parse(load("pagerduty_triggered"), headers={}, now=NOW).delivery_id
    )


def test_unicode_html_and_long_titles() -> None:
    payload = load("pagerduty_triggered")
    payload["event"]["data"]["title"] = (
        "<img src=x onerror=alert(1)> Paiement échoué ✗ " + "z" * 400
    )
    alert = pd.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("<img src=x onerror=alert(1)> Paiement échoué ✗ z")
    assert len(alert.title) == 300


def test_missing_optional_fields() -> None:
    payload = {
        "event": {
            "id": "e1",
            "event_type": "incident.triggered",
            "data": {"id": "P1", "type": "incident"},
        }
    }
    alert = pd.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.title, alert.severity, alert.service, alert.link) == (
        "(no title)",
        "critical",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("event"), "event"),
        (lambda p: p.update(event=[1]), "event"),
        (lambda p: p["event"].pop("event_type"), "event.event_type"),
        (lambda p: p["event"]["data"].pop("id"), "event.data.id"),
        (lambda p: p["event"]["data"].update(status="snoozed"), "event.data.status"),
        (lambda p: p["event"]["data"].update(service="API"), "event.data.service"),
        (lambda p: p["event"]["data"].update(assignees=["u"]), "event.data.assignees[0]"),
        (lambda p: p["event"].update(occurred_at="soon"), "event.occurred_at"),
    ],
)
def test_malformed_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("pagerduty_triggered")
    mutate(payload)
    with pytest.raises(PayloadError) as caught:
        pd.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


# ---------------------------------------------------------------- signature


def test_valid_signature() -> None:
    body = raw_bytes("pagerduty_triggered")
    assert pd.verify_signature(body, {"X-PagerDuty-Signature": v1("whsec", body)}, "whsec", NOW)
    assert pd.verify_signature(body, {"x-pagerduty-signature": v1("whsec", body)}, "whsec", NOW)


def test_invalid_signatures() -> None:
    body = raw_bytes("pagerduty_triggered")
    good = v1("whsec", body)
    assert not pd.verify_signature(body, {}, "whsec", NOW)
    assert not pd.verify_signature(body, {"X-PagerDuty-Signature": good}, "other", NOW)
    assert not pd.verify_signature(body, {"X-PagerDuty-Signature": good}, "", NOW)
    assert not pd.verify_signature(body + b"\n", {"X-PagerDuty-Signature": good}, "whsec", NOW)
    # Only v1 signatures count.
    v2 = good.replace("v1=", "v2=")
    assert not pd.verify_signature(body, {"X-PagerDuty-Signature": v2}, "whsec", NOW)
    assert not pd.verify_signature(body, {"X-PagerDuty-Signature": "garbage,,v1="}, "whsec", NOW)


def test_signature_is_over_the_raw_bytes_not_reencoded_json() -> None:
    body = raw_bytes("pagerduty_triggered")
    reencoded = json.dumps(json.loads(body)).encode()
    headers = {"X-PagerDuty-Signature": v1("whsec", body)}
    assert not pd.verify_signature(reencoded, headers, "whsec", NOW)


def test_rotated_secrets_several_signatures_one_match_is_enough() -> None:
    body = raw_bytes("pagerduty_triggered")
    # During PagerDuty's rotation the header carries one signature per secret.
    header = f"{v1('old-secret', body)},{v1('new-secret', body)}"
    assert pd.verify_signature(body, {"X-PagerDuty-Signature": header}, "new-secret", NOW)
    assert pd.verify_signature(body, {"X-PagerDuty-Signature": header}, "old-secret", NOW)
    assert not pd.verify_signature(body, {"X-PagerDuty-Signature": header}, "third", NOW)
    # And Beacon may hold both secrets while the operator rotates.
    single = {"X-PagerDuty-Signature": v1("old-secret", body)}
    assert pd.verify_signature(body, single, "new-secret\nold-secret", NOW)


def test_unicode_body_signature() -> None:
    body = '{"event":{"id":"e","event_type":"pagey.ping","data":{"message":"Grüße 👋"}}}'.encode()
    assert pd.verify_signature(body, {"X-PagerDuty-Signature": v1("clé", body)}, "clé", NOW)
