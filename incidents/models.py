"""Incidents, their updates, affected monitors, timeline, and maintenance windows.

An incident's state follows its latest update; every change to an incident
writes a ``TimelineEntry`` in the same transaction (see ``incidents.services``).
Update bodies are Markdown, rendered once to sanitised HTML and stored beside
the source (``incidents.markdown``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from monitors.models import Monitor


class State(models.TextChoices):
    INVESTIGATING = "INVESTIGATING", "Investigating"
    IDENTIFIED = "IDENTIFIED", "Identified"
    MONITORING = "MONITORING", "Monitoring"
    RESOLVED = "RESOLVED", "Resolved"


class Source(models.TextChoices):
    ALERT = "ALERT", "Alert rule"
    DASHBOARD = "DASHBOARD", "Console / API"
    INTEGRATION = "INTEGRATION", "Integration"


class Severity(models.TextChoices):
    CRITICAL = "CRITICAL", "Critical"
    WARNING = "WARNING", "Warning"
    INFO = "INFO", "Info"


#: How severe each severity is: a higher rank is more severe. The one order
#: used everywhere (escalations, correlation, integration thresholds).
SEVERITY_RANK: dict[str, int] = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}


class Impact(models.TextChoices):
    DOWN = "DOWN", "Down"
    DEGRADED = "DEGRADED", "Degraded"
    MAINTENANCE = "MAINTENANCE", "Maintenance"


class Classification(models.TextChoices):
    RESOLVED = "Resolved", "Resolved"
    NO_IMPACT = "NoImpact", "No impact"
    FALSE_POSITIVE = "FalsePositive", "False positive"
    DUPLICATE = "Duplicate", "Duplicate"
    MAINTENANCE = "Maintenance", "Maintenance"
    ACCEPTED_RISK = "AcceptedRisk", "Accepted risk"
    TRANSFERRED = "Transferred", "Transferred"


class InvestigationStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class Incident(models.Model):
    """One operational problem. ``key`` (INC-000001) is stable and derived from the id."""

    title = models.CharField(max_length=300)
    state = models.CharField(max_length=16, choices=State.choices, default=State.INVESTIGATING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.DASHBOARD)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledge_note = models.TextField(blank=True, default="", max_length=5000)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolve_note = models.TextField(blank=True, default="", max_length=5000)
    resolution_classification = models.CharField(
        max_length=16, choices=Classification.choices, blank=True, default=""
    )
    active_alert_count_at_resolution = models.PositiveIntegerField(null=True, blank=True)
    # Who owns the incident now (an active operator or admin); see services.assign.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_incidents",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    last_reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(max_length=300, blank=True, default="")
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    monitors = models.ManyToManyField(Monitor, through="IncidentMonitor", related_name="incidents")
    # Correlation (alerts from rules and integrations folded into one incident).
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_incidents"
    )
    services = models.ManyToManyField(
        "catalog.Service", through="IncidentService", related_name="incidents", blank=True
    )
    primary_service = models.ForeignKey(
        "catalog.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    correlated_alert_count = models.PositiveIntegerField(default=0)
    last_correlated_at = models.DateTimeField(null=True, blank=True)
    # Automatic investigation: facts gathered by a worker, as Markdown (+ sanitised HTML).
    investigation_status = models.CharField(
        max_length=8, choices=InvestigationStatus.choices, default=InvestigationStatus.IDLE
    )
    investigation = models.TextField(blank=True, default="")
    investigation_html = models.TextField(blank=True, default="")
    investigated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-started_at"], name="incident_state_start"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"INC-{self.pk:06d}" if self.pk else "INC-new"

    @property
    def is_resolved(self) -> bool:
        return self.state == State.RESOLVED


class IncidentMonitor(models.Model):
    """A monitor affected by an incident, with its impact."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="+")
    impact = models.CharField(max_length=12, choices=Impact.choices)
    # Set when the impact ended (the alert resolved): the row stays for history.
    impact_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "monitor"], name="incident_monitor_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}/{self.monitor_id}: {self.impact}"


class IncidentService(models.Model):
    """A service an incident affects: from a correlated alert, a monitor's
    service, or an operator's association (``source``)."""

    class Source(models.TextChoices):
        ALERT = "alert", "Alert"
        MONITOR = "monitor", "Monitor"
        MANUAL = "manual", "Operator"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="service_links")
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "service"], name="incident_service_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} / {self.service_id}"


class IncidentUpdate(models.Model):
    """A Markdown update; ``html`` is its sanitised rendering, made once on save."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=16, choices=State.choices)
    body = models.TextField(max_length=20000)
    html = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.state} @ {self.created_at}"


class TimelineEntry(models.Model):
    """One event in an incident's life, written with the change it records."""

    class Type(models.TextChoices):
        CREATED = "Created", "Created"
        UPDATE_POSTED = "UpdatePosted", "Update posted"
        EDITED = "Edited", "Edited"
        ACKNOWLEDGED = "Acknowledged", "Acknowledged"
        RESOLVED = "Resolved", "Resolved"
        REOPENED = "Reopened", "Reopened"
        FOLLOW_UP_CREATED = "FollowUpCreated", "Follow-up created"
        ALERT_TRIGGERED = "AlertTriggered", "Alert triggered"
        ALERT_RESOLVED = "AlertResolved", "Alert resolved"
        MONITOR_ADDED = "MonitorAdded", "Monitor added"
        MONITOR_REMOVED = "MonitorRemoved", "Monitor removed"
        ALERT_CORRELATED = "AlertCorrelated", "Alert correlated"
        ALERT_MERGED = "AlertMerged", "Alert merged"
        MERGED_INTO = "MergedInto", "Merged into another incident"
        INCIDENT_MERGED = "IncidentMerged", "Incident merged in"
        SERVICES_CHANGED = "ServicesChanged", "Services changed"
        INVESTIGATION = "Investigation", "Investigation updated"
        ASSIGNED = "Assigned", "Assigned"
        ESCALATED = "Escalated", "Escalated"

    id = models.BigAutoField(primary_key=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    type = models.CharField(max_length=20, choices=Type.choices)
    message = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.type} @ {self.at}"


class MaintenanceWindow(models.Model):
    """A planned window, once or recurring (iCal RRULE), global or for chosen monitors.

    While one is active, checks run and alerts are recorded, but incident
    creation and notifications are suppressed for the monitors it covers.
    """

    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="", max_length=20000)
    description_html = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    rrule = models.CharField(max_length=500, blank=True, default="")
    is_global = models.BooleanField(default=False)
    monitors = models.ManyToManyField(Monitor, blank=True, related_name="maintenance_windows")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="mw_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title
