"""Maintenance windows API: CRUD through ``incidents.maintenance_services``,
RRULE validation, ``is_active_now``, and suppression seen through the alert log."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alerting.models import AlertRule
from incidents.models import Incident, MaintenanceWindow
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db

URL = "/api/v1/maintenance-windows"


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat().replace("+00:00", "Z")


def window(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "DB upgrade",
        "description": "Planned **upgrade** <script>x()</script>",
        "starts_at": iso(timedelta(hours=-1)),
        "ends_at": iso(timedelta(hours=1)),
        "monitors": ["api"],
        **overrides,
    }


def test_crud(admin, operator) -> None:
    make_monitor(tag="api")
    make_monitor(tag="web")
    response = admin.post(URL, window(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_active_now"] is True and body["monitors"] == ["api"]
    assert "<strong>upgrade</strong>" in body["description_html"]
    assert "<script" not in body["description_html"]
    url = f"{URL}/{body['id']}"
    assert operator.get(URL).json()["count"] == 1

    patched = admin.patch(
        url, {"starts_at": iso(timedelta(days=1)), "ends_at": iso(timedelta(days=2)),
              "monitors": ["web"], "description": "later"}, format="json",
    )  # fmt: skip
    assert patched.status_code == 200, patched.json()
    assert patched.json()["is_active_now"] is False
    assert patched.json()["monitors"] == ["web"]
    assert patched.json()["description_html"] == "<p>later</p>"
    assert operator.patch(url, {"title": "x"}, format="json").status_code == 403
    assert operator.delete(url).status_code == 403
    assert admin.delete(url).status_code == 204
    assert not MaintenanceWindow.objects.exists()


def test_recurring_window_is_active_in_an_occurrence(admin) -> None:
    make_monitor(tag="api")
    body = window(
        starts_at=iso(timedelta(days=-7, minutes=-30)),
        ends_at=iso(timedelta(days=-7, minutes=30)),
        rrule="RRULE:FREQ=DAILY",
    )
    response = admin.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["is_active_now"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "not a rule"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=abc"}, "rrule"),
        ({"rrule": "FREQ=DAILY;UNTIL=20300101T000000"}, "rrule"),  # naive UNTIL
        ({"rrule": "FREQ=SECONDLY"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY;INTERVAL=5"}, "rrule"),
        ({"rrule": "DTSTART:20200101T000000\nRRULE:FREQ=DAILY"}, "rrule"),
        ({"rrule": "FREQ=DAILY\x00"}, "rrule"),
        ({"rrule": "FREQ=DAILY;" + "BYHOUR=1;" * 100}, "rrule"),
        ({"ends_at": iso(timedelta(hours=-1))}, "ends_at"),
        ({"ends_at": iso(timedelta(hours=-2))}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"title": ""}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"description": "d" * 20001}, "description"),
        ({"description": "\ud800"}, "description"),
        ({"monitors": ["api", "api"]}, "monitors"),
        ({"monitors": ["ghost"]}, "monitors"),
        ({"is_global": "yes please"}, "is_global"),
        ({"is_active_now": True, "secret": 1}, "secret"),
    ],
)
def test_hostile_window_input_is_400(admin, overrides: dict[str, Any], field: str) -> None:
    make_monitor(tag="api")
    response = admin.generic(
        "POST", URL, json.dumps(window(**overrides)), content_type="application/json"
    )
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json().get(field), response.json()
    assert not MaintenanceWindow.objects.exists()
    assert not MaintenanceWindow.monitors.through.objects.exists()


def test_patch_cannot_end_before_start(admin) -> None:
    make_monitor(tag="api")
    pk = admin.post(URL, window(), format="json").json()["id"]
    before = MaintenanceWindow.objects.values().get()
    response = admin.patch(f"{URL}/{pk}", {"ends_at": iso(timedelta(days=-3))}, format="json")
    assert response.status_code == 400 and "ends_at" in response.json()
    assert MaintenanceWindow.objects.values().get() == before


def test_active_window_suppresses_incidents(admin, operator) -> None:
    monitor = make_monitor(tag="api")
    assert admin.post(URL, window(), format="json").status_code == 201
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=1)
    rule.monitors.add(monitor)
    now = timezone.now()
    record_results([result(monitor, now, "DOWN")], now=now)
    assert not Incident.objects.exists()
    [event] = operator.get("/api/v1/alert-events?monitor=api").json()
    assert event["status"] == "TRIGGERED" and event["suppressed_by_maintenance"] is True
    assert event["incident"] is None
