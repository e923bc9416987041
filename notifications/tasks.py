"""Thin Celery tasks for notifications: take ids, call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notifications.tasks.plan_notification")
def plan_notification(notification_id: int) -> None:
    """Create the deliveries of one notification (placeholder until planning lands)."""
