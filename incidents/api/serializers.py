"""Incident, update, timeline and maintenance window serializers.

Input serializers only check shape (types, lengths, choices, known monitor
tags, no monitor twice); the rules of the lifecycle live in
``incidents.services`` and come back as ``IncidentError`` (see
``fields.service_errors``). Text fields refuse NUL and lone surrogate
characters (DRF's ``CharField``); unknown keys are refused by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.maintenance import is_active, parse_rrule
from incidents.models import (
    Classification,
    Impact,
    Incident,
    IncidentMonitor,
    IncidentUpdate,
    MaintenanceWindow,
    Severity,
    State,
    TimelineEntry,
)
from incidents.services import MAX_BODY, MAX_ESCALATION_TRIGGERS, MAX_NOTE
from monitors.checks.fields import StrictStr

from .fields import (
    MAX_MONITORS,
    MonitorTagsField,
    StrictSerializer,
    lookup_monitors,
    reject_duplicates,
    tag_field,
)

MAX_TITLE = 300
MAX_ID = 2**63 - 1
MAX_REASON = 300
MAX_RRULE = 500
# Occurrences more often than this would make every activity check walk a
# very long series; maintenance is never that frequent.
REFUSED_FREQUENCIES = ("SECONDLY", "MINUTELY")


# --- Incidents -----------------------------------------------------------------------


class AffectedMonitorSerializer(serializers.ModelSerializer):
    """A monitor affected by an incident."""

    tag = serializers.CharField(source="monitor.tag", read_only=True)
    impact = serializers.ChoiceField(choices=Impact.choices, read_only=True)

    class Meta:
        model = IncidentMonitor
        fields = ["tag", "impact", "impact_removed_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as the API shows it (read-only)."""

    key = serializers.CharField(read_only=True)
    monitors = AffectedMonitorSerializer(source="affected", many=True, read_only=True)
    alerts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    follow_up_of = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    alert_count = serializers.SerializerMethodField()
    active_alert_count = serializers.SerializerMethodField()
    affected_services = serializers.SerializerMethodField()
    primary_service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    merged_into = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "key",
            "title",
            "state",
            "status",
            "source",
            "severity",
            "started_at",
            "ended_at",
            "monitors",
            "alerts",
            "alert_count",
            "active_alert_count",
            "correlated_alert_count",
            "last_correlated_at",
            "affected_services",
            "primary_service",
            "merged_into",
            "investigation_status",
            "investigation",
            "investigated_at",
            "assignee",
            "assigned_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledge_note",
            "resolved_by",
            "resolution_classification",
            "resolve_note",
            "active_alert_count_at_resolution",
            "reopen_count",
            "last_reopened_at",
            "reopen_reason",
            "follow_up_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_follow_up_of(self, incident: Incident) -> str | None:
        """The key of the incident this one follows up, or null."""
        return incident.follow_up_of.key if incident.follow_up_of_id else None

    def get_status(self, incident: Incident) -> str:
        """``open``, ``acknowledged`` (open and acknowledged) or ``resolved``."""
        if incident.state == State.RESOLVED:
            return "resolved"
        return "acknowledged" if incident.acknowledged_at else "open"

    def get_alert_count(self, incident: Incident) -> int:
        """Alerts linked to the incident (rule and external)."""
        return len(incident.alerts.all())

    def get_active_alert_count(self, incident: Incident) -> int:
        """Linked alerts still TRIGGERED."""
        return sum(1 for a in incident.alerts.all() if a.status == "TRIGGERED")

    def get_affected_services(self, incident: Incident) -> list[str]:
        """Slugs of the services the incident affects, in the order they were linked."""
        return [link.service.slug for link in incident.service_links.all()]

    def get_merged_into(self, incident: Incident) -> str | None:
        """The key of the incident this one was merged into, or null."""
        return incident.merged_into.key if incident.merged_into_id else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "username": {"type": "string"}},
        }
    )
    def get_assignee(self, incident: Incident) -> dict[str, Any] | None:
        """Who owns the incident: ``{"id", "username"}``, or null."""
        if incident.assignee_id is None:
            return None
        return {"id": incident.assignee_id, "username": incident.assignee.get_username()}


class MonitorImpactSerializer(StrictSerializer):
    """``{"tag": "api", "impact": "DOWN"}``."""

    tag = tag_field()
    impact = serializers.ChoiceField(choices=Impact.choices)


class MonitorImpactsField(serializers.ListField):
    """A list of ``{tag, impact}``: tags known and not repeated; ``[(Monitor, impact)]`` out."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=MonitorImpactSerializer(), max_length=MAX_MONITORS, **kwargs)

    def to_internal_value(self, data: Any) -> list[tuple[Any, str]]:
        items: list[dict[str, str]] = super().to_internal_value(data)
        tags = [item["tag"] for item in items]
        reject_duplicates(tags)
        found = lookup_monitors(tags)
        return [(found[item["tag"]], item["impact"]) for item in items]


class IncidentCreateSerializer(StrictSerializer):
    """``POST /incidents``: the incident with its first update (``body``, Markdown)."""

    title = serializers.CharField(max_length=MAX_TITLE)
    state = serializers.ChoiceField(
        choices=State.choices, required=False, default=State.INVESTIGATING
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, default=Severity.CRITICAL
    )
    monitors = MonitorImpactsField(required=False, default=list)
    body = serializers.CharField(max_length=MAX_BODY)


class IncidentPatchSerializer(StrictSerializer):
    """``PATCH /incidents/{id}``: any of these; ``monitors`` replaces the affected list."""

    title = serializers.CharField(max_length=MAX_TITLE, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    started_at = serializers.DateTimeField(required=False)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    monitors = MonitorImpactsField(required=False)


class IncidentUpdateSerializer(StrictSerializer, serializers.ModelSerializer):
    """An update: ``body`` is Markdown, ``html`` its sanitised rendering."""

    state = serializers.ChoiceField(choices=State.choices)
    body = serializers.CharField(max_length=MAX_BODY)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentUpdate
        fields = ["id", "state", "body", "html", "created_at", "author"]
        read_only_fields = ["id", "html", "created_at", "author"]


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "type", "message", "actor", "data", "at"]
        read_only_fields = fields


class AcknowledgeSerializer(StrictSerializer):
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")


class ResolveSerializer(StrictSerializer):
    note = serializers.CharField(max_length=MAX_NOTE)
    classification = serializers.ChoiceField(choices=Classification.choices)


class ReopenSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=MAX_REASON)


MAX_USERNAME = 150  # Django's username length


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class UserRefField(serializers.Field):
    """A user id (``7``) or username (``"alice"``); the ``User`` out. Unknown
    users are refused here; whether one may own an incident is the service's."""

    default_error_messages = {
        "invalid": 'A user id (7), a username ("alice") or null.',
        "unknown": "No user has this id or username.",
    }

    def to_internal_value(self, data: Any) -> Any:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("unknown")
            found = users.filter(pk=data).first()
        else:
            text = data.strip()
            if not text or len(text) > MAX_USERNAME or "\x00" in text:
                self.fail("invalid" if not text or "\x00" in text else "unknown")
            found = users.filter(username=text).first()
        if found is None:
            self.fail("unknown")
        return found

    def to_representation(self, value: Any) -> Any:
        return value.pk if value is not None else None


class AssignSerializer(StrictSerializer):
    """``{"assignee": 7 | "alice" | null}``: the new owner, or null to unassign."""

    assignee = UserRefField(allow_null=True)


class EscalateSerializer(StrictSerializer):
    """``{"triggers": [ids], "note": "...", "severity": "CRITICAL"?}``."""

    triggers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_ESCALATION_TRIGGERS,
    )
    # A JSON string kept verbatim (numbers are not notes; spaces may be layout).
    note = StrictStr(max_length=MAX_NOTE, trim_whitespace=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_null=True)

    def validate_triggers(self, value: list[int]) -> list[Any]:
        from notifications.models import Trigger

        twice = sorted({i for i in value if value.count(i) > 1})
        if twice:
            raise serializers.ValidationError(
                f"Listed more than once: {', '.join(map(str, twice[:10]))}."
            )
        found = Trigger.objects.in_bulk(value)
        missing = [i for i in value if i not in found]
        if missing:
            raise serializers.ValidationError(
                f"Unknown trigger id(s): {', '.join(map(str, missing[:10]))}."
            )
        return [found[i] for i in value]


# --- Maintenance windows ---------------------------------------------------------


class MaintenanceWindowSerializer(StrictSerializer, serializers.ModelSerializer):
    """A maintenance window; ``description`` is Markdown, ``description_html`` its rendering.

    ``rrule`` is an iCal RRULE (``FREQ=WEEKLY;BYDAY=SU``, optionally prefixed
    ``RRULE:``) anchored at ``starts_at``; each occurrence lasts
    ``ends_at - starts_at``.
    """

    title = serializers.CharField(max_length=MAX_TITLE)
    description = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, default=""
    )
    rrule = serializers.CharField(
        max_length=MAX_RRULE, required=False, allow_blank=True, default=""
    )
    is_global = serializers.BooleanField(required=False, default=False)
    monitors = MonitorTagsField(required=False, default=list)
    is_active_now = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "title",
            "description",
            "description_html",
            "starts_at",
            "ends_at",
            "rrule",
            "is_global",
            "monitors",
            "is_active_now",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "description_html", "is_active_now", "created_at", "updated_at"]

    def get_is_active_now(self, window: MaintenanceWindow) -> bool:
        """True when the window (or one of its occurrences) covers the present moment."""
        return is_active(window, self.context.get("now") or timezone.now())

    def validate_rrule(self, value: str) -> str:
        text = value.strip()
        if any(ch < " " for ch in text):
            raise serializers.ValidationError("One RRULE line, without control characters.")
        return text

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: MaintenanceWindow | None = self.instance
        starts = attrs.get("starts_at", instance.starts_at if instance else None)
        ends = attrs.get("ends_at", instance.ends_at if instance else None)
        if starts is not None and ends is not None and ends <= starts:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        rrule = attrs.get("rrule", instance.rrule if instance else "")
        if rrule and ("rrule" in attrs or "starts_at" in attrs):
            problem = rrule_problem(rrule, starts)
            if problem:
                raise serializers.ValidationError({"rrule": [problem]})
        return attrs


def rrule_problem(text: str, starts_at: datetime) -> str | None:
    """Why ``text`` is not a usable RRULE anchored at ``starts_at``, or None."""
    from dateutil.rrule import rrule as RRule

    upper = text.upper()
    if "DTSTART" in upper or "RDATE" in upper or "EXDATE" in upper:
        return "Only the RRULE itself; the start is starts_at."
    if any(f"FREQ={freq}" in upper.replace(" ", "") for freq in REFUSED_FREQUENCIES):
        return "Occurrences more often than hourly are not supported."
    try:
        rule = parse_rrule(text, starts_at)
        if not isinstance(rule, RRule):
            return "Not a single RRULE."
        rule.after(starts_at, inc=True)
        rule.before(timezone.now(), inc=True)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError) as exc:
        return f"Not a valid RRULE: {str(exc)[:200]}"
    return None


# --- Correlation: merges and impacted services ----------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class IncidentRefField(serializers.Field):
    """An incident id (``42``) or key (``INC-000042``); the id out."""

    default_error_messages = {"invalid": "An incident id (42) or key (INC-000042)."}

    def to_internal_value(self, data: Any) -> int:
        from alerting.api.filters import parse_incident_ref

        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if len(data) > 30:
            self.fail("invalid")
        return parse_incident_ref(data)

    def to_representation(self, value: Any) -> Any:
        return value


class MergeAlertSerializer(StrictSerializer):
    """``{"alert": 17}``: the alert to move into this incident."""

    alert = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class MergeSerializer(StrictSerializer):
    """``{"into": 42}`` (or ``"INC-000042"``): the incident this one is folded into."""

    into = IncidentRefField()


class ServiceRefSerializer(StrictSerializer):
    """``{"service": "payments-db"}``: a service slug."""

    service = serializers.CharField(max_length=64)

    def validate_service(self, value: str) -> Any:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from catalog.models import Service, slug_validator

        try:
            slug_validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        service = Service.objects.filter(slug=value).first()
        if service is None:
            raise serializers.ValidationError(f"Unknown service slug: {value}.")
        return service


class IncidentServiceSerializer(serializers.Serializer):
    """A service an incident affects, why (``source``), and its neighbourhood:
    ``upstream`` (what it depends on, transitively) and ``downstream`` (what
    depends on it), each ``{slug, name, tier, depth}``."""

    slug = serializers.CharField(source="link.service.slug")
    name = serializers.CharField(source="link.service.name")
    tier = serializers.IntegerField(source="link.service.tier")
    source = serializers.CharField(source="link.source")
    added_at = serializers.DateTimeField(source="link.added_at")
    is_primary = serializers.BooleanField()
    upstream = serializers.ListField(child=serializers.DictField())
    downstream = serializers.ListField(child=serializers.DictField())
