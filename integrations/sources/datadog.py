"""Datadog Webhooks integration (monitor notifications ``@webhook-<name>``).

Format: https://docs.datadoghq.com/integrations/webhooks/ ("Usage" and
"Variables"). With an empty *Payload* field Datadog posts its default body::

    {"id": "$ID", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE",
     "title": "$EVENT_TITLE", "date": "$DATE",
     "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "body": "$EVENT_MSG"}

``$EVENT_TITLE`` looks like ``[Triggered on {host:web-1}] Host is down`` or
``[P2] [Recovered] CPU high``; ``$DATE`` and ``$LAST_UPDATED`` are epoch
milliseconds. A custom payload (``docs/integrations.md`` gives the one to
paste) adds ``alert_id`` ($ALERT_ID), ``alert_transition``
($ALERT_TRANSITION: Triggered/Re-Triggered, Recovered, Warn/Re-Warn,
No Data/Re-No Data, Renotify), ``alert_type`` ($ALERT_TYPE: error, warning,
info, success), ``alert_priority`` ($ALERT_PRIORITY: P1..P5), ``alert_title``,
``alert_status``, ``alert_scope``, ``alert_metric``, ``alert_query``,
``alert_cycle_key``, ``aggreg_key`` ($AGGREG_KEY), ``hostname``, ``tags``
($TAGS, comma-separated ``key:value``) and ``link`` ($LINK). Placeholders
Datadog leaves unfilled (``"$ALERT_ID"``) count as absent.

What Beacon reads:

* transition: ``alert_transition``, else the ``[...]`` prefix of the title;
  "Recovered" (or ``alert_type`` success) is resolved, anything else firing;
* severity: Warn and No Data are warning; otherwise ``alert_priority``
  (``SEVERITY_TABLES["datadog_priority"]``), else ``alert_type``
  (``["datadog_alert_type"]``), else critical;
* fingerprint: ``aggreg_key``, else ``alert_id`` with the scope, else a digest
  of the title without its transition/priority prefix (so the Recovered
  notification of the default body closes the Triggered one);
* title: the title without the prefix, "on <scope>" appended for multi-alerts;
  description: ``body`` without Datadog's ``%%%`` markers, plus
  ``alert_status``; time: ``date`` (``last_updated`` as fallback);
* labels: ``tags`` and the scope (``key:value`` pairs), plus alert_id,
  metric, priority, transition, host and org; service and environment from
  the ``service:`` and ``env:`` tags;
* delivery id: ``id`` (``$ID``, one per notification).

Datadog's default body is sent on every transition but Beacon cannot rely on
monitors being set to notify on recovery, so ``sends_resolve`` is False:
alerts also close after the integration's quiet period. No signature scheme:
authenticate with the token in the URL or a custom ``Authorization`` header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import (
    ParseResult,
    PayloadError,
    Source,
    environment_from_labels,
    fingerprint_of,
    make_alert,
    map_severity,
    merge_labels,
    opt_object,
    opt_str,
    parse_tags,
    parse_time,
    register,
    service_from_labels,
    unresolved,
)

_PRIORITY_PREFIX = re.compile(r"^\s*\[(P[1-5])\]\s*", re.IGNORECASE)
_TRANSITION_PREFIX = re.compile(
    r"^\s*\[((?:Re-)?(?:Triggered|Recovered|Warn|No Data)|Renotify)(?: on \{([^}]*)\})?\]\s*",
    re.IGNORECASE,
)


def split_title(title: str) -> tuple[str, str, str, str]:
    """``(title, transition, scope, priority)`` from a Datadog event title."""
    priority = transition = scope = ""
    for _ in range(3):  # the prefixes come in either order, each at most once
        match = _PRIORITY_PREFIX.match(title)
        if match and not priority:
            priority = match.group(1).upper()
            title = title[match.end() :]
            continue
        match = _TRANSITION_PREFIX.match(title)
        if match and not transition:
            transition, scope = match.group(1), match.group(2) or ""
            title = title[match.end() :]
            continue
        break
    return title.strip(), transition, scope.strip(), priority


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = opt_str(payload, key, "").strip()
    return "" if unresolved(value) else value


def _strip_markers(body: str) -> str:
    return "\n".join(line for line in body.splitlines() if line.strip() != "%%%").strip()


@register
class DatadogSource(Source):
    name = "datadog"
    label = "Datadog"
    endpoint = "/api/datadog/webhook"
    sends_resolve = False
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        org = opt_object(payload, "org", "")
        event_title = _text(payload, "title")
        alert_title = _text(payload, "alert_title")
        title, title_transition, scope, title_priority = split_title(alert_title or event_title)
        alert_id = _text(payload, "alert_id")
        aggreg_key = _text(payload, "aggreg_key")
        if not (title or alert_id or aggreg_key):
            raise PayloadError("title", "is required (the default body's $EVENT_TITLE)")

        transition = _text(payload, "alert_transition") or title_transition
        alert_type = _text(payload, "alert_type").lower()
        priority = _text(payload, "alert_priority") or title_priority
        scope = _text(payload, "alert_scope") or scope
        lowered = transition.lower()
        resolved = "recover" in lowered or (not transition and alert_type == "success")
        if "warn" in lowered or "no data" in lowered:
            severity = "warning"
        else:
            severity = (
                map_severity("datadog_priority", priority)
                or map_severity("datadog_alert_type", alert_type)
                or "critical"
            )

        raw_tags = payload.get("tags")
        if isinstance(raw_tags, str) and unresolved(raw_tags):
            raw_tags = None
        tag_labels = parse_tags(raw_tags, "tags")
        scope_labels = parse_tags(scope, "alert_scope") if scope else {}
        host = _text(payload, "hostname") or _text(payload, "host_name")
        extra = {
            key: value
            for key, value in (
                ("alert_id", alert_id),
                ("metric", _text(payload, "alert_metric")),
                ("priority", priority),
                ("transition", transition),
                ("scope", scope),
                ("host", host),
                ("org", opt_str(org, "name", "org").strip()),
                ("event_type", _text(payload, "event_type")),
            )
            if value
        }
        labels = merge_labels(tag_labels, scope_labels, extra)

        if aggreg_key:
            fingerprint = f"aggreg:{aggreg_key}"
        elif alert_id:
            fingerprint = f"monitor:{alert_id}:{scope}"
        else:
            fingerprint = fingerprint_of("title", title, scope)

        occurred = parse_time(payload.get("date"), "date", lenient=True) or parse_time(
            payload.get("last_updated"), "last_updated", lenient=True
        )
        description = _strip_markers(_text(payload, "body"))
        status_text = _text(payload, "alert_status")
        if status_text and status_text not in description:
            description = f"{description}\n\n{status_text}".strip()
        display = title or f"Datadog monitor {alert_id or aggreg_key}"
        if scope and scope not in display:
            display = f"{display} on {scope}"
        alert = make_alert(
            source=self.name,
            fingerprint=fingerprint,
            title=display,
            description=description,
            severity=severity,
            status="resolved" if resolved else "firing",
            service=service_from_labels(labels),
            environment=environment_from_labels(labels),
            started_at=None if resolved else occurred,
            ended_at=(occurred or now) if resolved else None,
            link=_text(payload, "link") or _text(payload, "url"),
            labels=labels,
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[], delivery_id=_text(payload, "id"))
