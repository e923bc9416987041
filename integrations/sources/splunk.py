"""Splunk "Webhook" alert action (Splunk Enterprise / Splunk Cloud Platform).

Format: https://help.splunk.com/splunk-enterprise/alert-and-respond/alerting-manual/10.0/configure-alert-actions/use-a-webhook-alert-action
("Webhook data payload")::

    {"result": {"sourcetype": "mongod", "count": "8", ...},   # first result row
     "sid": "scheduler_admin_search_W2_at_14232356_132",
     "results_link": "http://splunk:8000/app/search/@go?sid=...",
     "search_name": "Errors in mongod", "owner": "admin", "app": "search"}

What Beacon reads: one alert per triggered search. Fingerprint: the saved
search (app, owner, ``search_name``), so every run of the same alert updates
one Beacon alert; without a name, the ``sid`` minus the scheduler's
``_at_<time>_<n>`` suffix. Title ``search_name``; description the result row
as ``field: value`` lines; severity from the row's ``severity``,
``urgency`` or ``priority`` field (``SEVERITY_TABLES["splunk"]``: 1-2 info,
3 warning, 4-6 critical, and the Enterprise Security words), else warning;
service and environment from the row's fields (``service``, ``app``... /
``env``, ``environment``); start from the row's ``_time`` when present;
link ``results_link``; labels the row's fields plus ``search_name``,
``splunk_app`` and ``owner``. Delivery id: ``sid`` (one per run).

Splunk never sends a resolve (``sends_resolve`` False): alerts close after the
integration's quiet period without a new trigger. The webhook action cannot
set headers and Splunk does not sign, so the token goes in the URL
(``?token=``).
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
    first_str,
    flatten_labels,
    make_alert,
    map_severity,
    merge_labels,
    opt_str,
    parse_time,
    register,
    service_from_labels,
)

_SCHEDULED_SUFFIX = re.compile(r"_at_\d+_\d+$")


@register
class SplunkSource(Source):
    name = "splunk"
    label = "Splunk"
    endpoint = "/api/splunk/alerts"
    sends_resolve = False
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        row = flatten_labels(payload.get("result"), "result")
        sid = opt_str(payload, "sid", "").strip()
        search_name = opt_str(payload, "search_name", "").strip()
        app = opt_str(payload, "app", "").strip()
        owner = opt_str(payload, "owner", "").strip()
        if not sid and not search_name:
            raise PayloadError("sid", "is required")
        if search_name:
            fingerprint = f"search:{app}:{owner}:{search_name}"
        else:
            fingerprint = "sid:" + _SCHEDULED_SUFFIX.sub("", sid)
        severity_text = first_str(row, ("severity", "urgency", "priority"), "result")
        labels = merge_labels(
            row,
            {
                key: value
                for key, value in (
                    ("search_name", search_name),
                    ("splunk_app", app),
                    ("owner", owner),
                )
                if value
            },
        )
        alert = make_alert(
            source=self.name,
            fingerprint=fingerprint,
            title=search_name or f"Splunk alert {sid}",
            description="\n".join(f"{key}: {value}" for key, value in row.items()),
            severity=map_severity("splunk", severity_text, "warning"),
            status="firing",
            service=service_from_labels(row),
            environment=environment_from_labels(row),
            started_at=parse_time(row.get("_time"), "result._time", lenient=True) or now,
            link=opt_str(payload, "results_link", ""),
            labels=labels,
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[], delivery_id=sid)
