"""Query-string filters of the incidents list, validated like bodies.

``?state=&source=&severity=&monitor=&from=&to=``: choices as in
``incidents.models``; ``monitor`` a monitor tag (unknown: 400); ``from`` /
``to`` ISO 8601 times compared with ``started_at``. A bad value is a 400
naming the parameter. Pagination (``page``, ``page_size``) as everywhere.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from incidents.models import Severity, Source, State
from monitors.api.query import QueryDateTimeField
from monitors.models import Monitor

from .fields import tag_field


class IncidentQuerySerializer(serializers.Serializer):
    """The parameters; ``from`` is a keyword, hence ``get_fields``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "state": serializers.ChoiceField(choices=State.choices, required=False),
            "source": serializers.ChoiceField(choices=Source.choices, required=False),
            "severity": serializers.ChoiceField(choices=Severity.choices, required=False),
            "monitor": tag_field(required=False),
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
        }

    def validate_monitor(self, value: str) -> Monitor:
        monitor = Monitor.objects.filter(tag=value).first()
        if monitor is None:
            raise serializers.ValidationError("Unknown monitor tag.")
        return monitor

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


def filter_incidents(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    """``queryset`` narrowed by validated ``params``."""
    for name in ("state", "source", "severity"):
        if name in params:
            queryset = queryset.filter(**{name: params[name]})
    if "monitor" in params:
        queryset = queryset.filter(affected__monitor=params["monitor"])
    if params.get("from") is not None:
        queryset = queryset.filter(started_at__gte=params["from"])
    if params.get("to") is not None:
        queryset = queryset.filter(started_at__lte=params["to"])
    return queryset


PARAMETERS = [
    OpenApiParameter("state", OpenApiTypes.STR, enum=State.values, description="Incident state."),
    OpenApiParameter("source", OpenApiTypes.STR, enum=Source.values, description="Who opened it."),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values, description="Severity."),
    OpenApiParameter("monitor", OpenApiTypes.STR, description="Affected monitor tag."),
    OpenApiParameter(
        "from", OpenApiTypes.DATETIME, description="Only incidents started at or after this time."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATETIME, description="Only incidents started at or before this time."
    ),
]
