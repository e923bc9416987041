"""Builders shared by the ingestion tests: integrations, vendor bodies and
requests to the inbound endpoints.

Bodies follow the vendors' documented shapes (Alertmanager webhook version 4,
Grafana unified alerting "version 1"); the parsers' own tests cover the
realistic fixtures in ``payloads/``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.test import Client

from integrations.models import Integration
from integrations.urls_inbound import ENDPOINTS

PAYLOADS = Path(__file__).resolve().parent / "payloads"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    """A realistic vendor body from ``payloads/<name>.json``."""
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def make_integration(source: str = "alertmanager", **fields: Any) -> Integration:
    fields.setdefault("name", f"{source} {Integration.objects.count() + 1}")
    return Integration.objects.create(source=source, **fields)


def am_alert(
    fingerprint: str,
    status: str = "firing",
    *,
    name: str = "HighLatency",
    service: str = "checkout",
    severity: str = "critical",
    starts_at: str = "2025-03-01T11:58:00Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    summary: str | None = None,
) -> dict[str, Any]:
    """One element of an Alertmanager group's ``alerts[]``."""
    return {
        "status": status,
        "labels": {
            "alertname": name,
            "service": service,
            "severity": severity,
            "env": "production",
            "instance": f"{service}-{fingerprint}:9100",
        },
        "annotations": {
            "summary": summary if summary is not None else f"{name} on {service}",
            "description": "p99 above 500 ms for 5 minutes",
        },
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def am_group(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """An Alertmanager webhook body (version 4) carrying ``alerts``."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "beacon",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def grafana_body(*alerts: dict[str, Any]) -> dict[str, Any]:
    """A Grafana unified-alerting webhook body carrying Alertmanager-shaped alerts."""
    body = am_group(*alerts)
    body.update(
        {
            "version": "1",
            "orgId": 1,
            "title": "[FIRING:1] HighLatency",
            "state": "alerting",
            "message": "**Firing**",
        }
    )
    return body


def encode(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def url_for(source: str, token: str | None = None) -> str:
    url = f"/api/{ENDPOINTS[source]}"
    return f"{url}?token={token}" if token is not None else url


def post(
    client: Client,
    source: str,
    body: Any,
    *,
    token: str | None = None,
    bearer: str | None = None,
    basic: str | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    """POST ``body`` (JSON-encoded unless bytes) to ``source``'s endpoint."""
    extra = dict(headers or {})
    if bearer is not None:
        extra["Authorization"] = f"Bearer {bearer}"
    if basic is not None:
        extra["Authorization"] = "Basic " + base64.b64encode(f"grafana:{basic}".encode()).decode()
    return client.post(
        url_for(source, token), data=encode(body), content_type=content_type, headers=extra
    )
