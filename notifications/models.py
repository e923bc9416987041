"""Notifications: triggers, subscribers, the events that notify them, and
every delivery attempt.

The road an event takes:

1. A service that changes state (alert triggered/resolved, incident created /
   updated / resolved / reopened, maintenance scheduled / started / ended)
   writes one ``Notification`` row in its own transaction: the outbox. Its
   ``context`` is a snapshot of the template variables at that moment, so a
   later edit never changes what was announced.
2. After commit a worker *plans* it: one ``Delivery`` per target (a trigger
   or a subscriber), created idempotently (unique per notification and
   target), then marks the notification planned. Planning is claimed in the
   database, so a crash re-plans and two workers never double a delivery.
3. Workers claim due deliveries (``next_attempt_at <= now``, lease expired)
   and send them; each try is a ``DeliveryAttempt``. Transient failures are
   rescheduled with backoff, permanent ones fail at once.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from alerting.models import AlertEvent, AlertRule
from incidents.models import Incident, IncidentUpdate, MaintenanceWindow
from monitors.models import Monitor


def new_token() -> str:
    """An unguessable URL-safe token (manage / unsubscribe links, webhook secrets)."""
    return secrets.token_urlsafe(32)


class TriggerKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    EMAIL = "email", "Email"
    APPRISE = "apprise", "Apprise"


class Trigger(models.Model):
    """Where an alert rule's notifications go (Kener's triggers).

    ``config`` is validated by the kind's notifier; ``templates`` maps the
    kind's template names (for example ``body``, ``subject``, ``html``,
    ``text``) to Mustache source; a missing name uses the kind's default.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=TriggerKind.choices)
    config = models.JSONField(default=dict, blank=True)
    templates = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    rules = models.ManyToManyField(AlertRule, blank=True, related_name="triggers")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SubscriberKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Subscriber(models.Model):
    """A member of the public (email) or a system (webhook) that follows the page.

    Email subscribers are ``pending`` until they open the signed confirmation
    link; nothing but that link is ever sent to a pending address. Webhook
    subscribers are confirmed by a successful test call. ``token`` is the
    secret in manage / unsubscribe links (and signs webhook subscriber calls).
    """

    kind = models.CharField(max_length=10, choices=SubscriberKind.choices)
    email = models.EmailField(max_length=254, blank=True, default="")
    url = models.URLField(max_length=2000, blank=True, default="")
    status = models.CharField(
        max_length=14, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING
    )
    all_monitors = models.BooleanField(default=True)
    monitors = models.ManyToManyField(Monitor, blank=True, related_name="subscribers")
    notify_incidents = models.BooleanField(default=True)
    notify_maintenance = models.BooleanField(default=True)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(kind="email"), name="subscriber_unique_email"
            ),
            models.UniqueConstraint(
                fields=["url"], condition=Q(kind="webhook"), name="subscriber_unique_url"
            ),
            models.CheckConstraint(
                condition=(Q(kind="email") & ~Q(email="")) | (Q(kind="webhook") & ~Q(url="")),
                name="subscriber_has_address",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return self.email or self.url


class SubscriberEvent(models.Model):
    """The audit log of subscribers: every subscribe, confirmation, change,
    unsubscribe and removal, written by ``notifications.subscriber_services``
    in the transaction of the change. ``address`` is copied so the log still
    reads after the subscriber is removed."""

    class Type(models.TextChoices):
        SUBSCRIBED = "subscribed", "Subscribed (pending confirmation)"
        REQUESTED_AGAIN = "requested_again", "Subscription requested again"
        CONFIRMATION_SENT = "confirmation_sent", "Confirmation link sent"
        CONFIRMED = "confirmed", "Confirmed"
        PREFERENCES_CHANGED = "preferences_changed", "Preferences changed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        CREATED = "created", "Created in the console or API"
        VERIFIED = "verified", "Webhook verified by a test call"
        REMOVED = "removed", "Removed"

    id = models.BigAutoField(primary_key=True)
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    address = models.CharField(max_length=300)
    type = models.CharField(max_length=24, choices=Type.choices)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subscriber", "-at"], name="subscriber_event_time")]

    def __str__(self) -> str:
        return f"{self.address} {self.type} @ {self.at}"


class SubscribeRequest(models.Model):
    """One POST of the public subscribe form, kept for the per-address rate
    limit (in the database so every web process counts the same requests)."""

    ip = models.GenericIPAddressField()
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ip", "at"], name="subscribe_request_ip_at")]

    def __str__(self) -> str:
        return f"{self.ip} @ {self.at}"


class Event(models.TextChoices):
    ALERT_TRIGGERED = "alert.triggered", "Alert triggered"
    ALERT_RESOLVED = "alert.resolved", "Alert resolved"
    INCIDENT_CREATED = "incident.created", "Incident created"
    INCIDENT_UPDATED = "incident.updated", "Incident update posted"
    INCIDENT_RESOLVED = "incident.resolved", "Incident resolved"
    INCIDENT_REOPENED = "incident.reopened", "Incident reopened"
    INCIDENT_ESCALATED = "incident.escalated", "Incident escalated"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled", "Maintenance scheduled"
    MAINTENANCE_STARTED = "maintenance.started", "Maintenance started"
    MAINTENANCE_ENDED = "maintenance.ended", "Maintenance ended"
    SUBSCRIBER_CONFIRM = "subscriber.confirm", "Subscription confirmation"
    TEST = "test", "Test"


class Notification(models.Model):
    """One event that notifies (the outbox row), written in the event's transaction.

    ``key`` makes planning idempotent for events found by a tick (for example
    ``maintenance.started:<window>:<occurrence start>``); it is blank for
    events written by the service that causes them. ``planned_at`` is set once
    every delivery exists; ``claimed_until`` is the planner's lease.
    """

    id = models.BigAutoField(primary_key=True)
    event = models.CharField(max_length=24, choices=Event.choices)
    key = models.CharField(max_length=200, blank=True, default="")
    alert_event = models.ForeignKey(
        AlertEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    update = models.ForeignKey(
        IncidentUpdate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    maintenance = models.ForeignKey(
        MaintenanceWindow, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    monitor_ids = models.JSONField(default=list, blank=True)
    # The triggers an operator chose (``incident.escalated``): its only targets.
    trigger_ids = models.JSONField(default=list, blank=True)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="notification_unique_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(planned_at__isnull=True),
                name="notification_unplanned",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification to one target (a trigger or a subscriber) and its fate.

    ``id`` is sent as ``X-Beacon-Delivery`` on every try so receivers can drop
    duplicates. A delivery is due when it is pending or retrying,
    ``next_attempt_at <= now`` and its lease (``claimed_until``) has expired:
    a worker that dies mid-send leaves the row to be claimed again.
    """

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    trigger = models.ForeignKey(
        Trigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel = models.CharField(max_length=24)  # the sender kind (subscriber_webhook: 18)
    target = models.CharField(max_length=300)  # what it went to, kept after the target goes
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "trigger"],
                condition=Q(trigger__isnull=False),
                name="delivery_once_per_trigger",
            ),
            models.UniqueConstraint(
                fields=["notification", "subscriber"],
                condition=Q(subscriber__isnull=False),
                name="delivery_once_per_subscriber",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying"]),
                name="delivery_due",
            ),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: what the receiver answered and how long it took."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.FloatField()
    outcome = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")  # first 2 KB, for the console

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
