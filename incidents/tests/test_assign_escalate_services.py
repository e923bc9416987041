"""Assign and escalate (services): who may own an incident, the no-op, merged and
resolved incidents; escalation's validation, severity raise (never lower), its
timeline entry, its outbox notification planned to exactly the chosen
triggers, and a replan that doubles nothing. Real database, real planner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from catalog.tests.factories import make_service
from incidents import links, services
from incidents.models import Incident, Severity, State, TimelineEntry
from incidents.services import IncidentError
from monitors.tests.factories import make_monitor
from notifications import planning
from notifications.models import Delivery, Event, Notification
from notifications.tests.trigger_helpers import make_trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def user(name: str, role: str = OPERATOR, **extra: Any) -> Any:
    return get_user_model().objects.create_user(username=name, password=None, role=role, **extra)


def open_incident(title: str = "Checkout errors", **extra: Any) -> Incident:
    return services.create_incident(title=title, body="Looking into it.", now=T0, **extra)


# --- assign --------------------------------------------------------------------------


def test_assign_reassign_and_unassign_write_one_entry_each() -> None:
    alice, bob, lead = user("alice"), user("bob", ADMIN), user("lead")
    incident = open_incident()

    services.assign(incident, assignee=alice, now=T0 + MIN, actor=lead)
    incident.refresh_from_db()
    assert (incident.assignee, incident.assigned_at) == (alice, T0 + MIN)

    services.assign(incident, assignee=bob, now=T0 + 2 * MIN, actor=lead)
    services.assign(incident, assignee=None, now=T0 + 3 * MIN, actor=bob)
    incident.refresh_from_db()
    assert incident.assignee is None and incident.assigned_at is None

    entries = list(incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED))
    assert [e.message for e in entries] == [
        "assigned to alice",
        "assigned to bob (was alice)",
        "unassigned (was bob)",
    ]
    assert [e.data for e in entries] == [
        {"assignee": alice.pk, "previous": None},
        {"assignee": bob.pk, "previous": alice.pk},
        {"assignee": None, "previous": bob.pk},
    ]
    assert [e.actor for e in entries] == [lead, lead, bob]
    # Subscribers never hear about ownership.
    assert not Notification.objects.filter(incident=incident).exclude(event=Event.INCIDENT_CREATED)


def test_assigning_the_current_owner_again_writes_nothing() -> None:
    alice = user("alice")
    incident = open_incident()
    services.assign(incident, assignee=alice, now=T0, actor=alice)
    services.assign(incident, assignee=alice, now=T0 + MIN, actor=alice)
    services.assign(open_incident("other"), assignee=None, now=T0, actor=alice)
    incident.refresh_from_db()
    assert incident.assigned_at == T0  # the first assignment's time stays
    assert TimelineEntry.objects.filter(type=TimelineEntry.Type.ASSIGNED).count() == 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: user("vera", VIEWER), "vera is a viewer"),
        (lambda: user("gone", OPERATOR, is_active=False), "gone is not an active user"),
    ],
)
def test_only_active_operators_and_admins_can_be_assigned(make: Any, reason: str) -> None:
    incident = open_incident()
    with pytest.raises(IncidentError) as caught:
        services.assign(incident, assignee=make(), now=T0, actor=None)
    assert caught.value.field == "assignee" and reason in caught.value.message
    assert not incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED).exists()


def test_a_role_change_since_the_user_was_loaded_counts() -> None:
    alice = user("alice")
    get_user_model().objects.filter(pk=alice.pk).update(role=VIEWER)  # alice is stale now
    with pytest.raises(IncidentError, match="viewer"):
        services.assign(open_incident(), assignee=alice, now=T0)


def test_superusers_count_as_admins() -> None:
    root = get_user_model().objects.create_superuser(username="root", password=None)
    root.role = VIEWER
    root.save()
    incident = services.assign(open_incident(), assignee=root, now=T0)
    assert incident.assignee == root


def test_resolved_incidents_can_be_assigned_merged_ones_cannot() -> None:
    alice = user("alice")
    resolved = open_incident()
    services.resolve(resolved, note="Fixed.", classification="Resolved", now=T0 + MIN)
    assert services.assign(resolved, assignee=alice, now=T0 + 2 * MIN).assignee == alice

    source, target = open_incident("a"), open_incident("b")
    Incident.objects.filter(pk=source.pk).update(merged_into=target)
    with pytest.raises(IncidentError) as caught:
        services.assign(source, assignee=alice, now=T0)
    assert caught.value.field is None and "merged" in caught.value.message


def test_a_deleted_assignee_leaves_the_incident_unassigned() -> None:
    alice = user("alice")
    incident = services.assign(open_incident(), assignee=alice, now=T0)
    alice.delete()
    incident.refresh_from_db()
    assert incident.assignee is None


# --- escalate ------------------------------------------------------------------------


def test_raised_severity_is_a_pure_rule() -> None:
    assert services.raised_severity("WARNING", None) is None
    assert services.raised_severity("WARNING", "WARNING") is None
    assert services.raised_severity("INFO", "CRITICAL") == ("INFO", "CRITICAL")
    with pytest.raises(IncidentError, match="cannot lower"):
        services.raised_severity("CRITICAL", "INFO")
    with pytest.raises(IncidentError, match="Must be one of"):
        services.raised_severity("INFO", "BLOCKER")


def test_escalate_writes_the_entry_and_plans_exactly_the_chosen_triggers() -> None:
    alice = user("alice")
    pager, slack, unused = make_trigger(name="pager"), make_trigger(name="sre"), make_trigger()
    monitor = make_monitor(name="Checkout API", now=T0)
    incident = open_incident(severity=Severity.WARNING, monitors=[(monitor, "DOWN")])
    links.add_services(incident, [make_service("payments")], now=T0, actor=None)
    services.post_update(incident, state=State.IDENTIFIED, body="DB failover stuck.", now=T0)
    services.assign(incident, assignee=alice, now=T0)

    result = services.escalate(
        incident,
        triggers=[slack, pager],
        note="EU checkout down; need the DB on-call.",
        severity=Severity.CRITICAL,
        now=T0 + MIN,
        actor=alice,
    )

    incident.refresh_from_db()
    assert incident.severity == Severity.CRITICAL
    entry = result.entry
    assert (entry.type, entry.message, entry.actor) == (
        TimelineEntry.Type.ESCALATED,
        "EU checkout down; need the DB on-call.",
        alice,
    )
    assert entry.data == {"triggers": [slack.pk, pager.pk], "severity": ["WARNING", "CRITICAL"]}

    notification = result.notification
    assert notification.event == Event.INCIDENT_ESCALATED
    assert notification.incident == incident and notification.planned_at == T0 + MIN
    assert sorted(d.trigger_id for d in result.deliveries) == sorted([pager.pk, slack.pk])
    assert unused.deliveries.count() == 0
    assert all(d.status == "pending" and d.subscriber_id is None for d in result.deliveries)

    ctx = notification.context
    assert ctx["incident_escalated"] is True and ctx["is_triggered"] is True
    assert ctx["incident_key"] == incident.key and ctx["incident_title"] == "Checkout errors"
    assert (ctx["incident_severity"], ctx["incident_previous_severity"]) == ("CRITICAL", "WARNING")
    assert ctx["incident_state"] == "IDENTIFIED"
    assert ctx["incident_started_at"] == "2026-05-04T12:00:00Z"
    assert ctx["incident_monitors"] == "Checkout API (Down)"
    assert ctx["incident_services"] == "Payments"
    assert ctx["incident_latest_update"] == "DB failover stuck."
    assert ctx["incident_escalation_note"] == "EU checkout down; need the DB on-call."
    assert ctx["alert_message"] == ctx["incident_escalation_note"]
    assert (ctx["incident_escalated_by"], ctx["incident_assignee"]) == ("alice", "alice")
    assert ctx["incident_console_url"].endswith(f"/console/incidents/{incident.pk}/")
    assert ctx["incident_url"].endswith(f"/incidents/{incident.key}")
    assert ctx["alert_id"] == "0" and ctx["rule_id"] == "0"


def test_replanning_an_escalation_doubles_nothing() -> None:
    triggers = [make_trigger(), make_trigger()]
    result = services.escalate(open_incident(), triggers=triggers, note="help", now=T0)
    notification = result.notification
    assert planning.plan(notification.pk, T0 + MIN).planned is False  # already planned
    # A crash after the deliveries but before planned_at: the re-plan adds nothing.
    Notification.objects.filter(pk=notification.pk).update(planned_at=None, claimed_until=None)
    assert planning.plan(notification.pk, T0 + 2 * MIN).planned is True
    assert Delivery.objects.filter(notification=notification).count() == 2


def test_a_trigger_deactivated_before_planning_gets_nothing() -> None:
    keep, drop = make_trigger(), make_trigger()
    incident = open_incident()
    result = services.escalate(incident, triggers=[keep, drop], note="help", now=T0)
    drop.is_active = False
    drop.save()
    Delivery.objects.filter(notification=result.notification).delete()
    Notification.objects.filter(pk=result.notification.pk).update(planned_at=None)
    planning.plan(result.notification.pk, T0)
    assert [d.trigger_id for d in result.notification.deliveries.all()] == [keep.pk]


def test_subscribers_are_never_targets_of_an_escalation() -> None:
    from notifications.models import Subscriber

    Subscriber.objects.create(kind="email", email="public@example.com", status="confirmed")
    result = services.escalate(open_incident(), triggers=[make_trigger()], note="x", now=T0)
    assert not result.notification.deliveries.filter(subscriber__isnull=False).exists()
    assert list(planning.subscriber_targets(result.notification)) == []


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"triggers": []}, "triggers", "at least one trigger"),
        ({"note": ""}, "note", "Say why"),
        ({"note": "   \n"}, "note", "Say why"),
        ({"note": "x" * (services.MAX_NOTE + 1)}, "note", "At most"),
        ({"severity": "INFO"}, "severity", "cannot lower"),
        ({"severity": "<script>"}, "severity", "Must be one of"),
    ],
)
def test_escalation_validation(kwargs: dict[str, Any], field: str, reason: str) -> None:
    incident = open_incident()  # CRITICAL
    args: dict[str, Any] = {"triggers": [make_trigger()], "note": "help", **kwargs}
    with pytest.raises(IncidentError) as caught:
        services.escalate(incident, now=T0, actor=None, **args)
    assert caught.value.field == field and reason in caught.value.message
    assert not incident.timeline.filter(type=TimelineEntry.Type.ESCALATED).exists()
    assert not Notification.objects.filter(event=Event.INCIDENT_ESCALATED).exists()


def test_inactive_duplicate_and_deleted_triggers_are_refused() -> None:
    incident = open_incident()
    active, inactive = make_trigger(), make_trigger(name="old pager", is_active=False)
    with pytest.raises(IncidentError, match="old pager is inactive"):
        services.escalate(incident, triggers=[active, inactive], note="x", now=T0)
    with pytest.raises(IncidentError, match="more than once"):
        services.escalate(incident, triggers=[active, active], note="x", now=T0)
    ghost = make_trigger()
    ghost_id = ghost.pk
    ghost.delete()
    ghost.pk = ghost_id
    with pytest.raises(IncidentError, match="does not exist"):
        services.escalate(incident, triggers=[ghost], note="x", now=T0)
    assert not Delivery.objects.exists()


def test_resolved_and_merged_incidents_are_not_escalated() -> None:
    trigger = make_trigger()
    resolved = open_incident()
    services.resolve(resolved, note="done", classification="Resolved", now=T0)
    with pytest.raises(IncidentError) as caught:
        services.escalate(resolved, triggers=[trigger], note="x", now=T0)
    assert caught.value.field is None and "reopen" in caught.value.message
    source, target = open_incident("a"), open_incident("b")
    Incident.objects.filter(pk=source.pk).update(merged_into=target)
    with pytest.raises(IncidentError, match="merged"):
        services.escalate(source, triggers=[trigger], note="x", now=T0)


def test_a_long_note_is_whole_in_the_message_and_cut_in_the_timeline() -> None:
    note = "ünï <script>alert(1)</script> " * 150  # 4,500 characters
    result = services.escalate(
        open_incident(), triggers=[make_trigger()], note=note, now=timezone.now()
    )
    assert len(result.entry.message) == 500
    assert result.notification.context["incident_escalation_note"] == note


def test_the_same_severity_is_no_change() -> None:
    result = services.escalate(
        open_incident(), triggers=[make_trigger()], note="x", severity="CRITICAL", now=T0
    )
    assert result.entry.data["severity"] is None
    assert result.notification.context["incident_previous_severity"] == ""
