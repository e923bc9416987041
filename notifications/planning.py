"""Planning: turning one notification (the outbox row) into its deliveries.

``plan(notification_id, now)`` claims the notification with a lease (a
conditional UPDATE on ``planned_at IS NULL`` and an expired
``claimed_until``), creates one ``Delivery`` per target in batches with
``bulk_create(ignore_conflicts=True)`` (the unique constraints per
notification and trigger / subscriber make a re-plan after a crash create
only what is missing), then sets ``planned_at``. Two workers never double a
delivery; a worker that dies mid-plan leaves the lease to expire and the
tick plans the rest.

Targets: for ``alert.*`` events the rule's ACTIVE triggers (channel = the
trigger's kind); for ``incident.escalated`` the ACTIVE triggers the operator
chose (``Notification.trigger_ids``), and nobody else; for every other
event ``notifications.audience.subscriber_deliveries(notification)`` (the
subscribers feature; without it, none). Test notifications are written
already planned, with their one delivery, by ``trigger_services.send_test``;
escalations are planned inside their own transaction (``outbox.escalation_event``).

``plan_and_send`` is what the ``plan_notification`` task runs: plan, then
send this notification's trigger deliveries at once (one queue hop from the
alert to the request), then queue parallel sending passes for subscriber
deliveries. ``tick`` is the beat's safety net.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.db.models import Q

from . import sending
from .models import Delivery, DeliveryStatus, Event, Notification
from .notifiers import get_sender, trigger_kinds

log = logging.getLogger(__name__)

PLAN_BATCH = 1000
TRIGGER_EVENTS = (Event.ALERT_TRIGGERED, Event.ALERT_RESOLVED, Event.TEST)
CHOSEN_TRIGGER_EVENTS = (Event.INCIDENT_ESCALATED,)
REPLAN_PER_TICK = 50


@dataclass(frozen=True)
class Target:
    channel: str
    text: str
    trigger_id: int | None = None
    subscriber_id: int | None = None


@dataclass(frozen=True)
class PlanResult:
    planned: bool  # False: already planned, or being planned by another worker
    targets: int = 0
    subscriber_targets: int = 0


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.BEACON_DELIVERY_LEASE_SECONDS)


def trigger_targets(notification: Notification) -> Iterator[Target]:
    """The active triggers of the notification's alert rule."""
    event = notification.alert_event
    if event is None or event.rule_id is None:
        return
    for trigger in event.rule.triggers.filter(is_active=True).order_by("id"):
        notifier: Any = get_sender(trigger.kind)
        yield Target(
            trigger.kind, notifier.target_text(trigger.config or {}), trigger_id=trigger.pk
        )


def chosen_trigger_targets(notification: Notification) -> Iterator[Target]:
    """The triggers chosen for the notification (an escalation's), still active."""
    from .models import Trigger

    ids = [i for i in notification.trigger_ids or [] if isinstance(i, int)]
    for trigger in Trigger.objects.filter(pk__in=ids, is_active=True).order_by("id"):
        notifier: Any = get_sender(trigger.kind)
        yield Target(
            trigger.kind, notifier.target_text(trigger.config or {}), trigger_id=trigger.pk
        )


def subscriber_targets(notification: Notification) -> Iterator[Target]:
    """The subscribers' deliveries, from the subscribers feature when installed."""
    try:
        from .audience import subscriber_deliveries
    except ImportError:
        return
    for subscriber_id, channel, text in subscriber_deliveries(notification):
        yield Target(channel, str(text)[:300], subscriber_id=subscriber_id)


def targets(notification: Notification) -> Iterator[Target]:
    if notification.event in TRIGGER_EVENTS:
        yield from trigger_targets(notification)
    elif notification.event in CHOSEN_TRIGGER_EVENTS:
        yield from chosen_trigger_targets(notification)
    else:
        yield from subscriber_targets(notification)


def _batches(items: Iterable[Target], size: int) -> Iterator[list[Target]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def plan(
    notification_id: int, now: datetime, *, clock: Callable[[], datetime] | None = None
) -> PlanResult:
    """Create the deliveries of one notification, once (see the module docstring)."""
    clock = clock or sending.clock_from(now)
    lease = _lease(now)
    claimed = (
        Notification.objects.filter(pk=notification_id, planned_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=lease)
    )
    if not claimed:
        return PlanResult(planned=False)
    notification = Notification.objects.select_related("alert_event__rule").get(pk=notification_id)
    total = subscribers = 0
    for batch in _batches(targets(notification), PLAN_BATCH):
        if total:
            # Long plans (10,000 subscribers) keep their lease while they work; one
            # that lost it (it took too long) leaves the rest to the new owner.
            renewed = _lease(clock())
            if not Notification.objects.filter(pk=notification_id, claimed_until=lease).update(
                claimed_until=renewed
            ):
                return PlanResult(planned=False, targets=total, subscriber_targets=subscribers)
            lease = renewed
        Delivery.objects.bulk_create(
            [
                Delivery(
                    notification_id=notification_id,
                    trigger_id=t.trigger_id,
                    subscriber_id=t.subscriber_id,
                    channel=t.channel,
                    target=t.text[:300],
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
                for t in batch
            ],
            ignore_conflicts=True,
        )
        total += len(batch)
        subscribers += sum(1 for t in batch if t.subscriber_id is not None)
    Notification.objects.filter(pk=notification_id, claimed_until=lease).update(
        planned_at=now, claimed_until=None
    )
    return PlanResult(planned=True, targets=total, subscriber_targets=subscribers)


def plan_and_send(notification_id: int, now: datetime) -> PlanResult:
    """Plan, send the trigger deliveries now, queue sending passes for subscribers."""
    result = plan(notification_id, now)
    sending.send_due(
        now,
        settings.BEACON_DELIVERY_BATCH_SIZE,
        notification_id=notification_id,
        channels=trigger_kinds(),
    )
    if result.subscriber_targets:
        sending.queue_drainers(result.subscriber_targets)
    return result


def unplanned(now: datetime, limit: int) -> list[int]:
    """Notifications still unplanned ``BEACON_NOTIFY_REPLAN_AFTER_SECONDS`` after
    they were written, whose planning lease (if any) has expired; oldest first."""
    cutoff = now - timedelta(seconds=settings.BEACON_NOTIFY_REPLAN_AFTER_SECONDS)
    return list(
        Notification.objects.filter(planned_at__isnull=True, created_at__lte=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def tick(now: datetime) -> dict[str, int]:
    """The beat's pass: plan what was missed, run the maintenance announcements
    (when that feature is installed), and queue sending passes for due deliveries."""
    replanned = 0
    for notification_id in unplanned(now, REPLAN_PER_TICK):
        try:
            if plan_and_send(notification_id, now).planned:
                replanned += 1
        except Exception:  # poison-row guard: one bad notification never stops the tick
            log.exception("planning notification %s failed", notification_id)
    announced = 0
    try:
        from . import maintenance_tick
    except ImportError:
        maintenance_tick = None  # type: ignore[assignment]
    if maintenance_tick is not None:
        try:
            announced = int(maintenance_tick.run(now) or 0)
        except Exception:
            log.exception("maintenance announcements failed")
    due = sending.count_due(
        now, settings.BEACON_DELIVERY_BATCH_SIZE * settings.BEACON_DELIVERY_DRAINERS
    )
    if due:
        sending.queue_drainers(due)
    return {"replanned": replanned, "announced": announced, "due": due}
