"""Changes without a timeline of their own leave an AuditEntry, written with the change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerting import rule_services
from alerting.models import AlertEvent
from incidents import maintenance_services
from incidents import services as incident_services
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from statuspage.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries(type_: str) -> list[tuple[str, dict]]:
    return [
        (e.action, e.changes) for e in AuditEntry.objects.filter(object_type=type_).order_by("id")
    ]


def test_rule_changes_are_audited_with_actor_and_differences(admin_user) -> None:
    now = timezone.now()
    api = make_monitor(tag="api")
    rule = rule_services.create_rule(
        {"monitors": [api], "kind": "LATENCY", "value": "1000"}, now=now, actor=admin_user
    )
    rule_services.update_rule(rule, {"value": "750.0"}, now=now, actor=admin_user)
    rule_services.update_rule(rule, {"value": "750"}, now=now, actor=admin_user)  # no change
    rule_services.delete_rule(rule, now=now, actor=admin_user)
    entries = _entries("alerting.AlertRule")
    assert [action for action, _ in entries] == ["created", "updated", "deleted"]
    assert entries[0][1]["monitors"] == ["api"]
    assert entries[1][1] == {"value": ["1000", "750"]}
    assert set(AuditEntry.objects.values_list("actor", flat=True)) == {admin_user.pk}


def test_maintenance_window_changes_are_audited(operator_user) -> None:
    now = timezone.now()
    db = make_monitor(tag="db")
    window = maintenance_services.create_window(
        {
            "title": "Upgrade",
            "starts_at": now,
            "ends_at": now + timedelta(hours=1),
            "monitors": [db],
        },
        now=now,
        actor=operator_user,
    )
    maintenance_services.update_window(window, {"monitors": []}, now=now, actor=operator_user)
    maintenance_services.delete_window(window, now=now, actor=operator_user)
    entries = _entries("incidents.MaintenanceWindow")
    assert [action for action, _ in entries] == ["created", "updated", "deleted"]
    assert entries[1][1] == {"monitors": [["db"], []]}


def test_deleting_an_incident_or_an_alert_log_entry_is_audited(admin_user) -> None:
    now = timezone.now()
    m = make_monitor(tag="web")
    rule_services.create_rule(
        {"monitors": [m], "kind": "STATUS", "value": "DOWN", "failure_threshold": 1}, now=now
    )
    record_results([result(m, now, "DOWN")], now=now)
    incident = m.alerts.get().incident
    key = incident.key
    incident_services.delete_incident(incident, now=now, actor=admin_user)
    rule_services.delete_alert_event(AlertEvent.objects.get(), now=now, actor=admin_user)
    deleted = AuditEntry.objects.get(object_type="incidents.Incident")
    assert deleted.label.startswith(key) and deleted.changes["key"] == key
    assert deleted.actor == admin_user
    assert (
        AuditEntry.objects.filter(object_type="alerting.AlertEvent", action="deleted").count() == 1
    )
