"""BigPanda "Notifications Webhook" (incident sharing to a callback URL).

Format: https://docs.bigpanda.io/reference/webhook-incident-object and
https://docs.bigpanda.io/reference/alert-object. BigPanda posts the Incident
object with its Alert objects expanded when an incident is shared and on
every sharing update::

    {"id": "5c2f...", "status": "critical|warning|unknown|ok", "active": true,
     "severity": "critical", "flapping": false, "start": 1541440380,
     "last_change": 1541440500, "end": null,
     "incident_tags": [{"tag_id": "service", "tag_value": "checkout"}],
     "alerts": [{"id": "...", "status": "critical", "active": true,
                 "primary_property": "host", "secondary_property": "check",
                 "source_system": "nagios.nagios_east",
                 "description": "CRITICAL - Host Unreachable",
                 "tags": [{"name": "host", "value": "db-1"}, ...], ...}]}

Bodies wrapped as ``{"incident": {...}}`` and the Incidents API field names
(``startedOn``/``endedOn``/``changedOn``, ``resolved``) are accepted too.

What Beacon reads: one alert per BigPanda incident (already correlated),
fingerprint the incident ``id``. Resolved when ``active`` is false,
``resolved`` is true or ``status`` is ``ok``; firing otherwise. Severity from
``severity`` (else ``status``): critical, warning, unknown -> warning,
ok -> info (``SEVERITY_TABLES["bigpanda"]``). Title: the first alert's
``description``, else its ``condition_name``, else its primary and secondary
property values. Description: one line per alert (source system,
description, status). Labels: the incident tags then the first alert's
tags, plus the alert count and source systems; service and environment from
those labels. Start ``start``, end ``end``.

No signature: BigPanda sends the token as a custom ``Authorization`` header
(Bearer), set on the webhook integration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import (
    ParseResult,
    PayloadError,
    Source,
    environment_from_labels,
    first_str,
    make_alert,
    map_severity,
    merge_labels,
    opt_bool,
    opt_list,
    opt_str,
    parse_tags,
    parse_time,
    register,
    require_object,
    scalar_text,
    service_from_labels,
)


def _first(obj: Mapping[str, Any], keys: tuple[str, ...], path: str) -> datetime | None:
    for key in keys:
        value = parse_time(obj.get(key), f"{path}{key}")
        if value is not None:
            return value
    return None


def _property_value(alert: Mapping[str, Any], tags: Mapping[str, str], key: str, path: str) -> str:
    name = opt_str(alert, key, path).strip()
    if not name:
        return ""
    if tags.get(name):
        return tags[name].strip()
    value = alert.get(name)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return scalar_text(value, f"{path}.{name}").strip()
    return ""


@register
class BigPandaSource(Source):
    name = "bigpanda"
    label = "BigPanda"
    endpoint = "/api/bigpanda/webhook"
    sends_resolve = True
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        prefix = ""
        incident = payload
        if isinstance(payload.get("incident"), Mapping) or "incident" in payload:
            incident = require_object(payload.get("incident"), "incident")
            prefix = "incident."
        incident_id = opt_str(incident, "id", prefix.rstrip(".")).strip()
        if not incident_id:
            raise PayloadError(f"{prefix}id", "is required")
        path = prefix.rstrip(".")
        status = opt_str(incident, "status", path).strip().lower()
        active = opt_bool(incident, "active", path)
        resolved_flag = opt_bool(incident, "resolved", path)
        resolved = active is False or resolved_flag is True or status == "ok"

        alerts = opt_list(incident, "alerts", path)
        incident_tags = parse_tags(incident.get("incident_tags"), f"{prefix}incident_tags")
        first_tags: dict[str, str] = {}
        lines: list[str] = []
        sources: list[str] = []
        title = ""
        for index, item in enumerate(alerts):
            alert_path = f"{prefix}alerts[{index}]"
            alert = require_object(item, alert_path)
            tags = parse_tags(alert.get("tags"), f"{alert_path}.tags")
            description = first_str(alert, ("description", "condition_name"), alert_path)
            source_system = opt_str(alert, "source_system", alert_path).strip()
            if index == 0:
                first_tags = tags
                primary = _property_value(alert, tags, "primary_property", alert_path)
                secondary = _property_value(alert, tags, "secondary_property", alert_path)
                title = description or ":".join(part for part in (primary, secondary) if part)
            if source_system and source_system not in sources:
                sources.append(source_system)
            if index < 50:
                state = opt_str(alert, "status", alert_path).strip()
                lines.append(
                    "- "
                    + " ".join(
                        part
                        for part in (
                            f"[{source_system}]" if source_system else "",
                            description or "(no description)",
                            f"({state})" if state else "",
                        )
                        if part
                    )
                )
        extra = {"alert_count": str(len(alerts))}
        if sources:
            extra["source_systems"] = ", ".join(sources)
        if status:
            extra["status"] = status
        labels = merge_labels(first_tags, incident_tags, extra)
        severity_text = opt_str(incident, "severity", path) or status
        alert = make_alert(
            source=self.name,
            fingerprint=incident_id,
            title=title or f"BigPanda incident {incident_id}",
            description="\n".join(lines),
            severity=map_severity("bigpanda", severity_text, "warning"),
            status="resolved" if resolved else "firing",
            service=service_from_labels(labels),
            environment=environment_from_labels(labels),
            started_at=_first(incident, ("start", "startedOn"), prefix),
            ended_at=(_first(incident, ("end", "endedOn"), prefix) or now) if resolved else None,
            link=first_str(incident, ("incident_url", "url", "link"), path),
            labels=labels,
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[])
