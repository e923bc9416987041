"""The snapshot of incident and maintenance events that mails and webhooks are
made from: its content, the site's URL and zone, and that later edits do not
change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidents import maintenance_services
from incidents import services as incidents
from monitors.tests.factories import make_monitor
from notifications.models import Event, Notification
from public_site.models import SiteSettings

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)


def test_an_incident_update_snapshot_has_what_a_mail_needs(settings) -> None:
    settings.SITE_URL = "http://fallback.example"
    SiteSettings.objects.create(
        pk=1, name="Acme", public_url="https://status.acme.example/", time_zone="Europe/Paris"
    )
    api = make_monitor(tag="api", name="Public API")
    hidden = make_monitor(tag="internal", name="Internal", is_public=False)
    incident = incidents.create_incident(
        title="Checkout <errors>",
        body="Looking",
        monitors=[(api, "DOWN"), (hidden, "DEGRADED")],
        now=T0,
    )
    update = incidents.post_update(
        incident, state="RESOLVED", body="Fixed **it**", now=T0 + timedelta(hours=1)
    )
    context = Notification.objects.get(update=update).context

    assert context["site"] == {"name": "Acme", "url": "https://status.acme.example"}
    assert context["event"] == Event.INCIDENT_RESOLVED
    assert context["event_label"] == "Incident resolved"
    assert context["incident"] == {
        "id": incident.pk,
        "key": incident.key,
        "title": "Checkout <errors>",
        "state": "RESOLVED",
        "state_label": "Resolved",
        "severity": "CRITICAL",
        "started_at": T0.isoformat(),
        "started_display": "2026-07-01 14:30 CEST",
        "ended_at": (T0 + timedelta(hours=1)).isoformat(),
        "ended_display": "2026-07-01 15:30 CEST",
        "url": f"https://status.acme.example/incidents/{incident.key}",
    }
    assert context["update"]["body"] == "Fixed **it**"
    assert context["update"]["html"] == "<p>Fixed <strong>it</strong></p>"
    assert context["monitors"] == [
        {
            "id": api.pk,
            "name": "Public API",
            "tag": "api",
            "impact": "DOWN",
            "impact_label": "Down",
            "recovered": False,
        }
    ]
    assert context["monitor_names"] == "Public API"

    # A later edit does not change what was announced.
    incidents.edit_incident(incident, {"title": "Renamed"}, now=T0 + timedelta(hours=2))
    assert Notification.objects.get(update=update).context["incident"]["title"] == (
        "Checkout <errors>"
    )


def test_without_site_settings_the_configured_url_and_utc_are_used(settings) -> None:
    settings.SITE_URL = "https://configured.example/"
    incident = incidents.create_incident(title="T", body="b", now=T0)
    context = Notification.objects.get(incident=incident).context
    assert context["site"] == {"name": "Beacon", "url": "https://configured.example"}
    assert context["incident"]["started_display"] == "2026-07-01 12:30 UTC"
    assert context["update"]["state"] == "INVESTIGATING"
    assert not SiteSettings.objects.exists()  # reading never creates the row


def test_a_maintenance_snapshot(settings) -> None:
    settings.SITE_URL = "https://s.example"
    db = make_monitor(tag="db", name="Database")
    window = maintenance_services.create_window(
        {
            "title": "DB upgrade",
            "description": "Short **pause**",
            "starts_at": T0,
            "ends_at": T0 + timedelta(minutes=45),
            "rrule": "FREQ=WEEKLY",
            "monitors": [db],
        },
        now=T0 - timedelta(days=1),
    )
    context = Notification.objects.get(maintenance=window).context
    assert context["event"] == Event.MAINTENANCE_SCHEDULED
    assert context["maintenance"]["title"] == "DB upgrade"
    assert context["maintenance"]["description_html"] == "<p>Short <strong>pause</strong></p>"
    assert context["maintenance"]["starts_display"] == "2026-07-01 12:30 UTC"
    assert context["maintenance"]["ends_display"] == "2026-07-01 13:15 UTC"
    assert context["maintenance"]["recurring"] is True
    assert context["maintenance"]["url"] == f"https://s.example/maintenance/{window.pk}"
    assert context["monitor_names"] == "Database"
    assert [m["tag"] for m in context["monitors"]] == ["db"]
