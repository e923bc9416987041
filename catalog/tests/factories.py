"""Test helpers: services through the real catalogue services, and external
alerts stored the way the integrations store them (an ``Integration`` and
``Alert`` rows with ``source``, ``fingerprint``, ``service``, ``last_seen_at``)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from alerting.models import Alert, AlertStatus
from catalog import services
from catalog.models import Service
from integrations.models import Integration

_seq = itertools.count(1)


def make_service(slug: str, *, depends_on: tuple[str, ...] = (), **fields: Any) -> Service:
    data = {"name": fields.pop("name", slug.replace("-", " ").title()), "slug": slug, **fields}
    data["depends_on"] = list(depends_on)
    return services.create_service(data, now=timezone.now())


def chain(*slugs: str) -> list[Service]:
    """``chain("web", "api", "db")``: web depends on api, api on db."""
    made: list[Service] = []
    for i, slug in enumerate(reversed(slugs)):
        deps = (list(reversed(slugs))[i - 1],) if i else ()
        made.append(make_service(slug, depends_on=deps))
    return list(reversed(made))


def make_integration(name: str = "", *, source: str = "generic", **fields: Any) -> Integration:
    return Integration.objects.create(
        name=name or f"integration-{next(_seq)}", source=source, **fields
    )


def external_alert(
    integration: Integration,
    at: datetime,
    *,
    service: Service | None = None,
    title: str = "",
    severity: str = "CRITICAL",
    fingerprint: str = "",
    status: str = AlertStatus.TRIGGERED,
    **fields: Any,
) -> Alert:
    n = next(_seq)
    return Alert.objects.create(
        source=integration.source,
        integration=integration,
        fingerprint=fingerprint or f"fp-{n}",
        title=title or f"Alert {n}",
        severity=severity,
        service=service,
        service_name=service.name if service else fields.pop("service_name", ""),
        status=status,
        triggered_at=fields.pop("triggered_at", at),
        last_seen_at=fields.pop("last_seen_at", at),
        **fields,
    )


def resolve_external(alert: Alert, at: datetime) -> Alert:
    """What the ingestion does when the source says resolved."""
    alert.refresh_from_db()
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = at
    alert.last_seen_at = at
    alert.save()
    return alert
