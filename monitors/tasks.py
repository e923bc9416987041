"""Celery tasks of the monitors app: thin wrappers that call the engine and services.

* ``dispatch_due_checks`` (beat, every ``BEACON_TICK_SECONDS``): claims due
  checks in the database and queues them in batches on the ``checks`` queue;
  records the tick for /healthz.
* ``run_checks(items)``: runs one batch (``[[monitor_id, due_at_iso], ...]``).
* ``prune_results`` (beat, daily): deletes raw results past retention.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .engine import run_batch
from .models import SchedulerTick
from .scheduling import batches, claim_due
from .services import prune_results as prune_results_service

DISPATCH_TICK = "dispatch_due_checks"


@shared_task(ignore_result=True)
def dispatch_due_checks() -> int:
    """Claim due checks and queue them in batches; return how many were claimed."""
    now = timezone.now()
    lookahead = timedelta(seconds=settings.BEACON_DISPATCH_LOOKAHEAD_SECONDS)
    claimed = claim_due(now, settings.BEACON_MAX_CLAIM_PER_TICK, lookahead)
    SchedulerTick.objects.update_or_create(
        name=DISPATCH_TICK, defaults={"last_at": now, "claimed": len(claimed)}
    )
    for batch in batches(claimed, settings.BEACON_BATCH_SIZE):
        payload = [[monitor_id, due.isoformat()] for monitor_id, due in batch]
        transaction.on_commit(lambda p=payload: run_checks.delay(p))
    return len(claimed)


@shared_task(ignore_result=True)
def run_checks(items: list[list]) -> int:
    """Run one batch of claimed checks; return how many results were written."""
    parsed = [(int(monitor_id), datetime.fromisoformat(due)) for monitor_id, due in items]
    return run_batch(parsed)


@shared_task(ignore_result=True)
def prune_results() -> int:
    """Delete raw results older than the retention period, in batches."""
    before = timezone.now() - timedelta(days=settings.BEACON_RESULT_RETENTION_DAYS)
    return prune_results_service(before=before, batch_size=settings.BEACON_PRUNE_BATCH_SIZE)
