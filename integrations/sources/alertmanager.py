"""Prometheus Alertmanager webhook receiver (``webhook_configs``), payload version 4.

Format: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
(the JSON body under "The Alertmanager will send HTTP POST requests in the
following JSON format"), and Alertmanager's ``notify/webhook/webhook.go``
``Message`` type. One request is one notification group::

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0,
     "status": "firing|resolved", "receiver": "...",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...",
     "alerts": [{"status": "firing|resolved", "labels": {...},
                 "annotations": {...}, "startsAt": "<rfc3339>",
                 "endsAt": "<rfc3339>", "generatorURL": "...",
                 "fingerprint": "<hex>"}]}

What Beacon reads, per alert: ``fingerprint`` (older Alertmanagers omit it:
then a digest of the sorted label set, which is what Alertmanager hashes
too), ``status`` (falling back to the group's), title from the ``summary``
annotation, else ``title``, else the ``alertname`` label; description from the
``description`` (or ``message``) annotation plus the ``runbook_url``;
severity from the ``severity`` label (``SEVERITY_TABLES["prometheus"]``,
"warning" when absent or unknown); service and environment from the labels
(``base.service_from_labels`` / ``environment_from_labels``); ``startsAt``;
``endsAt`` only for resolved alerts (Alertmanager puts a provisional future
``endsAt`` on firing ones, and Go's zero time means "none"); ``generatorURL``
as the link; the labels as labels.

No signature scheme: Alertmanager authenticates with ``http_config``
(``authorization`` Bearer or ``basic_auth``), which the endpoint checks.
There is no test notification. ``version`` must be "4" when present
("3" bodies have the same shape and are accepted too).

``parse_group`` and ``parse_group_alert`` are shared with Grafana, whose
unified-alerting webhook embeds the same template data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .base import (
    MAX_ALERTS,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    Source,
    environment_from_labels,
    fingerprint_of,
    first_str,
    flatten_labels,
    make_alert,
    map_severity,
    opt_list,
    opt_object,
    opt_str,
    parse_time,
    path_of,
    register,
    require_object,
    service_from_labels,
)

STATUS_VALUES = ("firing", "resolved")


def group_alerts(payload: Mapping[str, Any]) -> list[Any]:
    """The group's ``alerts`` list: required, non-empty, bounded."""
    if "alerts" not in payload or payload["alerts"] is None:
        raise PayloadError("alerts", "is required")
    alerts = opt_list(payload, "alerts", "")
    if not alerts:
        raise PayloadError("alerts", "must hold at least one alert")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError("alerts", f"holds more than {MAX_ALERTS} alerts")
    return alerts


def read_status(obj: Mapping[str, Any], path: str, default: str = "") -> str:
    value = opt_str(obj, "status", path).strip().lower() or default
    if value not in STATUS_VALUES:
        raise PayloadError(path_of(path, "status"), "must be 'firing' or 'resolved'")
    return value


def parse_group_alert(
    item: Any,
    path: str,
    *,
    source: str,
    group_status: str,
    now: datetime,
    link_keys: tuple[str, ...] = ("generatorURL",),
) -> NormalizedAlert:
    """One element of ``alerts[]`` (Alertmanager template data) as an alert."""
    alert = require_object(item, path)
    status = read_status(alert, path, group_status)
    labels = flatten_labels(alert.get("labels"), path_of(path, "labels"))
    annotations = flatten_labels(alert.get("annotations"), path_of(path, "annotations"))
    starts_at = parse_time(alert.get("startsAt"), path_of(path, "startsAt"))
    ends_at = parse_time(alert.get("endsAt"), path_of(path, "endsAt"))
    fingerprint = opt_str(alert, "fingerprint", path).strip()
    if not fingerprint:
        fingerprint = fingerprint_of(sorted(labels.items()))
    title = (
        annotations.get("summary", "").strip()
        or annotations.get("title", "").strip()
        or labels.get("alertname", "").strip()
    )
    description = (
        annotations.get("description", "").strip() or annotations.get("message", "").strip()
    )
    runbook = annotations.get("runbook_url", "").strip()
    if runbook:
        description = f"{description}\n\nRunbook: {runbook}".strip()
    if status == "resolved" and ends_at is None:
        ends_at = now
    return make_alert(
        source=source,
        fingerprint=fingerprint,
        title=title,
        description=description,
        severity=map_severity("prometheus", labels.get("severity", ""), "warning"),
        status=status,
        service=service_from_labels(labels),
        environment=environment_from_labels(labels),
        started_at=starts_at,
        ended_at=ends_at,
        link=first_str(alert, link_keys, path),
        labels=labels,
        raw=alert,
    )


def parse_group(
    payload: Mapping[str, Any],
    *,
    source: str,
    now: datetime,
    link_keys: tuple[str, ...] = ("generatorURL",),
    skip: Callable[[Mapping[str, Any]], bool] | None = None,
) -> tuple[list[NormalizedAlert], int]:
    """Every alert of a notification group, and how many ``skip`` dropped."""
    group_status = read_status(payload, "", "firing")
    # The group-level maps are not used per alert, but a wrong type there is
    # still a malformed body.
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        opt_object(payload, key, "")
    alerts: list[NormalizedAlert] = []
    skipped = 0
    for index, item in enumerate(group_alerts(payload)):
        path = f"alerts[{index}]"
        if skip is not None and skip(require_object(item, path)):
            skipped += 1
            continue
        alerts.append(
            parse_group_alert(
                item, path, source=source, group_status=group_status, now=now, link_keys=link_keys
            )
        )
    return alerts, skipped


@register
class AlertmanagerSource(Source):
    name = "alertmanager"
    label = "Prometheus Alertmanager"
    endpoint = "/api/alertmanager/alerts"
    sends_resolve = True
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        version = opt_str(payload, "version", "").strip()
        if version not in ("", "3", "4"):
            raise PayloadError("version", f"must be '4' (Alertmanager webhook), not {version!r}")
        alerts, _ = parse_group(payload, source=self.name, now=now)
        return ParseResult(alerts=alerts, deployments=[])
