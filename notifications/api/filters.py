"""Query-string filters of the trigger and delivery lists, validated like bodies.

Deliveries: ``?status=&trigger=&event=&channel=&from=&to=`` (``from`` /
``to`` ISO 8601 on ``created_at``). Triggers: ``?kind=&is_active=``. A
malformed value, or a trigger that does not exist, is a 400 naming the
parameter. Paging is the API's usual ``page`` / ``page_size``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from monitors.api.query import QueryDateTimeField
from notifications.models import DeliveryStatus, Event, Trigger, TriggerKind

MAX_ID = 2**63 - 1


class DeliveryQuerySerializer(serializers.Serializer):
    """The parameters; ``from`` is a keyword, hence ``get_fields``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "status": serializers.ChoiceField(choices=DeliveryStatus.choices, required=False),
            "trigger": serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID),
            "event": serializers.ChoiceField(choices=Event.choices, required=False),
            "channel": serializers.CharField(required=False, max_length=16),
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
            "page": serializers.IntegerField(required=False, min_value=1),
            "page_size": serializers.IntegerField(required=False, min_value=1, max_value=500),
        }

    def validate_trigger(self, value: int) -> int:
        if not Trigger.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No trigger has this id.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


def filter_deliveries(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    lookups: dict[str, Any] = {}
    if params.get("status"):
        lookups["status"] = params["status"]
    if params.get("trigger"):
        lookups["trigger_id"] = params["trigger"]
    if params.get("event"):
        lookups["notification__event"] = params["event"]
    if params.get("channel"):
        lookups["channel"] = params["channel"]
    if params.get("from") is not None:
        lookups["created_at__gte"] = params["from"]
    if params.get("to") is not None:
        lookups["created_at__lte"] = params["to"]
    return queryset.filter(**lookups)


DELIVERY_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryStatus.values),
    OpenApiParameter("trigger", OpenApiTypes.INT, description="Trigger id."),
    OpenApiParameter("event", OpenApiTypes.STR, enum=Event.values),
    OpenApiParameter("channel", OpenApiTypes.STR, description="webhook, slack, email, ..."),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Created at or after."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Created at or before."),
]


class TriggerQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TriggerKind.choices, required=False)
    is_active = serializers.ChoiceField(choices=["true", "false"], required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


def filter_triggers(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    if params.get("kind"):
        queryset = queryset.filter(kind=params["kind"])
    if params.get("is_active"):
        queryset = queryset.filter(is_active=params["is_active"] == "true")
    return queryset


TRIGGER_PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=TriggerKind.values),
    OpenApiParameter("is_active", OpenApiTypes.STR, enum=["true", "false"]),
]
