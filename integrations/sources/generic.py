"""Generic alerts in Beacon's own normalised shape (``/api/generic/alerts``).

Format: the alert blueprint of Port's incident-lifecycle guide
(``title``, ``description``, ``severity``, ``status``, ``source``,
``externalId``, ``startedAt``, ``endedAt``, ``rawPayload``; required:
title, severity, status, source, externalId, startedAt), plus ``service``,
``environment``, ``link`` and ``labels``. For scripts and tools without a
dedicated source. The body is one alert object, a list of them, or
``{"alerts": [...]}``::

    {"externalId": "disk-db-1", "title": "Disk almost full on db-1",
     "description": "92% used", "severity": "warning", "status": "open",
     "source": "cron-check", "startedAt": "2025-05-01T10:00:00Z",
     "service": "billing", "environment": "production",
     "link": "https://grafana.example.com/d/disk", "labels": {"host": "db-1"}}

This is Beacon's own contract, so it is strict: ``severity`` must be one of
critical/warning/info (or a common synonym: high, error, medium, low...,
``SEVERITY_TABLES["prometheus"]``); ``status`` one of open, firing,
triggered, active, acknowledged (firing) or resolved, closed, ok (resolved);
times RFC 3339 or epoch seconds/milliseconds. ``externalId`` is the
fingerprint; ``source`` becomes the ``source`` label. No signature: token in
the URL or ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import (
    MAX_ALERTS,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    Source,
    first_str,
    flatten_labels,
    make_alert,
    map_severity,
    merge_labels,
    opt_object,
    opt_str,
    parse_time,
    path_of,
    register,
    require_object,
)

FIRING = ("open", "firing", "triggered", "active", "acknowledged", "investigating", "problem")
RESOLVED = ("resolved", "closed", "ok", "inactive", "recovered")
REQUIRED = ("title", "severity", "status", "source", "externalId", "startedAt")


def _required_text(item: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_str(item, key, path).strip()
    if not value:
        raise PayloadError(path_of(path, key), "is required")
    return value


def parse_item(item: Any, path: str, now: datetime) -> NormalizedAlert:
    alert = require_object(item, path or "body")
    for key in REQUIRED:
        if alert.get(key) in (None, ""):
            raise PayloadError(path_of(path, key), "is required")
    status_text = _required_text(alert, "status", path).lower()
    if status_text in FIRING:
        status = "firing"
    elif status_text in RESOLVED:
        status = "resolved"
    else:
        raise PayloadError(path_of(path, "status"), "must be 'open'/'firing' or 'resolved'")
    severity = map_severity("prometheus", _required_text(alert, "severity", path))
    if not severity:
        raise PayloadError(path_of(path, "severity"), "must be 'critical', 'warning' or 'info'")
    started = parse_time(alert.get("startedAt"), path_of(path, "startedAt"))
    if started is None:
        raise PayloadError(path_of(path, "startedAt"), "is required")
    ended = parse_time(alert.get("endedAt"), path_of(path, "endedAt"))
    opt_object(alert, "rawPayload", path)  # must be an object when given
    labels = merge_labels(
        flatten_labels(alert.get("labels"), path_of(path, "labels")),
        {"source": _required_text(alert, "source", path)},
    )
    return make_alert(
        source=GenericSource.name,
        fingerprint=_required_text(alert, "externalId", path),
        title=_required_text(alert, "title", path),
        description=opt_str(alert, "description", path),
        severity=severity,
        status=status,
        service=opt_str(alert, "service", path),
        environment=opt_str(alert, "environment", path),
        started_at=started,
        ended_at=(ended or now) if status == "resolved" else None,
        link=first_str(alert, ("link", "url"), path),
        labels=labels,
        raw=alert,
    )


@register
class GenericSource(Source):
    name = "generic"
    label = "Generic (normalised alert JSON)"
    endpoint = "/api/generic/alerts"
    sends_resolve = True
    signs = False
    accepts_list = True

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        if isinstance(payload, list):
            items, prefix = payload, ""
        elif isinstance(payload, Mapping) and "alerts" in payload:
            items, prefix = payload["alerts"], "alerts"
            if not isinstance(items, list):
                raise PayloadError("alerts", "must be a list")
        else:
            return ParseResult(alerts=[parse_item(payload, "", now)], deployments=[])
        if not items:
            raise PayloadError(prefix or "body", "must hold at least one alert")
        if len(items) > MAX_ALERTS:
            raise PayloadError(prefix or "body", f"holds more than {MAX_ALERTS} alerts")
        alerts = [parse_item(item, f"{prefix}[{index}]", now) for index, item in enumerate(items)]
        return ParseResult(alerts=alerts, deployments=[])
