"""Trigger and delivery serializers (API v1).

Triggers: the serializer checks JSON types only (unknown keys are a 400
under their own name); ``notifications.trigger_services`` judges the values,
the kind's config and the templates, and its errors come back as
``{"config": {"url": [...]}, "templates": {"body": [...]}}``. Secrets (a
webhook's ``secret`` and sensitive header values, Slack / Discord webhook
URLs, Apprise URLs) are write-only: they are returned masked, and a masked
value sent back keeps the stored one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.api.fields import StrictSerializer
from monitors.checks.fields import StrictBool, StrictStr
from notifications import trigger_services
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Trigger, TriggerKind

MAX_ID = 2**63 - 1
MAX_RULE_TRIGGERS = 50


@extend_schema_field(OpenApiTypes.OBJECT)
class ObjectField(serializers.JSONField):
    """Any JSON value in (the service judges it), an object out."""


class TriggerIdsField(serializers.ListField):
    """An alert rule's ``triggers``: ``[3, 5]`` in (whole numbers, none twice, all
    existing), ``[Trigger, Trigger]`` out; sorted ids when read."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_RULE_TRIGGERS)
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[Trigger]:
        if not isinstance(data, list):
            raise serializers.ValidationError("Must be a list of trigger ids.")
        ids: list[int] = super().to_internal_value(data)
        if any(isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= MAX_ID for i in ids):
            raise serializers.ValidationError("Trigger ids are whole numbers (without quotes).")
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise serializers.ValidationError(f"Listed more than once: {twice[:10]}.")
        found = Trigger.objects.in_bulk(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise serializers.ValidationError(f"No trigger has the id(s) {missing[:10]}.")
        return [found[i] for i in ids]

    def to_representation(self, data: Any) -> list[int]:
        return sorted(t.pk for t in data.all()) if hasattr(data, "all") else list(data)


class TriggerSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    name = StrictStr(max_length=1000, help_text="Unique, at most 100 characters.")
    kind = serializers.ChoiceField(choices=TriggerKind.choices)
    config = ObjectField(
        required=False,
        help_text="Kind-specific: webhook {url, method, headers, secret}; slack / discord "
        "{url}; email {recipients}; apprise {urls}. Secrets are returned masked.",
    )
    templates = ObjectField(
        required=False,
        help_text="Template name -> Mustache text (webhook/slack/discord: body; email: "
        "subject, html, text; apprise: title, body). Missing names use the kind's default.",
    )
    is_active = StrictBool(required=False, help_text="Inactive triggers never fire.")
    rules = serializers.SerializerMethodField(help_text="Ids of the alert rules using it.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_rules(self, trigger: Any) -> list[int]:
        return sorted(rule.pk for rule in trigger.rules.all())

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        try:
            data["config"] = trigger_services.notifier(instance.kind).mask_config(
                instance.config or {}
            )
        except KeyError:
            data["config"] = {}
        data["templates"] = dict(instance.templates or {})
        return data


class TestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    body = serializers.CharField(help_text="The first 2 KB of the receiver's answer.")
    error = serializers.CharField()
    duration_ms = serializers.FloatField()
    delivery_id = serializers.IntegerField()


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="notification.event", read_only=True)
    trigger_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "notification",
            "event",
            "trigger",
            "trigger_name",
            "subscriber",
            "channel",
            "target",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "created_at",
            "sent_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_trigger_name(self, delivery: Delivery) -> str | None:
        return delivery.trigger.name if delivery.trigger_id else None


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "number",
            "started_at",
            "duration_ms",
            "outcome",
            "status_code",
            "error",
            "response_body",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    tries = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "tries"]
        read_only_fields = fields
