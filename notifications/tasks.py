"""Thin Celery tasks for notifications: read the clock, call a service.

* ``plan_notification(id)``: queued by the outbox after the event commits;
  plans the deliveries and sends the trigger ones in the same task.
* ``send_due_batch()``: one sending pass over due deliveries (claimed in the
  database, so any number may run at once), until none is due or its time
  budget is spent.
* ``send_delivery(id)``: "retry now".
* ``tick()``: the beat's safety net (missed plans, retries, maintenance
  announcements).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import planning, sending


@shared_task(name="notifications.tasks.plan_notification")
def plan_notification(notification_id: int) -> None:
    planning.plan_and_send(notification_id, timezone.now())


@shared_task(name="notifications.tasks.send_due_batch")
def send_due_batch() -> int:
    report = sending.drain(
        timezone.now, settings.BEACON_DELIVERY_BATCH_SIZE, settings.BEACON_DELIVERY_DRAIN_SECONDS
    )
    return report.claimed


@shared_task(name="notifications.tasks.send_delivery")
def send_delivery(delivery_id: int) -> None:
    sending.send_due(timezone.now(), 1, delivery_ids=[delivery_id])


@shared_task(name="notifications.tasks.tick")
def tick() -> dict[str, int]:
    return planning.tick(timezone.now())
