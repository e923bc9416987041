"""Beacon rows -> Atlassian Statuspage v2 public API objects (pure, no database).

The shapes follow the published examples of Statuspage's ``/api/v2/*.json``
(the ``/api`` documentation page every Statuspage page serves, e.g. GitHub's
and Discord's), field for field and in the same order, so existing clients
parse Beacon unchanged. How Beacon's concepts map:

- page: the home page (or the implicit page of all public monitors) with the
  site's name, public URL and time zone; ``id`` is the page slug (``home``
  for the implicit page).
- component: a public monitor; ``id`` is its tag (stable, the same tag the
  badge and embed URLs use). Group: a section, ``id`` ``section.<pk>`` (the
  dot can never appear in a tag, so the two never collide).
- incident: ``id`` is the incident key (``INC-000042``); status is the state
  in lower case (Beacon has no ``postmortem``); impact comes from
  ``incident_impact`` below; updates are newest first, ``id`` ``upd-<pk>``.
- scheduled maintenance: one object per run of a window; ``id`` ``MW-000007``
  for a one-off window, ``MW-000007-20260105T0200Z`` (run start, UTC) for a
  run of a recurring one. Beacon windows have no updates of their own, so the
  updates Statuspage posts automatically (scheduled, in progress, completed)
  are derived from the times. ``verifying`` is never used.
- times: ISO 8601 with milliseconds in the page's time zone, ``Z`` when that
  zone is UTC, as Statuspage writes them (``2019-06-24T06:07:14.463-07:00``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..machine_selectors import Component, Group, IncidentView, Occurrence, PageView

IMPLICIT_PAGE_ID = "home"
UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "Etc/UCT", "UCT"}

MAINTENANCE_BODIES = {
    "scheduled": "We will be undergoing scheduled maintenance during this time.",
    "in_progress": "Scheduled maintenance is currently in progress. "
    "We will provide updates as necessary.",
    "completed": "The scheduled maintenance has been completed.",
}

Json = dict[str, Any]


def zone(name: str) -> tzinfo:
    """The page's zone; UTC when the stored name is not a known IANA zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def iso(value: datetime | None, tz_name: str) -> str | None:
    """``2026-11-24T02:13:00.000Z`` (UTC pages) or ``...000-07:00``; ``None`` stays null."""
    if value is None:
        return None
    local = value.astimezone(zone(tz_name))
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond // 1000:03d}"
    if tz_name in UTC_NAMES or zone(tz_name) is UTC:
        return text + "Z"
    offset = local.strftime("%z")  # +HHMM
    return f"{text}{offset[:3]}:{offset[3:]}"


def incident_impact(severity: str, impacts: Iterable[str]) -> str:
    """Statuspage impact (none / minor / major / critical) of a Beacon incident.

    Statuspage blends the statuses of the affected components; Beacon has the
    declared impact of each affected monitor and the incident's severity:

    ====================================  ==========  =========
    worst declared impact                 CRITICAL    WARNING
    ====================================  ==========  =========
    a monitor DOWN                        critical    major
    a monitor DEGRADED                    major       minor
    no monitor, or only MAINTENANCE       minor       none
    ====================================  ==========  =========
    """
    values = set(impacts)
    critical = severity == "CRITICAL"
    if "DOWN" in values:
        return "critical" if critical else "major"
    if "DEGRADED" in values:
        return "major" if critical else "minor"
    return "minor" if critical else "none"


def page_id(view: PageView) -> str:
    return view.page.slug if view.page else IMPLICIT_PAGE_ID


def page_url(view: PageView, base: str) -> str:
    if view.page is None or view.home:
        return base
    return f"{base}/pages/{view.page.slug}"


def page_obj(view: PageView, base: str, updated_at: datetime) -> Json:
    tz_name = view.site.time_zone
    name = view.site.name if view.page is None or view.home else view.page.title
    return {
        "id": page_id(view),
        "name": name,
        "url": page_url(view, base),
        "time_zone": tz_name,
        "updated_at": iso(updated_at, tz_name),
    }


def status_obj(view: PageView) -> Json:
    current = view.banner
    return {"indicator": current.indicator, "description": current.description}


def group_id(group: Group) -> str:
    return f"section.{group.section.pk}"


def component_obj(
    component: Component, *, pid: str, tz_name: str, group: Group | None = None
) -> Json:
    return {
        "id": component.tag,
        "name": component.name,
        "status": component.status,
        "created_at": iso(component.created_at, tz_name),
        "updated_at": iso(component.changed_at, tz_name),
        "position": component.position,
        "description": component.description or None,
        "showcase": True,
        "start_date": component.created_at.astimezone(zone(tz_name)).date().isoformat(),
        "group_id": group_id(group) if group else None,
        "page_id": pid,
        "group": False,
        "only_show_if_degraded": False,
    }


def group_obj(group: Group, *, pid: str, tz_name: str) -> Json:
    section = group.section
    changed = [section.updated_at, *(c.changed_at for c in group.components)]
    return {
        "id": group_id(group),
        "name": section.name,
        "status": group.status,
        "created_at": iso(section.created_at, tz_name),
        "updated_at": iso(max(changed), tz_name),
        "position": group.position,
        "description": section.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": pid,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.tag for c in group.components],
    }


def components_list(view: PageView) -> list[Json]:
    """Ungrouped components, then each group followed by its components."""
    pid, tz_name = page_id(view), view.site.time_zone
    items = [component_obj(c, pid=pid, tz_name=tz_name) for c in view.ungrouped]
    for group in view.groups:
        items.append(group_obj(group, pid=pid, tz_name=tz_name))
        items.extend(
            component_obj(c, pid=pid, tz_name=tz_name, group=group) for c in group.components
        )
    return items


def incident_obj(item: IncidentView, *, pid: str, base: str, tz_name: str) -> Json:
    incident = item.incident
    key = incident.key
    resolved = incident.state == "RESOLVED"
    return {
        "id": key,
        "name": incident.title,
        "status": incident.state.lower(),
        "created_at": iso(incident.created_at, tz_name),
        "updated_at": iso(item.updated_at, tz_name),
        "monitoring_at": iso(item.monitoring_at, tz_name),
        "resolved_at": iso(incident.ended_at if resolved else None, tz_name),
        "impact": incident_impact(incident.severity, item.impacts),
        "shortlink": f"{base}/incidents/{key}",
        "started_at": iso(incident.started_at, tz_name),
        "page_id": pid,
        "incident_updates": [
            {
                "id": f"upd-{update.pk}",
                "status": update.state.lower(),
                "body": update.body,
                "incident_id": key,
                "created_at": iso(update.created_at, tz_name),
                "updated_at": iso(update.created_at, tz_name),
                "display_at": iso(update.created_at, tz_name),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for update in item.updates
        ],
        "components": [component_obj(c, pid=pid, tz_name=tz_name) for c in item.components],
    }


def maintenance_id(run: Occurrence) -> str:
    window_key = f"MW-{run.window.pk:06d}"
    if not run.recurring:
        return window_key
    return f"{window_key}-{run.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}"


def maintenance_obj(run: Occurrence, *, pid: str, base: str, tz_name: str) -> Json:
    window = run.window
    mid = maintenance_id(run)
    announced = min(window.created_at, run.starts_at)
    first = window.description.strip() or MAINTENANCE_BODIES["scheduled"]
    steps = [("scheduled", announced, first)]
    if run.status in ("in_progress", "completed"):
        steps.append(("in_progress", run.starts_at, MAINTENANCE_BODIES["in_progress"]))
    if run.status == "completed":
        steps.append(("completed", run.ends_at, MAINTENANCE_BODIES["completed"]))
    updated = max(window.updated_at, steps[-1][1])
    return {
        "id": mid,
        "name": window.title,
        "status": run.status,
        "created_at": iso(window.created_at, tz_name),
        "updated_at": iso(updated, tz_name),
        "monitoring_at": None,
        "resolved_at": iso(run.ends_at if run.status == "completed" else None, tz_name),
        "impact": "maintenance",
        "shortlink": f"{base}/maintenance/{window.pk}",
        "started_at": iso(run.starts_at, tz_name),
        "page_id": pid,
        "incident_updates": [
            {
                "id": f"{mid}-{status}",
                "status": status,
                "body": body,
                "incident_id": mid,
                "created_at": iso(at, tz_name),
                "updated_at": iso(at, tz_name),
                "display_at": iso(at, tz_name),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for status, at, body in reversed(steps)
        ],
        "components": [component_obj(c, pid=pid, tz_name=tz_name) for c in run.components],
        "scheduled_for": iso(run.starts_at, tz_name),
        "scheduled_until": iso(run.ends_at, tz_name),
    }


def page_updated_at(
    view: PageView,
    incidents: Iterable[IncidentView] = (),
    runs: Iterable[Occurrence] = (),
) -> datetime:
    """The latest change among what a response shows (Statuspage's page.updated_at)."""
    times = [view.site.updated_at]
    if view.page is not None:
        times.append(view.page.updated_at)
    times.extend(c.changed_at for c in view.components)
    times.extend(g.section.updated_at for g in view.groups)
    times.extend(i.updated_at for i in incidents)
    times.extend(r.window.updated_at for r in runs)
    return max(times)
