"""Variables of incident and maintenance events, snapshot at event time.

``outbox`` stores what these return in ``Notification.context`` inside the
transaction of the change, so a later edit of the incident, its monitors or
the site never changes what was announced. Subscriber emails and webhooks
are rendered from this snapshot alone (plus per-subscriber links).

Shape (all JSON-safe)::

    {"site": {"name", "url"}, "event", "event_label",
     "incident": {"id", "key", "title", "state", "state_label", "severity",
                  "started_at", "started_display", "ended_at", "ended_display", "url"},
     "update": {"id", "state", "state_label", "body", "html", "created_at",
                "created_display"} | None,
     "monitors": [{"id", "name", "tag", "impact", "impact_label", "recovered"}],
     "monitor_names": "API, Web"}

and for maintenance ``"maintenance": {"id", "title", "description",
"description_html", "starts_at", "starts_display", "ends_at",
"ends_display", "recurring", "is_global", "url"}`` in place of
``incident`` / ``update``. Only public monitors are named: subscribers are
the public.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from .models import Event

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"


def site() -> dict[str, str]:
    """The site's name, public base URL (no trailing slash) and time zone.

    ``SiteSettings.public_url`` wins over ``BEACON_SITE_URL``. Read without
    creating the settings row: this runs inside other services' transactions.
    """
    from public_site.models import SiteSettings

    row = SiteSettings.objects.filter(pk=1).only("name", "public_url", "time_zone").first()
    name = (row.name if row else "") or "Beacon"
    url = ((row.public_url if row else "") or settings.SITE_URL).rstrip("/")
    zone = (row.time_zone if row else "") or "UTC"
    return {"name": name, "url": url, "time_zone": zone}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def display(at: datetime | None, zone: str) -> str:
    """``2026-03-01 14:02 UTC`` in the site's zone; empty for None."""
    if at is None:
        return ""
    local = at.astimezone(_zone(zone))
    return f"{local.strftime(DISPLAY_FORMAT)} {local.tzname() or zone}"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value.title()


def incident_url(base: str, key: str) -> str:
    """The public page of an incident."""
    return f"{base}/incidents/{key}"


def incident_variables(incident: Any, update: Any, kind: str) -> dict[str, Any]:
    """Variables for an incident event (``kind`` is one of the ``incident.*`` events)."""
    from incidents.models import Impact, State

    here = site()
    zone = here["time_zone"]
    affected = incident.affected.select_related("monitor").order_by("monitor__name", "monitor_id")
    monitors = [
        {
            "id": row.monitor_id,
            "name": row.monitor.name,
            "tag": row.monitor.tag,
            "impact": row.impact,
            "impact_label": _label(Impact, row.impact),
            "recovered": row.impact_removed_at is not None,
        }
        for row in affected
        if row.monitor.is_public
    ]
    variables: dict[str, Any] = {
        "site": {"name": here["name"], "url": here["url"]},
        "event": kind,
        "event_label": _label(Event, kind),
        "incident": {
            "id": incident.pk,
            "key": incident.key,
            "title": incident.title,
            "state": incident.state,
            "state_label": _label(State, incident.state),
            "severity": incident.severity,
            "started_at": _iso(incident.started_at),
            "started_display": display(incident.started_at, zone),
            "ended_at": _iso(incident.ended_at),
            "ended_display": display(incident.ended_at, zone),
            "url": incident_url(here["url"], incident.key),
        },
        "update": None,
        "monitors": monitors,
        "monitor_names": ", ".join(m["name"] for m in monitors),
    }
    if update is not None:
        variables["update"] = {
            "id": update.pk,
            "state": update.state,
            "state_label": _label(State, update.state),
            "body": update.body,
            "html": update.html,
            "created_at": _iso(update.created_at),
            "created_display": display(update.created_at, zone),
        }
    return variables


def maintenance_variables(window: Any, kind: str, occurrence: datetime | None) -> dict[str, Any]:
    """Variables for a maintenance event; ``occurrence`` is the start of the
    occurrence that started or ended (None when the window is scheduled)."""
    here = site()
    zone = here["time_zone"]
    duration: timedelta = window.ends_at - window.starts_at
    starts = occurrence or window.starts_at
    ends = starts + duration
    monitors = (
        []
        if window.is_global
        else [
            {"id": m.pk, "name": m.name, "tag": m.tag}
            for m in window.monitors.order_by("name", "pk")
            if m.is_public
        ]
    )
    return {
        "site": {"name": here["name"], "url": here["url"]},
        "event": kind,
        "event_label": _label(Event, kind),
        "maintenance": {
            "id": window.pk,
            "title": window.title,
            "description": window.description,
            "description_html": window.description_html,
            "starts_at": _iso(starts),
            "starts_display": display(starts, zone),
            "ends_at": _iso(ends),
            "ends_display": display(ends, zone),
            "recurring": bool(window.rrule),
            "is_global": window.is_global,
            "url": f"{here['url']}/maintenance/{window.pk}",
        },
        "monitors": monitors,
        "monitor_names": "All services"
        if window.is_global
        else ", ".join(m["name"] for m in monitors),
    }
