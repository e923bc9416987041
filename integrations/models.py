"""Integrations: other monitoring tools pushing alerts and deployments to Beacon.

An ``Integration`` is one configured source (its URL carries the token); each
accepted request is an ``InboundDelivery`` (unique per integration and
delivery key, so a replay changes nothing); alerts it carries are upserted
into ``alerting.Alert`` by (integration, fingerprint), each receipt kept as an
``alerting.AlertOccurrence``; Jenkins / CloudBees requests become
``Deployment`` rows.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from alerting.models import AlertSource
from catalog.models import Service


def new_token() -> str:
    """The integration's URL token: unguessable, URL-safe."""
    return secrets.token_urlsafe(32)


#: The vendors an integration can be for: every alert source but Beacon's own
#: rules (one list, kept in ``alerting.models.AlertSource``).
SourceKind = models.TextChoices(  # type: ignore[misc]
    "SourceKind",
    [(source.name, (source.value, source.label)) for source in AlertSource if source != "rule"],
)


class MinSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical only"
    WARNING = "warning", "Warning and above"
    INFO = "info", "Everything"


class Integration(models.Model):
    """One configured source. ``min_severity``: the lowest alert severity that
    may open an incident (lower ones are stored and can still join one).
    ``quiet_resolve_minutes``: close alerts not seen for this long (0 = only
    when the source says resolved; sources that never send a resolve need it).
    """

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=16, choices=SourceKind.choices)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    secret = models.CharField(max_length=500, blank=True, default="")
    quiet_resolve_minutes = models.PositiveIntegerField(default=0)
    min_severity = models.CharField(
        max_length=8, choices=MinSeverity.choices, default=MinSeverity.WARNING
    )
    failed_deployment_opens_alert = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InboundDelivery(models.Model):
    """One accepted request. ``key`` is the vendor's delivery id when it sends
    one, else a digest of the body: the same key again is a replay."""

    id = models.BigAutoField(primary_key=True)
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.CharField(max_length=200)
    received_at = models.DateTimeField(db_index=True)
    is_test = models.BooleanField(default=False)
    alert_count = models.PositiveIntegerField(default=0)
    deployment_count = models.PositiveIntegerField(default=0)
    # What the console shows beside the delivery (e.g. Netdata's verification token).
    note = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "key"], name="delivery_key_once")
        ]
        indexes = [models.Index(fields=["integration", "-received_at"], name="delivery_recent")]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.key}"


class DeploymentResult(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    UNSTABLE = "unstable", "Unstable"
    ABORTED = "aborted", "Aborted"
    RUNNING = "running", "Running"


class Deployment(models.Model):
    """A deployment reported by CI/CD (Jenkins, CloudBees): evidence for the
    automatic investigation, and an alert when it failed and the integration
    says so."""

    id = models.BigAutoField(primary_key=True)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    source = models.CharField(max_length=16, choices=SourceKind.choices)
    external_id = models.CharField(max_length=200)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    service_name = models.CharField(max_length=200, blank=True, default="")
    environment = models.CharField(max_length=100, blank=True, default="")
    version = models.CharField(max_length=200, blank=True, default="")
    result = models.CharField(max_length=10, choices=DeploymentResult.choices)
    url = models.CharField(max_length=2000, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(db_index=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"],
                condition=Q(integration__isnull=False),
                name="deployment_once_per_integration",
            )
        ]
        indexes = [models.Index(fields=["service", "received_at"])]

    def __str__(self) -> str:
        return f"{self.service_name} {self.version} {self.result}"
