"""Alerting API: alert rules CRUD with validation, alerts, acknowledge, the alert log.

Alerts and incidents are produced by the real path: results recorded with
``monitors.services.record_results`` run the alert evaluation.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alerting.models import Alert, AlertEvent, AlertRule
from incidents.models import Incident
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db

RULES = "/api/v1/alert-rules"


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


def rule_body(**overrides: Any) -> dict[str, Any]:
    return {"monitors": ["api"], "kind": "STATUS", "value": "DOWN", **overrides}


def assert_rejected(response, field: str | None, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    if field is None:
        assert "detail" in body, body
    else:
        assert body.get(field), body
    return body


def make_down_incident(monitor=None, *, failures: int = 2):
    """A STATUS DOWN rule on ``monitor`` crossed by real results: (rule, alert, incident)."""
    monitor = monitor or make_monitor(tag="api", name="Payment API")
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=failures)
    rule.monitors.add(monitor)
    start = timezone.now() - timedelta(minutes=10)
    record_results(
        [result(monitor, start + timedelta(minutes=i), "DOWN") for i in range(failures)],
        now=start + timedelta(minutes=failures),
    )
    alert = Alert.objects.get(rule=rule, monitor=monitor)
    return rule, alert, alert.incident


# --- Alert rules ---------------------------------------------------------------------


def test_create_read_update_delete_rule(admin, viewer) -> None:
    make_monitor(tag="api")
    make_monitor(tag="web")
    response = admin.post(RULES, rule_body(monitors=["web", "api"]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["monitors"] == ["api", "web"]
    assert body["failure_threshold"] == 3 and body["success_threshold"] == 2
    assert body["severity"] == "CRITICAL" and body["create_incident"] is True
    rule_id = body["id"]

    listed = viewer.get(RULES).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == rule_id

    patched = admin.patch(
        f"{RULES}/{rule_id}", {"kind": "LATENCY", "value": "1000.0"}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["value"] == "1000"
    assert AlertRule.objects.get().value == "1000"

    assert admin.delete(f"{RULES}/{rule_id}").status_code == 204
    assert not AlertRule.objects.exists()


def test_roles_for_rules(operator, viewer, api_client_for) -> None:
    make_monitor(tag="api")
    assert api_client_for(None).get(RULES).status_code == 401
    assert viewer.get(RULES).status_code == 200
    assert viewer.post(RULES, rule_body(), format="json").status_code == 403
    assert operator.post(RULES, rule_body(), format="json").status_code == 403
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("LATENCY", "1000", "1000"),
        ("LATENCY", 1000, "1000"),
        ("LATENCY", "1000.500", "1000.5"),
        ("LATENCY", "1e3", "1000"),
        ("UPTIME", 99.9, "99.9"),
        ("UPTIME", "99.90", "99.9"),
        ("UPTIME", "100", "100"),
        ("UPTIME", "0", "0"),
        ("STATUS", "DEGRADED", "DEGRADED"),
        ("STATUS", " DOWN ", "DOWN"),
    ],
)
def test_values_are_normalised(admin, kind: str, value: Any, stored: str) -> None:
    make_monitor(tag="api")
    response = admin.post(RULES, rule_body(kind=kind, value=value), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["value"] == stored
    assert AlertRule.objects.get().value == stored


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "LATENCY", "value": "-5"}, "value"),
        ({"kind": "LATENCY", "value": "abc"}, "value"),
        ({"kind": "LATENCY", "value": "0"}, "value"),
        ({"kind": "LATENCY", "value": "NaN"}, "value"),
        ({"kind": "LATENCY", "value": "Infinity"}, "value"),
        ({"kind": "LATENCY", "value": "1e999999"}, "value"),
        ({"kind": "LATENCY", "value": "0.0001"}, "value"),
        ({"kind": "LATENCY", "value": True}, "value"),
        ({"kind": "LATENCY", "value": [1000]}, "value"),
        ({"kind": "LATENCY", "value": None}, "value"),
        ({"kind": "LATENCY", "value": "1" * 100}, "value"),
        ({"kind": "UPTIME", "value": "101"}, "value"),
        ({"kind": "UPTIME", "value": -1}, "value"),
        ({"kind": "STATUS", "value": "UP"}, "value"),
        ({"kind": "STATUS", "value": "down"}, "value"),
        ({"kind": "STATUS", "value": "DOWN\x00"}, "value"),
        ({"kind": "PING"}, "kind"),
        ({"kind": 5}, "kind"),
        ({"monitors": ["api", "api"]}, "monitors"),
        ({"monitors": ["nope"]}, "monitors"),
        ({"monitors": []}, "monitors"),
        ({"monitors": "api"}, "monitors"),
        ({"monitors": ["a\x00pi"]}, "monitors"),
        ({"monitors": ["API"]}, "monitors"),
        ({"monitors": [{"tag": "api"}]}, "monitors"),
        ({"monitors": [f"m{i}" for i in range(500)]}, "monitors"),
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": "three"}, "failure_threshold"),
        ({"failure_threshold": 10**30}, "failure_threshold"),
        ({"success_threshold": -1}, "success_threshold"),
        ({"severity": "HIGH"}, "severity"),
        ({"create_incident": "maybe"}, "create_incident"),
        ({"description": "x" * 5001}, "description"),
        ({"description": "bad \x00 byte"}, "description"),
        ({"description": "lone \ud800 surrogate"}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_hostile_rule_input_is_400(admin, overrides: dict[str, Any], field: str) -> None:
    make_monitor(tag="api")
    # json.dumps escapes lone surrogates, which the test client's encoder cannot send.
    body = json.dumps(rule_body(**overrides))
    response = admin.generic("POST", RULES, body, content_type="application/json")
    assert_rejected(response, field)
    assert not AlertRule.objects.exists()
    assert not AlertRule.monitors.through.objects.exists()


def test_patch_of_kind_rechecks_the_stored_value(admin) -> None:
    make_monitor(tag="api")
    rule_id = admin.post(RULES, rule_body(), format="json").json()["id"]
    response = admin.patch(f"{RULES}/{rule_id}", {"kind": "LATENCY"}, format="json")
    assert_rejected(response, "value")
    assert AlertRule.objects.get().kind == "STATUS"


def test_unparseable_and_non_object_bodies(admin) -> None:
    assert_rejected(admin.generic("POST", RULES, b"{nope", content_type="application/json"), None)
    assert_rejected(admin.post(RULES, [1, 2], format="json"), "non_field_errors")
    response = admin.generic("POST", RULES, "kind=STATUS", "application/x-www-form-urlencoded")
    assert_rejected(response, None, status=415)
    assert not AlertRule.objects.exists()


def test_unknown_rule_ids_are_404(admin) -> None:
    for path in ("999", "99999999999999999999999"):
        assert admin.get(f"{RULES}/{path}").status_code == 404


# --- Alerts and the alert log --------------------------------------------------------


def test_real_results_raise_an_alert_listed_by_the_api(viewer) -> None:
    rule, alert, incident = make_down_incident()
    assert incident is not None
    response = viewer.get("/api/v1/alerts")
    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == alert.pk
    assert item["rule"] == rule.pk and item["monitor"] == "api"
    assert item["status"] == "TRIGGERED"
    assert item["incident"] == incident.pk and item["incident_key"] == incident.key

    detail = viewer.get(f"/api/v1/alerts/{alert.pk}").json()
    assert detail == item

    [event] = viewer.get("/api/v1/alert-events").json()
    assert event["status"] == "TRIGGERED" and event["monitor"] == "api"
    assert event["incident_key"] == incident.key
    assert event["suppressed_by_maintenance"] is False


def test_alert_filters(viewer) -> None:
    rule, alert, incident = make_down_incident()
    other = make_monitor(tag="web")
    start = timezone.now() - timedelta(minutes=5)
    record_results([result(other, start, "UP")], now=start)

    def ids(query: str, path: str = "/api/v1/alerts") -> list[int]:
        response = viewer.get(path + query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()]

    assert ids(f"?rule={rule.pk}") == [alert.pk]
    assert ids("?monitor=api&status=TRIGGERED") == [alert.pk]
    assert ids("?monitor=web") == []
    assert ids("?status=RESOLVED") == []
    assert ids(f"?incident={incident.key}") == [alert.pk]
    assert ids(f"?incident={incident.pk}") == [alert.pk]
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"?from={future}") == []
    assert ids("?limit=1") == [alert.pk]
    assert len(ids("?monitor=api", "/api/v1/alert-events")) == 1
    assert ids("?status=RESOLVED", "/api/v1/alert-events") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=UP", "status"),
        ("?rule=abc", "rule"),
        ("?rule=999", "rule"),
        ("?rule=99999999999999999999999", "rule"),
        ("?monitor=nope", "monitor"),
        ("?monitor=a%00b", "monitor"),
        ("?incident=INC-9x", "incident"),
        ("?incident=999", "incident"),
        ("?from=yesterday", "from"),
        ("?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from"),
        ("?limit=0", "limit"),
        ("?limit=100000", "limit"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/alert-events"])
def test_bad_filters_are_400(viewer, path: str, query: str, field: str) -> None:
    assert_rejected(viewer.get(path + query), field)


def test_acknowledge_alert(operator, viewer, operator_user) -> None:
    _, alert, _ = make_down_incident()
    url = f"/api/v1/alerts/{alert.pk}/acknowledge"
    assert viewer.post(url).status_code == 403
    response = operator.post(url)
    assert response.status_code == 200, response.json()
    assert response.json()["acknowledged_by"] == operator_user.username
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert operator.post("/api/v1/alerts/999/acknowledge").status_code == 404


def test_deleting_a_rule_keeps_its_incident(admin) -> None:
    rule, _, incident = make_down_incident()
    assert admin.delete(f"{RULES}/{rule.pk}").status_code == 204
    assert not Alert.objects.exists() and not AlertEvent.objects.exists()
    assert Incident.objects.filter(pk=incident.pk).exists()
