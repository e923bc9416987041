"""Alert rules (Kener's alert configurations), alerts and the alert log.

One ``Alert`` row exists per (rule, monitor): it carries the current status
(TRIGGERED or RESOLVED) and the incident it opened. Every transition writes an
``AlertEvent`` in the same transaction; that log is what the console's alert
log and the API list.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from incidents.models import Severity  # one severity scale for rules and incidents
from monitors.models import Monitor


class RuleKind(models.TextChoices):
    STATUS = "STATUS", "Status"
    LATENCY = "LATENCY", "Latency"
    UPTIME = "UPTIME", "Uptime"


class AlertRule(models.Model):
    """When to raise an alert for each of its monitors.

    ``value``: ``DOWN`` / ``DEGRADED`` for STATUS, milliseconds (> 0) for
    LATENCY, a percentage (0-100) for UPTIME, stored as normalised text
    (``1000``, ``99.9``) because it appears verbatim in incident titles.
    """

    description = models.TextField(blank=True, default="", max_length=5000)
    monitors = models.ManyToManyField(Monitor, related_name="alert_rules")
    kind = models.CharField(max_length=10, choices=RuleKind.choices)
    value = models.CharField(max_length=32)
    failure_threshold = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    success_threshold = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    create_incident = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class AlertStatus(models.TextChoices):
    TRIGGERED = "TRIGGERED", "Triggered"
    RESOLVED = "RESOLVED", "Resolved"


class Alert(models.Model):
    """The alert of one rule on one monitor, and its current status."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    triggered_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    suppressed_by_maintenance = models.BooleanField(default=False)
    # Set when the alert's incident was resolved while the alert stayed triggered.
    post_resolution_watch_since = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "monitor"], name="one_alert_per_rule_monitor")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.monitor_id} {self.status}"


class AlertEvent(models.Model):
    """The alert log: each TRIGGERED and RESOLVED, with rule, monitor and incident."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alert_events")
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    at = models.DateTimeField(db_index=True)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suppressed_by_maintenance = models.BooleanField(default=False)
    message = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.status} @ {self.at}"
