"""Console pages of the alerting app through Django's test client: rules list
and editor (live sentence, inline errors), the alert log (filters, paging,
actions) for every role. Alert data comes from the real evaluation through
``monitors.services.record_results``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from alerting import rule_services
from alerting.forms import rule_sentence
from alerting.models import AlertEvent, AlertRule
from monitors import services as monitor_services
from monitors.models import Monitor
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None, role=role)


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    return {
        "admin": _user("admin-user", ADMIN),
        "operator": _user("operator-user", OPERATOR),
        "viewer": _user("viewer-user", VIEWER),
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def monitor() -> Monitor:
    return make_monitor(name="Payment API", tag="pay")


def _rule(monitors: list[Monitor], **data: Any) -> AlertRule:
    return rule_services.create_rule(
        {
            "monitors": monitors,
            "kind": "STATUS",
            "value": "DOWN",
            "failure_threshold": 2,
            "success_threshold": 1,
            **data,
        },
        now=timezone.now(),
    )


def _flap(monitor: Monitor, statuses: list[str], start: Any = None) -> None:
    now = timezone.now()
    start = start or now - timedelta(minutes=len(statuses) + 1)
    monitor_services.record_results(
        [
            result(monitor, start + timedelta(minutes=i), status, None if status == "DOWN" else 5)
            for i, status in enumerate(statuses)
        ],
        now=now,
    )


# --- sentence ---------------------------------------------------------------------


def test_sentences() -> None:
    assert rule_sentence(["Payment API"], "STATUS", "DOWN", 3, 2) == (
        "Trigger when Payment API is DOWN for 3 consecutive checks; resolve after 2 UP checks"
    )
    assert "slower than 1000 ms" in rule_sentence(["A", "B"], "LATENCY", "1000.0", 1, 1)
    assert "A or B" in rule_sentence(["A", "B"], "LATENCY", "1000", 1, 1)
    assert "below 99.9%" in rule_sentence([], "UPTIME", "99.90", 10, 5)
    assert "DOWN or DEGRADED" in rule_sentence(["A"], "STATUS", "UP", 1, 1)


# --- rules --------------------------------------------------------------------------


def test_rules_roles(users: dict[str, Any], monitor: Monitor) -> None:
    rule = _rule([monitor])
    for role in ("viewer", "operator"):
        client = client_for(users[role])
        page = client.get(reverse("alerting:rules"))
        assert page.status_code == 200
        assert "Trigger when Payment API is DOWN for 2 consecutive checks" in page.content.decode()
        assert reverse("alerting:rule_edit", args=[rule.pk]) not in page.content.decode()
        assert client.get(reverse("alerting:rule_create")).status_code == 403
        assert client.post(reverse("alerting:rule_edit", args=[rule.pk]), {}).status_code == 403
        assert client.post(reverse("alerting:rule_delete", args=[rule.pk])).status_code == 403
    assert AlertRule.objects.count() == 1


def test_rules_empty_and_filters(users: dict[str, Any], monitor: Monitor) -> None:
    client = client_for(users["admin"])
    assert "No alert rules yet" in client.get(reverse("alerting:rules")).content.decode()
    other = make_monitor(name="Other", tag="other")
    _rule([monitor])
    _rule([other], kind="LATENCY", value="500", is_active=False)
    rows = lambda **p: [r.kind for r, _ in client.get(reverse("alerting:rules"), p).context["rows"]]  # noqa: E731
    assert rows() == ["STATUS", "LATENCY"]
    assert rows(kind="LATENCY") == ["LATENCY"]
    assert rows(monitor="pay") == ["STATUS"]
    assert rows(active="0") == ["LATENCY"]


def test_create_rule_with_inline_errors(users: dict[str, Any], monitor: Monitor) -> None:
    client = client_for(users["admin"])
    url = reverse("alerting:rule_create")
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="rule-sentence"' in page.content.decode()
    bad = client.post(
        url,
        {
            "kind": "UPTIME",
            "value": "120",
            "failure_threshold": "0",
            "success_threshold": "2",
            "severity": "CRITICAL",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Choose at least one monitor." in html
    assert "percentage from 0 to 100" in html
    assert "whole number" in html
    assert not AlertRule.objects.exists()
    ok = client.post(
        url,
        {
            "monitors": [monitor.pk],
            "kind": "LATENCY",
            "value": "1500.0",
            "failure_threshold": "3",
            "success_threshold": "2",
            "severity": "WARNING",
            "create_incident": "on",
            "is_active": "on",
            "description": "slow",
        },
    )
    assert ok.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.kind, rule.value, rule.severity, rule.create_incident) == (
        "LATENCY",
        "1500",
        "WARNING",
        True,
    )
    assert list(rule.monitors.all()) == [monitor]


def test_edit_and_delete_rule(users: dict[str, Any], monitor: Monitor) -> None:
    rule = _rule([monitor])
    client = client_for(users["admin"])
    url = reverse("alerting:rule_edit", args=[rule.pk])
    page = client.get(url).content.decode()
    assert "Trigger when Payment API is DOWN" in page
    response = client.post(
        url,
        {
            "monitors": [monitor.pk],
            "kind": "STATUS",
            "value": "DEGRADED",
            "failure_threshold": "4",
            "success_threshold": "2",
            "severity": "CRITICAL",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.value, rule.failure_threshold, rule.is_active) == ("DEGRADED", 4, False)
    confirm = client.get(reverse("alerting:rule_delete", args=[rule.pk]))
    assert b"btn-danger" in confirm.content
    client.post(reverse("alerting:rule_delete", args=[rule.pk]))
    assert not AlertRule.objects.exists()


def test_live_sentence_partial(users: dict[str, Any], monitor: Monitor) -> None:
    client = client_for(users["admin"])
    response = client.post(
        reverse("alerting:rule_sentence"),
        {
            "monitors": [monitor.pk],
            "kind": "STATUS",
            "value": "DOWN",
            "failure_threshold": "3",
            "success_threshold": "2",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert (
        "Trigger when Payment API is DOWN for 3 consecutive checks; resolve after 2 UP checks"
        in response.content.decode()
    )
    hostile = client.post(
        reverse("alerting:rule_sentence"),
        {"kind": "STATUS", "value": "<b>x</b>", "failure_threshold": "x"},
    ).content.decode()
    assert "<b>x</b>" not in hostile


# --- alert log ---------------------------------------------------------------------


def test_alert_log_from_real_evaluation(users: dict[str, Any], monitor: Monitor) -> None:
    other = make_monitor(name="Search", tag="search")
    rule = _rule([monitor, other])
    _flap(monitor, ["DOWN", "DOWN", "UP"])
    _flap(other, ["DOWN", "DOWN"])
    events = AlertEvent.objects.all()
    assert sorted(e.status for e in events) == ["RESOLVED", "TRIGGERED", "TRIGGERED"]
    viewer = client_for(users["viewer"])
    page = viewer.get(reverse("alerting:log"))
    assert page.status_code == 200
    html = page.content.decode()
    incident = AlertEvent.objects.filter(monitor=other).get().incident
    assert incident is not None
    assert reverse("incidents:detail", args=[incident.pk]) in html
    assert "View incident" in html
    assert reverse("incidents:resolve", args=[incident.pk]) not in html  # viewer
    assert "Delete</a>" not in html

    def statuses(**params: str) -> list[str]:
        response = viewer.get(reverse("alerting:log"), params)
        return sorted(e.status for e in response.context["page"].object_list)

    assert statuses(status="RESOLVED") == ["RESOLVED"]
    assert statuses(monitor="search") == ["TRIGGERED"]
    assert statuses(rule=str(rule.pk)) == ["RESOLVED", "TRIGGERED", "TRIGGERED"]
    today = timezone.now().date()
    assert len(statuses(start=today.isoformat())) == 3
    assert statuses(end=(today - timedelta(days=2)).isoformat()) == []
    assert len(statuses(status="bogus", monitor="nope")) == 3
    filtered = viewer.get(reverse("alerting:log"), {"end": "2000-01-01"}).content.decode()
    assert "No alerts match these filters" in filtered

    operator_html = client_for(users["operator"]).get(reverse("alerting:log")).content.decode()
    assert reverse("incidents:resolve", args=[incident.pk]) in operator_html


def test_alert_log_empty_and_paging(users: dict[str, Any], monitor: Monitor) -> None:
    client = client_for(users["admin"])
    assert "No alerts yet" in client.get(reverse("alerting:log")).content.decode()
    _rule([monitor], failure_threshold=1, create_incident=False)
    start = timezone.now() - timedelta(hours=2)
    _flap(monitor, ["DOWN", "UP"] * 30, start=start)
    page1 = client.get(reverse("alerting:log"), {"monitor": "pay"})
    assert page1.context["page"].paginator.count == 60
    assert len(page1.context["page"].object_list) == 50
    assert "?monitor=pay&amp;page=2" in page1.content.decode()
    page2 = client.get(reverse("alerting:log"), {"monitor": "pay", "page": "2"})
    assert len(page2.context["page"].object_list) == 10


def test_delete_log_entry_admin_only(users: dict[str, Any], monitor: Monitor) -> None:
    _rule([monitor])
    _flap(monitor, ["DOWN", "DOWN"])
    event = AlertEvent.objects.get()
    url = reverse("alerting:event_delete", args=[event.pk])
    assert client_for(users["operator"]).post(url).status_code == 403
    admin = client_for(users["admin"])
    assert b"btn-danger" in admin.get(url).content
    assert admin.post(url).status_code == 302
    assert not AlertEvent.objects.exists()
