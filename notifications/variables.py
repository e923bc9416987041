"""Template variables of alert events (the Kener set), snapshot at event time.

``outbox.alert_event`` stores ``alert_variables(event)`` in
``Notification.context`` inside the alert's transaction, so a later rename of
the monitor or the site never changes what was announced. Every trigger
template renders from that snapshot alone.

The variables (types as Kener has them: text, whole numbers, booleans):

=========================== ==============================================================
``alert_id``                the alert's id (text of digits)
``alert_name``              ``{monitor name} {KIND}: {value}``, the incident title format
``alert_for``               the rule kind: ``STATUS``, ``LATENCY`` or ``UPTIME``
``alert_value``             the rule value: ``DOWN``, ``1000`` (ms), ``99.9`` (%)
``alert_status``            ``TRIGGERED`` or ``RESOLVED``
``alert_severity``          ``CRITICAL`` or ``WARNING``
``alert_message``           the rule's description, else a sentence saying what happened
``alert_source``            ``ALERT`` (raised by a Beacon alert rule)
``alert_timestamp``         when it happened, ISO 8601 UTC (``2026-03-01T14:02:03Z``)
``alert_cta_url``           the public incident page, else the monitor's console page
``alert_cta_text``          ``View incident`` or ``View monitor``
``alert_incident_id``       the incident's id, empty when the rule opens none
``alert_incident_url``      the public incident page, empty when there is none
``alert_failure_threshold`` failing checks that trigger (number)
``alert_success_threshold`` good checks that resolve (number)
``is_triggered``            true for TRIGGERED
``is_resolved``             true for RESOLVED
``site_url``                ``SiteSettings.public_url``, else ``BEACON_SITE_URL`` (no final /)
``site_name``               the site's name
``site_logo_url``           the logo's URL (made absolute)
``colors_up`` ...           ``colors_up``, ``colors_down``, ``colors_degraded``,
                            ``colors_maintenance``: the site's status colours (``#16a34a``)
=========================== ==============================================================

and, beyond Kener: ``monitor_name``, ``monitor_tag``, ``rule_id``,
``incident_key`` (``INC-000042``), ``incident_title``, ``incident_state``
(empty without an incident).

Escalations (``incident.escalated``, ``escalation_variables``) carry the
same names, so any trigger template renders them (``is_triggered`` is true:
an escalation asks for attention; ``alert_status`` is ``ESCALATED``,
``alert_id`` and ``rule_id`` are ``0``, ``alert_message`` is the note), plus
what someone new needs to ramp up:

============================== =========================================================
``incident_escalated``         true only for escalations (the default templates switch on it)
``incident_id``                the incident's id (digits)
``incident_severity``          ``CRITICAL``, ``WARNING`` or ``INFO`` (after any raise)
``incident_previous_severity`` the severity before the escalation raised it, else empty
``incident_started_at``        when the incident started, ISO 8601 UTC
``incident_monitors``          affected monitors with impact: ``API (Down), Web (Degraded)``
``incident_services``          affected services: ``Checkout, Payments``
``incident_latest_update``     the latest update's Markdown (first 1,000 characters)
``incident_assignee``          the owner's username, else empty
``incident_url``               the public incident page
``incident_console_url``       the incident's console page
``incident_escalation_note``   the operator's note (whole)
``incident_escalated_by``      who escalated (username), else ``Beacon``
``incident_escalated_at``      when, ISO 8601 UTC
============================== =========================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

KENER_ALERT = (
    "alert_id",
    "alert_name",
    "alert_for",
    "alert_value",
    "alert_status",
    "alert_severity",
    "alert_message",
    "alert_source",
    "alert_timestamp",
    "alert_cta_url",
    "alert_cta_text",
    "alert_incident_id",
    "alert_incident_url",
    "alert_failure_threshold",
    "alert_success_threshold",
    "is_triggered",
    "is_resolved",
)
KENER_SITE = (
    "site_url",
    "site_name",
    "site_logo_url",
    "colors_up",
    "colors_down",
    "colors_degraded",
    "colors_maintenance",
)
EXTRA = (
    "monitor_name",
    "monitor_tag",
    "rule_id",
    "incident_key",
    "incident_title",
    "incident_state",
)
ESCALATION = (
    "incident_escalated",
    "incident_id",
    "incident_severity",
    "incident_previous_severity",
    "incident_started_at",
    "incident_monitors",
    "incident_services",
    "incident_latest_update",
    "incident_assignee",
    "incident_url",
    "incident_console_url",
    "incident_escalation_note",
    "incident_escalated_by",
    "incident_escalated_at",
)
NAMES = KENER_ALERT + KENER_SITE + EXTRA + ESCALATION
# Variables that are numbers or booleans: never text written by a person.
TYPED = {
    "alert_failure_threshold",
    "alert_success_threshold",
    "is_triggered",
    "is_resolved",
    "incident_escalated",
}
# Always digits in real events (so a Kener template may leave them unquoted).
DIGITS = {"alert_id", "alert_incident_id", "rule_id", "incident_id"}
LATEST_UPDATE_CHARS = 1000

_COLOURS = {"up": "#16a34a", "down": "#dc2626", "degraded": "#d97706", "maintenance": "#2563eb"}


def iso(at: datetime) -> str:
    """``2026-03-01T14:02:03Z`` (UTC, seconds precision)."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def site_variables() -> dict[str, str]:
    """The ``site_*`` and ``colors_*`` variables, read without creating the
    settings row (this runs inside other services' transactions)."""
    from public_site.models import SiteSettings

    row = SiteSettings.objects.filter(pk=1).first()
    url = ((row.public_url if row else "") or settings.SITE_URL).rstrip("/")
    logo = row.logo_url if row else ""
    if logo.startswith("/"):
        logo = url + logo
    return {
        "site_url": url,
        "site_name": (row.name if row else "") or "Beacon",
        "site_logo_url": logo,
        "colors_up": row.color_up if row else _COLOURS["up"],
        "colors_down": row.color_down if row else _COLOURS["down"],
        "colors_degraded": row.color_degraded if row else _COLOURS["degraded"],
        "colors_maintenance": row.color_maintenance if row else _COLOURS["maintenance"],
    }


def _message(name: str, status: str, failure: int, success: int) -> str:
    if status == "TRIGGERED":
        return f"{name} triggered after {failure} failing check{'s' if failure != 1 else ''}."
    return f"{name} resolved after {success} good check{'s' if success != 1 else ''}."


def alert_variables(event: Any) -> dict[str, Any]:
    """The variables of an alert event (an ``alerting.models.AlertEvent`` of a rule)."""
    rule, monitor, incident = event.rule, event.monitor, event.incident
    site = site_variables()
    monitor_name = monitor.name if monitor is not None else ""
    monitor_tag = monitor.tag if monitor is not None else ""
    name = f"{monitor_name} {rule.kind}: {rule.value}".strip()
    incident_url = f"{site['site_url']}/incidents/{incident.key}" if incident is not None else ""
    monitor_url = f"{site['site_url']}/console/monitors/{monitor_tag}/" if monitor_tag else ""
    status = str(event.status)
    return {
        "alert_id": str(event.alert_id),
        "alert_name": name,
        "alert_for": rule.kind,
        "alert_value": rule.value,
        "alert_status": status,
        "alert_severity": rule.severity,
        "alert_message": event.message
        or rule.description
        or _message(name, status, rule.failure_threshold, rule.success_threshold),
        "alert_source": "ALERT",
        "alert_timestamp": iso(event.at),
        "alert_cta_url": incident_url or monitor_url or site["site_url"],
        "alert_cta_text": "View incident" if incident is not None else "View monitor",
        "alert_incident_id": str(incident.pk) if incident is not None else "",
        "alert_incident_url": incident_url,
        "alert_failure_threshold": rule.failure_threshold,
        "alert_success_threshold": rule.success_threshold,
        "is_triggered": status == "TRIGGERED",
        "is_resolved": status == "RESOLVED",
        **site,
        "monitor_name": monitor_name,
        "monitor_tag": monitor_tag,
        "rule_id": str(rule.pk),
        "incident_key": incident.key if incident is not None else "",
        "incident_title": incident.title if incident is not None else "",
        "incident_state": incident.state if incident is not None else "",
    }


def _latest_update(body: str) -> str:
    if len(body) <= LATEST_UPDATE_CHARS:
        return body
    return body[: LATEST_UPDATE_CHARS - 1] + "…"


def escalation_variables(entry: Any, *, note: str) -> dict[str, Any]:
    """The variables of an ``Escalated`` timeline entry (see the module
    docstring): the Kener names filled so any template renders, and the
    ``incident_*`` facts someone new needs. Monitors are all named, public or
    not: an escalation goes to the team, not to the public."""
    from django.urls import reverse

    from incidents.models import Impact

    incident = entry.incident
    site = site_variables()
    base = site["site_url"]
    data = entry.data or {}
    severity_change = data.get("severity") or None
    affected = incident.affected.select_related("monitor").order_by("monitor__name", "monitor_id")
    impacts = dict(Impact.choices)
    monitors = ", ".join(
        f"{row.monitor.name} ({impacts.get(row.impact, row.impact)}"
        + (", recovered)" if row.impact_removed_at else ")")
        for row in affected
    )
    services = ", ".join(
        link.service.name
        for link in incident.service_links.select_related("service").order_by("added_at", "pk")
    )
    update = incident.updates.order_by("-created_at", "-id").first()
    actor = entry.actor
    by = actor.get_username() if actor is not None else "Beacon"
    public_url = f"{base}/incidents/{incident.key}"
    console_url = base + reverse("incidents:detail", args=[incident.pk])
    title = f"{incident.key} {incident.title}"
    return {
        "alert_id": "0",
        "alert_name": title,
        "alert_for": "ESCALATION",
        "alert_value": incident.severity,
        "alert_status": "ESCALATED",
        "alert_severity": incident.severity,
        "alert_message": note,
        "alert_source": "ESCALATION",
        "alert_timestamp": iso(entry.at),
        "alert_cta_url": console_url,
        "alert_cta_text": "Open incident",
        "alert_incident_id": str(incident.pk),
        "alert_incident_url": public_url,
        "alert_failure_threshold": 0,
        "alert_success_threshold": 0,
        "is_triggered": True,
        "is_resolved": False,
        **site,
        "monitor_name": "",
        "monitor_tag": "",
        "rule_id": "0",
        "incident_key": incident.key,
        "incident_title": incident.title,
        "incident_state": incident.state,
        "incident_escalated": True,
        "incident_id": str(incident.pk),
        "incident_severity": incident.severity,
        "incident_previous_severity": severity_change[0] if severity_change else "",
        "incident_started_at": iso(incident.started_at),
        "incident_monitors": monitors,
        "incident_services": services,
        "incident_latest_update": _latest_update(update.body) if update is not None else "",
        "incident_assignee": incident.assignee.get_username() if incident.assignee_id else "",
        "incident_url": public_url,
        "incident_console_url": console_url,
        "incident_escalation_note": note,
        "incident_escalated_by": by,
        "incident_escalated_at": iso(entry.at),
    }


HOSTILE = 'Say "hi" \\ it\'s\n<b>bold</b> </script><script>alert(1)</script> & {{x}} ünï 🚨\u2028'


EXAMPLE_SITE = {
    "site_url": "https://status.example.com",
    "site_name": "Example",
    "site_logo_url": "https://status.example.com/logo.png",
    **{f"colors_{name}": colour for name, colour in _COLOURS.items()},
}


def sample_variables(
    *,
    triggered: bool = True,
    incident: bool = True,
    hostile: bool = False,
    escalated: bool = False,
    now: datetime,
    site: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Variables of a made-up alert (or, ``escalated``, a made-up escalation):
    for "send test", and (``hostile``) with quotes, backslashes, newlines,
    markup, braces and unicode in every text variable, to prove a template
    stays valid whatever the values hold. ``site`` defaults to the real
    site's variables."""
    site = site if site is not None else site_variables()
    status = "TRIGGERED" if triggered else "RESOLVED"
    incident_url = f"{site['site_url']}/incidents/INC-000042" if incident else ""
    values: dict[str, Any] = {
        "alert_id": "0",
        "alert_name": "Example API STATUS: DOWN",
        "alert_for": "STATUS",
        "alert_value": "DOWN",
        "alert_status": status,
        "alert_severity": "CRITICAL",
        "alert_message": "This is a test notification sent from Beacon.",
        "alert_source": "ALERT",
        "alert_timestamp": iso(now),
        "alert_cta_url": incident_url or f"{site['site_url']}/console/monitors/example-api/",
        "alert_cta_text": "View incident" if incident else "View monitor",
        "alert_incident_id": "42" if incident else "",
        "alert_incident_url": incident_url,
        "alert_failure_threshold": 3,
        "alert_success_threshold": 2,
        "is_triggered": triggered,
        "is_resolved": not triggered,
        **site,
        "monitor_name": "Example API",
        "monitor_tag": "example-api",
        "rule_id": "0",
        "incident_key": "INC-000042" if incident else "",
        "incident_title": "Example API STATUS: DOWN" if incident else "",
        "incident_state": "INVESTIGATING" if incident else "",
    }
    if escalated:
        console_url = f"{site['site_url']}/console/incidents/42/"
        values.update(
            {
                "alert_id": "0",
                "alert_name": "INC-000042 Example API STATUS: DOWN",
                "alert_for": "ESCALATION",
                "alert_value": "CRITICAL",
                "alert_status": "ESCALATED",
                "alert_message": "Checkout is failing for EU customers; need the DB on-call.",
                "alert_source": "ESCALATION",
                "alert_cta_url": console_url,
                "alert_cta_text": "Open incident",
                "alert_failure_threshold": 0,
                "alert_success_threshold": 0,
                "is_triggered": True,
                "is_resolved": False,
                "monitor_name": "",
                "monitor_tag": "",
                "rule_id": "0",
                "incident_escalated": True,
                "incident_id": "42",
                "incident_severity": "CRITICAL",
                "incident_previous_severity": "WARNING",
                "incident_started_at": iso(now),
                "incident_monitors": "Example API (Down)",
                "incident_services": "Checkout",
                "incident_latest_update": "Investigating elevated errors.",
                "incident_assignee": "alice",
                "incident_url": f"{site['site_url']}/incidents/INC-000042",
                "incident_console_url": console_url,
                "incident_escalation_note": "Checkout is failing for EU customers; "
                "need the DB on-call.",
                "incident_escalated_by": "alice",
                "incident_escalated_at": iso(now),
            }
        )
    if hostile:
        for name, value in values.items():
            if name in TYPED or name in DIGITS or (value == "" and not incident):
                continue
            values[name] = f"{value} {HOSTILE}"
    return values


def validation_samples(now: datetime) -> list[dict[str, Any]]:
    """The hostile contexts a template must render safely before it is saved:
    a triggered alert with an incident, a resolved one without, and an
    escalation (every trigger may be chosen for one)."""
    return [
        sample_variables(triggered=True, incident=True, hostile=True, now=now, site=EXAMPLE_SITE),
        sample_variables(triggered=False, incident=False, hostile=True, now=now, site=EXAMPLE_SITE),
        sample_variables(escalated=True, hostile=True, now=now, site=EXAMPLE_SITE),
    ]
