"""The services of an incident, its correlation counters and its primary service.

Called inside the transaction of the change (correlation, merge, an
operator's association), with the incident row locked by the caller, so
the counters and the primary service are recomputed from the rows as they
are now and two changes never interleave.

* ``correlated_alert_count``: alerts linked to the incident, other than the
  one that opened it (the alert of its first ``AlertTriggered`` entry with
  ``"opened": true``).
* ``primary_service``: the most upstream failing service among the
  incident's services (``catalog.graph.primary_service``); ties go to the
  service linked first.
* ``add_services`` / ``remove_services``: an operator's association, with a
  ``ServicesChanged`` timeline entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from catalog.graph import Graph, primary_service
from catalog.models import Service
from catalog.selectors import load_graph

from .models import Incident, IncidentService, TimelineEntry


def link_service(incident: Incident, service_id: int, source: str, now: datetime) -> bool:
    """Link a service to the incident unless it is already; True when added."""
    _, created = IncidentService.objects.get_or_create(
        incident=incident, service_id=service_id, defaults={"source": source, "added_at": now}
    )
    return created


def opener_alert_id(incident: Incident) -> int | None:
    """The alert that opened the incident, when an alert did."""
    for data in incident.timeline.filter(type=TimelineEntry.Type.ALERT_TRIGGERED).values_list(
        "data", flat=True
    )[:50]:
        if isinstance(data, dict) and data.get("opened"):
            alert = data.get("alert")
            return alert if isinstance(alert, int) else None
    return None


def recount(incident: Incident, *, graph: Graph | None = None) -> None:
    """Recompute ``correlated_alert_count`` and ``primary_service`` and save them."""
    from alerting.models import Alert

    alert_ids = set(Alert.objects.filter(incident=incident).values_list("pk", flat=True))
    opener = opener_alert_id(incident)
    incident.correlated_alert_count = len(alert_ids - {opener})
    incident.primary_service_id = compute_primary(incident, graph=graph)
    incident.save(update_fields=["correlated_alert_count", "primary_service", "updated_at"])


def compute_primary(incident: Incident, *, graph: Graph | None = None) -> int | None:
    links = IncidentService.objects.filter(incident=incident).values_list(
        "service_id", "added_at", "pk"
    )
    failing = {service_id: (added_at, pk) for service_id, added_at, pk in links}
    if not failing:
        return None
    return primary_service(failing, graph or load_graph())


def _locked(incident: Incident) -> Incident:
    from .services import IncidentError

    incident = Incident.objects.select_for_update(no_key=True).get(pk=incident.pk)
    if incident.merged_into_id is not None:
        raise IncidentError(
            None, "This incident was merged into another; change the services there."
        )
    return incident


def add_services(
    incident: Incident, services: Sequence[Service], *, now: datetime, actor: Any = None
) -> list[Service]:
    """An operator associates services; returns those that were not linked yet."""
    from .services import timeline

    with transaction.atomic():
        incident = _locked(incident)
        added = [
            s for s in services if link_service(incident, s.pk, IncidentService.Source.MANUAL, now)
        ]
        if not added:
            return added
        recount(incident)
        slugs = [s.slug for s in added]
        timeline(
            incident,
            TimelineEntry.Type.SERVICES_CHANGED,
            now,
            actor=actor,
            message="added: " + ", ".join(slugs),
            data={"added": slugs},
        )
    return added


def remove_services(
    incident: Incident, services: Sequence[Service], *, now: datetime, actor: Any = None
) -> list[Service]:
    """An operator dissociates services (whatever linked them); returns those removed."""
    from .services import timeline

    with transaction.atomic():
        incident = _locked(incident)
        linked = set(
            IncidentService.objects.filter(
                incident=incident, service__in=[s.pk for s in services]
            ).values_list("service_id", flat=True)
        )
        removed = [s for s in services if s.pk in linked]
        if not removed:
            return removed
        IncidentService.objects.filter(
            incident=incident, service__in=[s.pk for s in removed]
        ).delete()
        recount(incident)
        slugs = [s.slug for s in removed]
        timeline(
            incident,
            TimelineEntry.Type.SERVICES_CHANGED,
            now,
            actor=actor,
            message="removed: " + ", ".join(slugs),
            data={"removed": slugs},
        )
    return removed
