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
NAMES = KENER_ALERT + KENER_SITE + EXTRA
# Variables that are numbers or booleans: never text written by a person.
TYPED = {"alert_failure_threshold", "alert_success_threshold", "is_triggered", "is_resolved"}
# Always digits in real events (so a Kener template may leave them unquoted).
DIGITS = {"alert_id", "alert_incident_id", "rule_id"}

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
    now: datetime,
    site: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Variables of a made-up alert: for "send test", and (``hostile``) with quotes,
    backslashes, newlines, markup, braces and unicode in every text variable, to
    prove a template stays valid whatever the values hold. ``site`` defaults to
    the real site's variables."""
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
    if hostile:
        for name, value in values.items():
            if name in TYPED or name in DIGITS or (value == "" and not incident):
                continue
            values[name] = f"{value} {HOSTILE}"
    return values


def validation_samples(now: datetime) -> list[dict[str, Any]]:
    """The hostile contexts a template must render safely before it is saved:
    a triggered alert with an incident and a resolved one without."""
    return [
        sample_variables(triggered=True, incident=True, hostile=True, now=now, site=EXAMPLE_SITE),
        sample_variables(triggered=False, incident=False, hostile=True, now=now, site=EXAMPLE_SITE),
    ]
