"""Monitors, their current state, check results and the daily / hourly rollups.

The current state lives in its own row (``MonitorState``) so the engine can
update it in bulk without touching configuration, and so no page or rule
ever reads history to know "now". Rollups are updated as results are
written (see ``monitors.rollups``); pages never aggregate raw results.
"""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]*[a-z0-9]$"
tag_validator = RegexValidator(
    TAG_PATTERN,
    "Use at least two characters: lowercase letters, digits, '-' or '_', "
    "starting and ending with a letter or digit.",
)

MIN_INTERVAL_SECONDS = 10
MAX_INTERVAL_SECONDS = 86400
MAX_TIMEOUT_SECONDS = 120


class Status(models.TextChoices):
    UP = "UP", "Up"
    DEGRADED = "DEGRADED", "Degraded"
    DOWN = "DOWN", "Down"


# Worst first: used to roll several statuses into one (groups, day bars).
STATUS_SEVERITY = {Status.UP: 0, Status.DEGRADED: 1, Status.DOWN: 2}


class Kind(models.TextChoices):
    HTTP = "http", "HTTP(S)"
    TCP = "tcp", "TCP port"
    DNS = "dns", "DNS record"
    PING = "ping", "Ping (ICMP)"
    TLS = "tls", "TLS certificate"
    HEARTBEAT = "heartbeat", "Heartbeat (push)"
    GROUP = "group", "Group"


def new_push_token() -> str:
    """A URL-safe secret for a heartbeat monitor's push URL."""
    return secrets.token_urlsafe(24)


class Monitor(models.Model):
    """What to check and how often. Kind-specific settings live in ``config``,
    validated by the kind's runner (``monitors.checks``)."""

    name = models.CharField(max_length=200)
    tag = models.CharField(max_length=64, unique=True, validators=[tag_validator])
    description = models.TextField(blank=True, default="", max_length=5000)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(
        default=60,
        validators=[
            MinValueValidator(MIN_INTERVAL_SECONDS),
            MaxValueValidator(MAX_INTERVAL_SECONDS),
        ],
    )
    timeout_seconds = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_SECONDS)]
    )
    is_active = models.BooleanField(default=True)
    is_public = models.BooleanField(default=True)
    push_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="monitors"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_seconds__gte=MIN_INTERVAL_SECONDS),
                name="monitor_interval_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tag})"


class MonitorState(models.Model):
    """A monitor's "now": current status and the scheduling of its next check.

    ``next_check_at`` is NULL while the monitor is paused. Claiming a slot
    moves it forward in the same transaction (see ``monitors.scheduling``), so
    a slot is handed out once however many beat processes tick.
    ``last_due_at`` is the slot of the last recorded scheduled result: a
    result for an older or equal slot is a replay and is dropped.
    """

    monitor = models.OneToOneField(
        Monitor, on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    # NULL means "never checked", which is not any of the statuses.
    status = models.CharField(  # noqa: DJ001
        max_length=10, choices=Status.choices, null=True, blank=True
    )
    since = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_message = models.CharField(max_length=500, blank=True, default="")
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_due_at = models.DateTimeField(null=True, blank=True)
    consecutive_count = models.PositiveIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    last_push_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.monitor_id}: {self.status}"


class ResultSource(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Check now"
    PUSH = "push", "Heartbeat push"


class CheckResult(models.Model):
    """One check outcome. ``due_at`` is the slot it was scheduled for and
    ``lag_ms`` how late it started; one scheduled result per slot."""

    id = models.BigAutoField(primary_key=True)
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    source = models.CharField(
        max_length=10, choices=ResultSource.choices, default=ResultSource.SCHEDULED
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    due_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    latency_ms = models.FloatField(null=True, blank=True)
    lag_ms = models.IntegerField(default=0)
    message = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["monitor", "-checked_at"], name="result_monitor_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "due_at"],
                condition=Q(source="scheduled"),
                name="one_result_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["UP", "DEGRADED", "DOWN"]), name="result_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.status} @ {self.checked_at:%Y-%m-%d %H:%M:%S}"


class DailyRollup(models.Model):
    """Counts and latency of one monitor over one UTC day, kept forever."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    up_count = models.PositiveIntegerField(default=0)
    degraded_count = models.PositiveIntegerField(default=0)
    down_count = models.PositiveIntegerField(default=0)
    latency_count = models.PositiveIntegerField(default=0)
    latency_sum = models.FloatField(default=0)
    latency_min = models.FloatField(null=True, blank=True)
    latency_max = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "day"], name="daily_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.day}"

    @property
    def total(self) -> int:
        return self.up_count + self.degraded_count + self.down_count

    @property
    def uptime_percent(self) -> float | None:
        """Share of results that were UP or DEGRADED (the service answered)."""
        total = self.total
        if not total:
            return None
        return round(100.0 * (self.up_count + self.degraded_count) / total, 4)

    @property
    def avg_latency_ms(self) -> float | None:
        if not self.latency_count:
            return None
        return round(self.latency_sum / self.latency_count, 2)

    @property
    def worst_status(self) -> str | None:
        if self.down_count:
            return Status.DOWN
        if self.degraded_count:
            return Status.DEGRADED
        if self.up_count:
            return Status.UP
        return None


class HourlyRollup(models.Model):
    """Counts and latency of one monitor over one UTC hour (for charts)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="hourly")
    hour = models.DateTimeField()
    up_count = models.PositiveIntegerField(default=0)
    degraded_count = models.PositiveIntegerField(default=0)
    down_count = models.PositiveIntegerField(default=0)
    latency_count = models.PositiveIntegerField(default=0)
    latency_sum = models.FloatField(default=0)
    latency_min = models.FloatField(null=True, blank=True)
    latency_max = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "hour"], name="hourly_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.hour:%Y-%m-%d %H:00}"

    @property
    def avg_latency_ms(self) -> float | None:
        if not self.latency_count:
            return None
        return round(self.latency_sum / self.latency_count, 2)


class SchedulerTick(models.Model):
    """When each periodic job last ran; /healthz reads the dispatcher's row."""

    name = models.CharField(max_length=64, primary_key=True)
    last_at = models.DateTimeField()
    claimed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_at}"


class MonitorEvent(models.Model):
    """The audit and event log of monitors: configuration changes and status flips.

    Written in the same transaction as the change it records. The tag is copied
    so the log still reads after a monitor is deleted.
    """

    class Type(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        DELETED = "deleted", "Deleted"
        STATUS_CHANGED = "status_changed", "Status changed"

    id = models.BigAutoField(primary_key=True)
    monitor = models.ForeignKey(
        Monitor, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    monitor_tag = models.CharField(max_length=64)
    type = models.CharField(max_length=20, choices=Type.choices)
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10, blank=True, default="")
    message = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["monitor", "-at"], name="event_monitor_time")]

    def __str__(self) -> str:
        return f"{self.monitor_tag} {self.type} @ {self.at}"
