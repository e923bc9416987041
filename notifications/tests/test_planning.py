"""Which events notify whom, and planning deliveries exactly once: the rule's
active triggers for alerts (never inactive ones, never under maintenance),
idempotent re-plans after a crash, the planner's lease, subscriber targets
from the subscribers feature (and none without it), the tick, and the alert
variables snapshot."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from alerting.models import AlertEvent
from incidents.models import MaintenanceWindow
from monitors.tests.servers import Reply, Request, serve_http
from notifications import planning, sending, trigger_services
from notifications.models import Delivery, Notification, Subscriber
from public_site.models import SiteSettings

from .trigger_helpers import MIN, T0, alerting_monitor, make_trigger, record, trigger_alert

pytestmark = pytest.mark.django_db


def test_an_alert_plans_one_delivery_per_active_trigger() -> None:
    hook = make_trigger("webhook", {"url": "https://example.test/h?token=x", "method": "PATCH"})
    slack = make_trigger("slack", {"url": "https://hooks.slack.test/services/T/B/secret"})
    off = make_trigger("discord", {"url": "https://discord.test/api/webhooks/1/t"}, is_active=False)
    monitor, _ = alerting_monitor([hook, slack, off])
    notification = trigger_alert(monitor)
    result = planning.plan(notification.pk, T0)
    assert (result.planned, result.targets, result.subscriber_targets) == (True, 2, 0)
    rows = list(Delivery.objects.order_by("id").values_list("trigger_id", "channel", "target"))
    assert rows == [
        (hook.pk, "webhook", "PATCH https://example.test/h"),
        (slack.pk, "slack", "Slack https://hooks.slack.test/••••••••"),
    ]
    notification.refresh_from_db()
    assert notification.planned_at == T0 and notification.claimed_until is None
    assert Delivery.objects.filter(status="pending", next_attempt_at=T0, attempts=0).count() == 2


def test_a_rule_without_active_triggers_writes_no_notification() -> None:
    off = make_trigger("webhook", is_active=False)
    monitor, _ = alerting_monitor([off])
    record(monitor, "DOWN", T0)
    assert not Notification.objects.filter(event__startswith="alert.").exists()
    assert Notification.objects.filter(event="incident.created").exists()  # subscribers' own


def test_maintenance_suppresses_trigger_notifications() -> None:
    hook = make_trigger("webhook")
    monitor, _ = alerting_monitor([hook])
    window = MaintenanceWindow.objects.create(
        title="DB upgrade", starts_at=T0 - MIN, ends_at=T0 + 30 * MIN
    )
    window.monitors.add(monitor)
    record(monitor, "DOWN", T0)
    assert AlertEvent.objects.get(monitor=monitor).suppressed_by_maintenance
    assert not Notification.objects.filter(event__startswith="alert.").exists()


def test_replanning_is_a_no_op_and_a_crashed_plan_is_completed_once() -> None:
    triggers = [make_trigger("webhook") for _ in range(3)]
    monitor, _ = alerting_monitor(triggers)
    notification = trigger_alert(monitor)
    # A planner died after writing one delivery: its lease expired, nothing is planned.
    Delivery.objects.create(
        notification=notification,
        trigger=triggers[0],
        channel="webhook",
        target="first",
        next_attempt_at=T0,
        created_at=T0,
    )
    Notification.objects.filter(pk=notification.pk).update(claimed_until=T0 - MIN)
    assert planning.plan(notification.pk, T0).planned
    assert planning.plan(notification.pk, T0 + MIN).planned is False
    assert Delivery.objects.filter(notification=notification).count() == 3
    assert Delivery.objects.get(trigger=triggers[0]).target == "first"  # kept, not doubled


def test_a_notification_being_planned_elsewhere_is_left_alone() -> None:
    monitor, _ = alerting_monitor([make_trigger("webhook")])
    notification = trigger_alert(monitor)
    Notification.objects.filter(pk=notification.pk).update(claimed_until=T0 + MIN)
    assert planning.plan(notification.pk, T0).planned is False
    assert not Delivery.objects.exists()
    assert planning.plan(notification.pk, T0 + 2 * MIN).planned  # the lease expired


def test_a_trigger_deactivated_after_planning_does_not_fire() -> None:
    got: list[Request] = []
    with serve_http({"/h": Reply(200, "ok")}, record=got) as base:
        hook = make_trigger("webhook", {"url": f"{base}/h"})
        monitor, _ = alerting_monitor([hook])
        notification = trigger_alert(monitor)
        planning.plan(notification.pk, T0)
        trigger_services.update_trigger(hook, {"is_active": False}, now=T0)
        sending.send_due(T0, 10)
    assert got == []
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("failed", "The trigger is inactive.")


def test_a_trigger_deleted_after_planning_fails_its_delivery() -> None:
    hook = make_trigger("webhook")
    monitor, _ = alerting_monitor([hook])
    notification = trigger_alert(monitor)
    planning.plan(notification.pk, T0)
    trigger_services.delete_trigger(hook, now=T0)
    sending.send_due(T0, 10)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("failed", "The trigger was deleted.")
    assert delivery.target.startswith("POST http://127.0.0.1:9/hook")


def test_plan_and_send_sends_the_trigger_deliveries_at_once() -> None:
    got: list[Request] = []
    with serve_http({"/h": Reply(200, "ok")}, record=got) as base:
        monitor, _ = alerting_monitor([make_trigger("webhook", {"url": f"{base}/h"})])
        notification = trigger_alert(monitor)
        planning.plan_and_send(notification.pk, T0)
    assert len(got) == 1
    assert Delivery.objects.get().status == "sent"


def test_the_tick_plans_and_sends_what_was_missed(settings) -> None:
    settings.BEACON_NOTIFY_REPLAN_AFTER_SECONDS = 5
    got: list[Request] = []
    with serve_http({"/h": Reply(200, "ok")}, record=got) as base:
        monitor, _ = alerting_monitor([make_trigger("webhook", {"url": f"{base}/h"})])
        notification = trigger_alert(monitor)  # its queue message was lost
        assert planning.tick(T0 + timedelta(seconds=4))["replanned"] == 0  # too fresh
        # The alert's notification and the incident's (for subscribers).
        assert planning.tick(T0 + timedelta(seconds=6))["replanned"] == 2
    assert len(got) == 1
    notification.refresh_from_db()
    assert notification.planned_at is not None
    assert not Notification.objects.filter(planned_at__isnull=True).exists()


def test_other_events_go_to_subscribers_from_the_subscribers_feature() -> None:
    Subscriber.objects.create(
        kind="email", email="reader@example.test", status="confirmed", all_monitors=True
    )
    notification = Notification.objects.create(event="incident.created", created_at=T0)
    result = planning.plan(notification.pk, T0)
    assert (result.targets, result.subscriber_targets) == (1, 1)
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.trigger_id) == ("subscriber_email", None)
    assert "reader@example.test" in delivery.target


def test_without_the_subscribers_feature_other_events_have_no_targets(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "notifications.audience", None)  # import fails
    Subscriber.objects.create(
        kind="email", email="reader@example.test", status="confirmed", all_monitors=True
    )
    notification = Notification.objects.create(event="incident.created", created_at=T0)
    assert planning.plan(notification.pk, T0).targets == 0
    assert not Delivery.objects.exists()


def test_alert_variables_use_the_site_settings() -> None:
    SiteSettings.objects.create(
        pk=1,
        name="Acme Status",
        public_url="https://status.acme.test/",
        logo_url="/static/logo.svg",
        color_down="#ff0000",
    )
    monitor, _ = alerting_monitor(
        [make_trigger("webhook")], name="Checkout", tag="checkout", create_incident=False
    )
    context = trigger_alert(monitor).context
    assert context["site_url"] == "https://status.acme.test"
    assert context["site_name"] == "Acme Status"
    assert context["site_logo_url"] == "https://status.acme.test/static/logo.svg"
    assert context["colors_down"] == "#ff0000"
    # No incident: the call to action is the monitor's console page.
    assert context["alert_cta_url"] == "https://status.acme.test/console/monitors/checkout/"
    assert context["alert_cta_text"] == "View monitor"
    assert context["alert_incident_id"] == context["alert_incident_url"] == ""
    assert context["alert_message"] == "Checkout STATUS: DOWN triggered after 1 failing check."


def test_resolved_alert_variables() -> None:
    monitor, rule = alerting_monitor([make_trigger("webhook")], name="Web", success=1)
    triggered = trigger_alert(monitor).context
    record(monitor, "UP", T0 + MIN)
    resolved = Notification.objects.get(event="alert.resolved").context
    assert resolved["alert_status"] == "RESOLVED" and resolved["is_resolved"] is True
    assert resolved["is_triggered"] is False
    assert resolved["alert_id"] == triggered["alert_id"] == str(rule.alerts.get().pk)
    assert resolved["alert_incident_url"] == triggered["alert_incident_url"] != ""
    assert resolved["alert_timestamp"] == "2026-05-04T12:01:00Z"
    assert resolved["alert_message"] == "Web STATUS: DOWN resolved after 1 good check."


def test_a_plan_in_several_batches_keeps_its_lease(monkeypatch) -> None:
    monkeypatch.setattr(planning, "PLAN_BATCH", 2)
    triggers = [make_trigger("webhook") for _ in range(5)]
    monitor, _ = alerting_monitor(triggers)
    notification = trigger_alert(monitor)
    result = planning.plan(notification.pk, T0)
    assert (result.planned, result.targets) == (True, 5)
    assert set(Delivery.objects.values_list("trigger_id", flat=True)) == {t.pk for t in triggers}
    notification.refresh_from_db()
    assert notification.planned_at == T0 and notification.claimed_until is None
