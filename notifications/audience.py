"""Who among the subscribers hears about a notification.

The rule (``wants``, pure, tested without a database):

* ``subscriber.confirm`` goes to exactly ``notification.subscriber``, even
  though it is still pending: it is the one mail a pending address gets.
* ``incident.*`` goes to confirmed subscribers with ``notify_incidents``;
  ``maintenance.*`` to confirmed ones with ``notify_maintenance``;
* and of those, to the ones following everything (``all_monitors``) or at
  least one of ``notification.monitor_ids``. An event without monitors (a
  global maintenance window, an incident affecting no monitor) has
  ``monitor_ids == []`` and reaches... for maintenance, everyone who wants
  maintenance news (a global window concerns everybody); for an incident,
  the subscribers of everything.
* Any other event (alerts, tests) reaches no subscriber.

``subscriber_deliveries`` is the same rule as a query, for the delivery
planner: it yields ``(subscriber_id, channel, target)`` in id order, read in
keyset pages of ``CHUNK`` rows, so 10,000+ subscribers cost a few short
queries and little memory, and no cursor stays open while the planner writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from django.db.models import Q

from .models import Event, Notification, Subscriber, SubscriberKind, SubscriberStatus

EMAIL_CHANNEL = "subscriber_email"
WEBHOOK_CHANNEL = "subscriber_webhook"
CHANNELS = {SubscriberKind.EMAIL: EMAIL_CHANNEL, SubscriberKind.WEBHOOK: WEBHOOK_CHANNEL}
TARGET_MAX = 300  # Delivery.target
CHUNK = 2000

INCIDENT_EVENTS = frozenset(
    {
        Event.INCIDENT_CREATED,
        Event.INCIDENT_UPDATED,
        Event.INCIDENT_RESOLVED,
        Event.INCIDENT_REOPENED,
    }
)
MAINTENANCE_EVENTS = frozenset(
    {Event.MAINTENANCE_SCHEDULED, Event.MAINTENANCE_STARTED, Event.MAINTENANCE_ENDED}
)


@dataclass(frozen=True)
class Preferences:
    """What the rule needs to know of one subscriber."""

    status: str
    all_monitors: bool
    monitor_ids: frozenset[int]
    notify_incidents: bool
    notify_maintenance: bool


def wants(event: str, prefs: Preferences, monitor_ids: Collection[int]) -> bool:
    """Whether a subscriber with ``prefs`` gets a (non-confirmation) ``event``
    concerning ``monitor_ids`` (pure)."""
    if prefs.status != SubscriberStatus.CONFIRMED:
        return False
    if event in INCIDENT_EVENTS:
        if not prefs.notify_incidents:
            return False
        return prefs.all_monitors or bool(prefs.monitor_ids & set(monitor_ids))
    if event in MAINTENANCE_EVENTS:
        if not prefs.notify_maintenance:
            return False
        if not monitor_ids:  # a global window
            return True
        return prefs.all_monitors or bool(prefs.monitor_ids & set(monitor_ids))
    return False


def channel_and_target(kind: str, email: str, url: str) -> tuple[str, str]:
    """The sender kind and the target text (kept on the delivery) of a subscriber."""
    channel = CHANNELS.get(kind, EMAIL_CHANNEL)
    target = email if kind == SubscriberKind.EMAIL else url
    return channel, target[:TARGET_MAX]


def audience_filter(event: str, monitor_ids: Collection[int]) -> Q | None:
    """``wants`` as a filter on ``Subscriber`` (None: nobody)."""
    if event in INCIDENT_EVENTS:
        flag = Q(notify_incidents=True)
    elif event in MAINTENANCE_EVENTS:
        flag = Q(notify_maintenance=True)
        if not monitor_ids:
            return Q(status=SubscriberStatus.CONFIRMED) & flag
    else:
        return None
    # A subquery on the M2M table rather than a join: no duplicate rows, so no
    # DISTINCT over 10,000 rows, and the planner can stream in id order.
    following = Subscriber.monitors.through.objects.filter(monitor_id__in=list(monitor_ids)).values(
        "subscriber_id"
    )
    scope = Q(all_monitors=True) | Q(pk__in=following) if monitor_ids else Q(all_monitors=True)
    return Q(status=SubscriberStatus.CONFIRMED) & flag & scope


def subscriber_deliveries(notification: Notification) -> Iterator[tuple[int, str, str]]:
    """``(subscriber_id, channel, target)`` of every subscriber who must get ``notification``."""
    if notification.event == Event.SUBSCRIBER_CONFIRM:
        if notification.subscriber_id is None:
            return
        row = (
            Subscriber.objects.filter(pk=notification.subscriber_id)
            .exclude(status=SubscriberStatus.UNSUBSCRIBED)
            .values_list("pk", "kind", "email", "url")
            .first()
        )
        if row is not None:
            yield (row[0], *channel_and_target(row[1], row[2], row[3]))
        return
    monitor_ids = [int(m) for m in (notification.monitor_ids or [])]
    condition = audience_filter(notification.event, monitor_ids)
    if condition is None:
        return
    # Keyset pages (pk > last), each a short query of its own, rather than one
    # open cursor: the planner writes deliveries between pages, and on SQLite a
    # read cursor held across those writes pins an old snapshot, so the write
    # fails at once with "database is locked" when another worker committed.
    last = 0
    while True:
        page = list(
            Subscriber.objects.filter(condition, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "kind", "email", "url")[:CHUNK]
        )
        for pk, kind, email, url in page:
            yield (pk, *channel_and_target(kind, email, url))
        if len(page) < CHUNK:
            return
        last = page[-1][0]
