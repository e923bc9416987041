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
from django.db.models import Q

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


class AlertSource(models.TextChoices):
    """Where an alert comes from: a Beacon alert rule, or an integration's vendor."""

    RULE = "rule", "Alert rule"
    GRAFANA = "grafana", "Grafana"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    DATADOG = "datadog", "Datadog"
    NETDATA = "netdata", "Netdata"
    PAGERDUTY = "pagerduty", "PagerDuty"
    SPLUNK = "splunk", "Splunk"
    JENKINS = "jenkins", "Jenkins"
    CLOUDBEES = "cloudbees", "CloudBees"
    DYNATRACE = "dynatrace", "Dynatrace"
    BIGPANDA = "bigpanda", "BigPanda"
    GENERIC = "generic", "Generic"


class Alert(models.Model):
    """An alert and its current status: either the alert of one rule on one
    monitor (``source == "rule"``), or an external alert pushed by an
    integration, unique per (integration, fingerprint). A re-fire of an
    external alert updates ``last_seen_at`` and ``occurrence_count``; each
    receipt is an ``AlertOccurrence``. The source owns an external alert's
    recovery: Beacon acknowledges it but never closes it.
    """

    source = models.CharField(max_length=16, choices=AlertSource.choices, default=AlertSource.RULE)
    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True
    )
    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True
    )
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.CASCADE,
        related_name="alerts",
        null=True,
        blank=True,
    )
    fingerprint = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(max_length=10000, blank=True, default="")
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True, default="")
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    service_name = models.CharField(max_length=200, blank=True, default="")
    environment = models.CharField(max_length=100, blank=True, default="")
    link = models.CharField(max_length=2000, blank=True, default="")
    labels = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    triggered_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    occurrence_count = models.PositiveIntegerField(default=1)
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
            models.UniqueConstraint(fields=["rule", "monitor"], name="one_alert_per_rule_monitor"),
            models.UniqueConstraint(
                fields=["integration", "fingerprint"],
                condition=Q(integration__isnull=False),
                name="one_alert_per_integration_fingerprint",
            ),
            models.CheckConstraint(
                condition=(
                    Q(source="rule", rule__isnull=False, monitor__isnull=False)
                    | (~Q(source="rule") & Q(integration__isnull=False))
                ),
                name="alert_rule_or_integration",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "status"]),
            models.Index(fields=["service", "status"]),
            models.Index(fields=["status", "last_seen_at"]),
        ]

    def __str__(self) -> str:
        if self.source == AlertSource.RULE:
            return f"{self.rule_id}/{self.monitor_id} {self.status}"
        return f"{self.source}:{self.fingerprint} {self.status}"


class AlertOccurrence(models.Model):
    """One receipt of an external alert (firing or resolved), as received:
    what ``GET /alerts/{id}/violations`` lists for external alerts."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="occurrences")
    delivery = models.ForeignKey(
        "integrations.InboundDelivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occurrences",
    )
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    received_at = models.DateTimeField()
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["alert", "received_at", "id"]
        indexes = [models.Index(fields=["alert", "received_at"])]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.status} @ {self.received_at}"


class AlertEvent(models.Model):
    """The alert log: each TRIGGERED and RESOLVED, with rule, monitor and incident."""

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    rule = models.ForeignKey(
        AlertRule, on_delete=models.CASCADE, related_name="events", null=True, blank=True
    )
    monitor = models.ForeignKey(
        Monitor, on_delete=models.CASCADE, related_name="alert_events", null=True, blank=True
    )
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
