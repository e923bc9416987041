"""Celery tasks of the incidents app: thin wrappers over the services.

* ``investigate(incident_id)``: run the automatic investigation (claimed in
  the database, so a duplicate message does nothing).
* ``correlation_tick`` (beat, every ``BEACON_CORRELATION_TICK_SECONDS``):
  re-queues investigations that were lost or crashed, re-processes external
  alerts left uncorrelated, and runs their post-resolution watch.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .investigation_services import due_investigations, run_investigation


@shared_task(ignore_result=True)
def investigate(incident_id: int) -> bool:
    """Run the investigation of one incident; False when another worker has it."""
    return run_investigation(int(incident_id), now=timezone.now())


@shared_task(ignore_result=True)
def correlation_tick() -> int:
    """Retry what lost messages or crashed workers left; return how much was retried."""
    from alerting.correlation_services import sweep

    now = timezone.now()
    retried = sweep(now)
    due = due_investigations(now)
    for incident_id in due:
        investigate.delay(incident_id)
    return retried + len(due)
