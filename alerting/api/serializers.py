"""Alert rule, alert and alert log serializers.

``AlertRuleSerializer`` is the single validator of rule input:

* ``monitors``: monitor tags, each existing, none twice;
* ``value`` depends on ``kind`` (on a PATCH, the stored kind when it is not
  sent, and the stored value is re-checked when only ``kind`` changes):
  STATUS ``DOWN`` or ``DEGRADED``; LATENCY milliseconds above 0 (at most
  ``MAX_LATENCY_MS``); UPTIME a percentage from 0 to 100. Numbers (JSON
  numbers or numeric strings) are stored as text without trailing zeros:
  ``1000``, ``99.9``;
* thresholds are whole numbers from 1 to ``MAX_THRESHOLD``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerting import rule_services
from alerting.models import (
    Alert,
    AlertEvent,
    AlertOccurrence,
    AlertRule,
    AlertStatus,
    RuleKind,
    Severity,
)
from incidents.api.fields import MonitorTagsField, StrictModelSerializer
from monitors.models import CheckResult
from notifications.api.serializers import TriggerIdsField

MAX_THRESHOLD = 1000
MAX_LATENCY_MS = Decimal(3_600_000)
MAX_DECIMALS = 3
STATUS_VALUES = ("DOWN", "DEGRADED")


@extend_schema_field(OpenApiTypes.STR)
class RuleValueField(serializers.Field):
    """A string or a number in (judged with the kind in ``validate``), text out."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            raise serializers.ValidationError("Must be a string or a number.")
        if isinstance(data, str) and len(data) > 40:
            raise serializers.ValidationError("At most 40 characters.")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


class AlertRuleSerializer(StrictModelSerializer):
    """Create / read / update an alert rule."""

    monitors = MonitorTagsField(allow_empty=False)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    value = RuleValueField(
        help_text="STATUS: DOWN or DEGRADED; LATENCY: milliseconds > 0; UPTIME: percent 0-100. "
        "A string or a number; returned as text without trailing zeros."
    )
    failure_threshold = serializers.IntegerField(
        min_value=1, max_value=MAX_THRESHOLD, required=False, default=3
    )
    success_threshold = serializers.IntegerField(
        min_value=1, max_value=MAX_THRESHOLD, required=False, default=2
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, default=Severity.CRITICAL
    )
    create_incident = serializers.BooleanField(required=False, default=True)
    is_active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    triggers = TriggerIdsField(
        required=False, help_text="Ids of the triggers notified on TRIGGERED and RESOLVED."
    )

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "monitors",
            "kind",
            "value",
            "failure_threshold",
            "success_threshold",
            "severity",
            "create_incident",
            "is_active",
            "description",
            "triggers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: AlertRule | None = self.instance
        kind = attrs.get("kind", instance.kind if instance else None)
        if "value" in attrs or "kind" in attrs:
            raw = attrs.get("value", instance.value if instance else None)
            try:
                attrs["value"] = rule_services.normalise_value(kind, raw)
            except ValueError as exc:
                raise serializers.ValidationError({"value": [str(exc)]}) from exc
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    """An alert: of one rule on one monitor (``source`` ``rule``: ``rule`` and
    ``monitor`` set), or pushed by an integration (``source`` the vendor:
    ``integration``, ``fingerprint``, ``title``... set)."""

    monitor = serializers.SlugRelatedField(slug_field="tag", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    incident_key = serializers.SerializerMethodField()
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "source",
            "rule",
            "monitor",
            "integration",
            "fingerprint",
            "title",
            "description",
            "severity",
            "service",
            "service_name",
            "environment",
            "link",
            "labels",
            "status",
            "triggered_at",
            "resolved_at",
            "last_seen_at",
            "occurrence_count",
            "incident",
            "incident_key",
            "suppressed_by_maintenance",
            "post_resolution_watch_since",
            "acknowledged_at",
            "acknowledged_by",
            "updated_at",
        ]
        read_only_fields = fields

    def get_incident_key(self, alert: Alert) -> str | None:
        return alert.incident.key if alert.incident_id else None


class AlertOccurrenceSerializer(serializers.ModelSerializer):
    """One receipt of an external alert, as received."""

    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)

    class Meta:
        model = AlertOccurrence
        fields = ["id", "status", "received_at", "delivery", "raw"]
        read_only_fields = fields


class CheckViolationSerializer(serializers.ModelSerializer):
    """A failing check result of a rule alert's monitor."""

    class Meta:
        model = CheckResult
        fields = ["id", "status", "checked_at", "latency_ms", "message", "source"]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer):
    """One TRIGGERED or RESOLVED in the alert log (``source`` and ``title``
    are the alert's: external alerts have no rule or monitor)."""

    monitor = serializers.SlugRelatedField(slug_field="tag", read_only=True)
    source = serializers.CharField(source="alert.source", read_only=True)
    title = serializers.CharField(source="alert.title", read_only=True)
    incident_key = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)

    class Meta:
        model = AlertEvent
        fields = [
            "id",
            "alert",
            "source",
            "title",
            "rule",
            "monitor",
            "status",
            "at",
            "incident",
            "incident_key",
            "suppressed_by_maintenance",
            "message",
        ]
        read_only_fields = fields

    def get_incident_key(self, event: AlertEvent) -> str | None:
        return event.incident.key if event.incident_id else None
