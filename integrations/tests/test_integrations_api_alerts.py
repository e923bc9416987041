"""``/api/v1/alerts`` with external alerts: the new filters, violations
(failing checks or received occurrences), acknowledge, and close refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerting.models import Alert, AlertRule
from catalog.models import Service
from integrations.dedup import delivery_key
from integrations.ingest_services import ingest
from integrations.models import Integration
from integrations.sources import get
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

from .helpers import T0, am_alert, am_group, make_integration

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts"
MIN = timedelta(minutes=1)


def receive(integration: Integration, body: dict, now: Any = T0) -> list[int]:
    parsed = get(integration.source).parse(body, headers={}, now=now)
    return ingest(
        integration, parsed, key=delivery_key(parsed.delivery_id, now, 60), now=now
    ).alert_ids


@pytest.fixture
def viewer(api_client_for: Any, viewer_user: Any) -> Any:
    return api_client_for(viewer_user)


@pytest.fixture
def operator(api_client_for: Any, operator_user: Any) -> Any:
    return api_client_for(operator_user)


@pytest.fixture
def world() -> dict[str, Any]:
    """Two integrations, a catalogue service and a rule alert."""
    Service.objects.create(name="Checkout", slug="checkout")
    am = make_integration("alertmanager", name="AM")
    grafana = make_integration("grafana", name="Grafana")
    receive(am, am_group(am_alert("am1"), am_alert("am2", severity="warning", service="search")))
    receive(grafana, am_group(am_alert("gr1", severity="info", service="web")) | {"version": "1"})
    monitor = make_monitor(name="API", tag="api")
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=1)
    rule.monitors.set([monitor])
    record_results([result(monitor, T0 - 10 * MIN, "UP")], now=T0 - 10 * MIN)
    for i in range(3):
        at = T0 - (5 - i) * MIN
        record_results([result(monitor, at, "DOWN", message=f"refused {i}")], now=at)
    return {"am": am, "grafana": grafana, "monitor": monitor, "rule": rule}


def fingerprints(data: list[dict]) -> set[str]:
    return {a["fingerprint"] or f"rule:{a['monitor']}" for a in data}


def test_list_shows_external_and_rule_alerts(viewer: Any, world: dict) -> None:
    data = viewer.get(URL).json()
    assert fingerprints(data) == {"am1", "am2", "gr1", "rule:api"}
    am1 = next(a for a in data if a["fingerprint"] == "am1")
    assert am1["source"] == "alertmanager" and am1["integration"] == world["am"].pk
    assert am1["title"] == "HighLatency on checkout" and am1["severity"] == "CRITICAL"
    assert am1["service"] == "checkout" and am1["service_name"] == "checkout"
    assert am1["environment"] == "production" and am1["occurrence_count"] == 1
    assert am1["labels"]["alertname"] == "HighLatency" and am1["rule"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"source": "alertmanager"}, {"am1", "am2"}),
        ({"source": "rule"}, {"rule:api"}),
        ({"service": "checkout"}, {"am1"}),
        ({"service": "CHECKOUT"}, {"am1"}),
        ({"severity": "warning"}, {"am2"}),
        ({"severity": "INFO"}, {"gr1"}),
        ({"status": "TRIGGERED", "source": "grafana"}, {"gr1"}),
        ({"status": "RESOLVED"}, set()),
        ({"monitor": "api"}, {"rule:api"}),
    ],
)
def test_filters(viewer: Any, world: dict, params: dict, expected: set) -> None:
    response = viewer.get(URL, params)
    assert response.status_code == 200, response.content
    assert fingerprints(response.json()) == expected


def test_integration_filter_and_limit(viewer: Any, world: dict) -> None:
    data = viewer.get(URL, {"integration": world["grafana"].pk}).json()
    assert fingerprints(data) == {"gr1"}
    assert len(viewer.get(URL, {"limit": 2}).json()) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"source": "nagios"}, "source"),
        ({"integration": "x"}, "integration"),
        ({"integration": 424242}, "integration"),
        ({"service": "no-such-service"}, "service"),
        ({"service": "x" * 500}, "service"),
        ({"severity": "urgent"}, "severity"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"incident": "INC-nope"}, "incident"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(
    viewer: Any, world: dict, params: dict, field: str
) -> None:
    response = viewer.get(URL, params)
    assert response.status_code == 400 and field in response.json()


def test_violations_of_an_external_alert_are_its_occurrences(viewer: Any, world: dict) -> None:
    receive(world["am"], am_group(am_alert("am1", summary="again")), T0 + 10 * MIN)
    receive(world["am"], am_group(am_alert("am1", "resolved")), T0 + 20 * MIN)
    alert = Alert.objects.get(fingerprint="am1")
    data = viewer.get(f"{URL}/{alert.pk}/violations").json()
    assert data["kind"] == "occurrences" and data["source"] == "alertmanager"
    assert [o["status"] for o in data["results"]] == ["RESOLVED", "TRIGGERED", "TRIGGERED"]
    assert data["results"][1]["raw"]["annotations"]["summary"] == "again"
    assert len(viewer.get(f"{URL}/{alert.pk}/violations", {"limit": 1}).json()["results"]) == 1


def test_violations_of_a_rule_alert_are_the_failing_checks(viewer: Any, world: dict) -> None:
    alert = Alert.objects.get(source="rule")
    data = viewer.get(f"{URL}/{alert.pk}/violations").json()
    assert data["kind"] == "check_results"
    assert [r["message"] for r in data["results"]] == ["refused 2", "refused 1", "refused 0"]
    assert all(r["status"] == "DOWN" for r in data["results"])


def test_violations_limit_is_validated(viewer: Any, world: dict) -> None:
    alert = Alert.objects.get(fingerprint="am1")
    for bad in (0, 5000, "many"):
        response = viewer.get(f"{URL}/{alert.pk}/violations", {"limit": bad})
        assert response.status_code == 400 and "limit" in response.json()


def test_operators_acknowledge_external_alerts(operator: Any, viewer: Any, world: dict) -> None:
    alert = Alert.objects.get(fingerprint="am1")
    assert viewer.post(f"{URL}/{alert.pk}/acknowledge").status_code == 403
    response = operator.post(f"{URL}/{alert.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == "operator-user"
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.status == "TRIGGERED"


def test_close_is_409_for_external_and_rule_alerts(operator: Any, viewer: Any, world: dict) -> None:
    external = Alert.objects.get(fingerprint="am1")
    assert viewer.post(f"{URL}/{external.pk}/close").status_code == 403
    response = operator.post(f"{URL}/{external.pk}/close")
    assert response.status_code == 409
    assert "source owns recovery" in response.json()["detail"]
    rule_alert = Alert.objects.get(source="rule")
    response = operator.post(f"{URL}/{rule_alert.pk}/close")
    assert response.status_code == 409 and "evaluation" in response.json()["detail"]
    assert set(Alert.objects.values_list("status", flat=True)) == {"TRIGGERED"}
    assert operator.post(f"{URL}/999999/close").status_code == 404


def test_the_alert_log_api_names_external_alerts(viewer: Any, world: dict) -> None:
    events = viewer.get("/api/v1/alert-events").json()
    external = [e for e in events if e["rule"] is None]
    assert {e["source"] for e in external} == {"alertmanager", "grafana"}
    assert {e["title"] for e in external} >= {"HighLatency on checkout"}
