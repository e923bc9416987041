"""Queue health: ``/evaluation-jobs/summary`` counts checks (due, overdue, the
scheduler's last tick), correlation (uncorrelated alerts, investigations by
status and stuck ones) and deliveries by status; ``/evaluation-jobs/failed``
lists failed or stuck jobs with their last error. Read-only, operators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.tests.factories import external_alert, make_integration
from incidents import services as incident_services
from incidents.models import Incident
from monitors.models import MonitorState, SchedulerTick
from monitors.tests.factories import make_monitor
from notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db
MIN = timedelta(minutes=1)


def delivery(status: str, error: str = "", **extra) -> Delivery:
    now = timezone.now()
    notification = Notification.objects.create(event="incident.created", created_at=now)
    return Delivery.objects.create(
        notification=notification,
        channel="webhook",
        target="https://example.invalid/hook",
        status=status,
        attempts=extra.pop("attempts", 1),
        last_error=error,
        created_at=extra.pop("created_at", now),
        **extra,
    )


@pytest.fixture
def busy(db, settings):
    settings.BEACON_SCHEDULER_STALE_SECONDS = 60
    settings.BEACON_CORRELATION_RETRY_SECONDS = 60
    settings.BEACON_INVESTIGATION_STALE_SECONDS = 300
    now = timezone.now()
    on_time = make_monitor(tag="on-time")
    late = make_monitor(tag="late", name="Late one")
    make_monitor(tag="paused", is_active=False)
    MonitorState.objects.filter(monitor=on_time).update(next_check_at=now + MIN)
    MonitorState.objects.filter(monitor=late).update(next_check_at=now - 10 * MIN)
    SchedulerTick.objects.create(name="dispatch_due_checks", last_at=now - 5 * MIN)
    integration = make_integration("g", min_severity="warning")
    stuck_alert = external_alert(integration, now - 5 * MIN, title="Nobody correlated me")
    external_alert(integration, now - 5 * MIN, title="below", severity="INFO")
    external_alert(integration, now, title="too recent")
    stuck = incident_services.create_incident(title="stuck", body="x", now=now)
    Incident.objects.filter(pk=stuck.pk).update(
        investigation_status="running", investigated_at=now - 10 * MIN
    )
    incident_services.create_incident(title="fine", body="x", now=now)
    delivery("failed", "HTTP 410 Gone: webhook removed", attempts=6)
    delivery("failed", "", last_status_code=404)
    delivery("pending", created_at=now - 3 * MIN)
    delivery("retrying", "timeout")
    delivery("sent")
    return {"late": late, "stuck": stuck, "stuck_alert": stuck_alert}


def test_summary(busy, api_client_for, operator_user) -> None:
    body = api_client_for(operator_user).get("/api/v1/evaluation-jobs/summary").json()
    checks = body["checks"]
    assert checks["active_monitors"] == 2 and checks["due"] == 1 and checks["overdue"] == 1
    assert checks["scheduler_stale"] is True and checks["last_tick_age_seconds"] >= 299
    correlation = body["correlation"]
    assert correlation["uncorrelated_alerts"] == 1
    assert correlation["stuck_investigations"] == 1
    assert correlation["investigations"] == {"idle": 1, "running": 1, "done": 0}
    deliveries = body["deliveries"]
    assert {k: deliveries[k] for k in ("pending", "sent", "retrying", "failed")} == {
        "pending": 1,
        "sent": 1,
        "retrying": 1,
        "failed": 2,
    }
    assert deliveries["oldest_waiting_at"] is not None


def test_failed_lists_each_kind_with_its_last_error(busy, api_client_for, operator_user) -> None:
    client = api_client_for(operator_user)
    rows = client.get("/api/v1/evaluation-jobs/failed").json()
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    assert sorted(by_kind) == ["check", "correlation", "delivery", "investigation"]
    errors = sorted(r["last_error"] for r in by_kind["delivery"])
    assert errors == ["HTTP 404", "HTTP 410 Gone: webhook removed"]
    assert by_kind["check"][0]["id"] == "late" and "not run" in by_kind["check"][0]["last_error"]
    assert by_kind["correlation"][0]["id"] == str(busy["stuck_alert"].pk)
    assert by_kind["investigation"][0]["id"] == busy["stuck"].key
    ats = [r["at"] for r in rows]
    assert ats == sorted(ats, reverse=True)
    only = client.get("/api/v1/evaluation-jobs/failed", {"kind": "delivery", "limit": 1}).json()
    assert len(only) == 1 and only[0]["kind"] == "delivery"


def test_roles_and_hostile_parameters(busy, api_client_for, viewer_user, operator_user) -> None:
    viewer = api_client_for(viewer_user)
    assert viewer.get("/api/v1/evaluation-jobs/summary").status_code == 403
    assert viewer.get("/api/v1/evaluation-jobs/failed").status_code == 403
    client = api_client_for(operator_user)
    for params in ({"kind": "bogus"}, {"limit": 0}, {"limit": "ten"}, {"limit": 10**9}):
        r = client.get("/api/v1/evaluation-jobs/failed", params)
        assert r.status_code == 400, (params, r.content)
    assert client.post("/api/v1/evaluation-jobs/summary").status_code in (403, 405)


def test_a_quiet_system_reports_nothing_failed(db, api_client_for, operator_user) -> None:
    client = api_client_for(operator_user)
    assert client.get("/api/v1/evaluation-jobs/failed").json() == []
    body = client.get("/api/v1/evaluation-jobs/summary").json()
    assert body["checks"]["scheduler_stale"] is True  # no tick ever ran
    assert body["correlation"]["uncorrelated_alerts"] == 0
