"""Thin Celery tasks of ingestion (routed to the ``ingest`` queue).

* ``process_alerts(alert_ids)``: after an ingest or a quiet close committed,
  hand the alerts whose status changed to correlation
  (``alerting.correlation_services.process_alerts``: join, open or resolve
  incidents). Correlation claims its work in the database, so a duplicate
  message is harmless.
* ``close_quiet_alerts()``: the beat tick closing alerts of sources that
  never send a resolve once their integration's quiet period has passed.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

log = logging.getLogger(__name__)


@shared_task(name="integrations.tasks.process_alerts")
def process_alerts(alert_ids: list[int]) -> None:
    try:
        from alerting import correlation_services
    except ImportError:
        # Correlation is built separately; until it lands, alerts are stored
        # and listed but open no incident.
        log.warning("alerting.correlation_services is missing; %d alerts wait", len(alert_ids))
        return
    correlation_services.process_alerts(list(alert_ids), now=timezone.now())


@shared_task(name="integrations.tasks.close_quiet_alerts")
def close_quiet_alerts() -> int:
    from .ingest_services import close_quiet_alerts as close

    return len(close(now=timezone.now()))
