"""Query-string filters of the alert and alert log lists, validated like bodies.

``?rule=&monitor=&status=&incident=&from=&to=&limit=``: ``rule`` an alert
rule id, ``monitor`` a monitor tag, ``status`` TRIGGERED or RESOLVED,
``incident`` an incident id or key (``INC-000001``), ``from`` / ``to`` ISO
8601 times (on ``triggered_at`` for alerts, on ``at`` for the log), ``limit``
1..1000 (default 100). Alerts also take ``source`` (``rule`` or a vendor:
``grafana``...), ``integration`` (id), ``service`` (catalogue slug) and
``severity`` (CRITICAL, WARNING, INFO; case-insensitive). A malformed value,
or a rule, monitor, incident, integration or service that does not exist, is
a 400 naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from alerting.models import AlertRule, AlertSource, AlertStatus
from catalog.models import Service
from incidents.api.fields import tag_field
from incidents.models import Incident, Severity
from monitors.api.query import QueryDateTimeField
from monitors.models import Monitor

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_ID = 2**63 - 1
_KEY = re.compile(r"^(?:INC-)?0*(\d{1,18})$", re.IGNORECASE)


def parse_incident_ref(value: str) -> int:
    """The incident id of ``42`` or ``INC-000042``; ``ValidationError`` otherwise."""
    match = _KEY.match(value.strip())
    if not match or int(match.group(1)) < 1:
        raise serializers.ValidationError("An incident id (42) or key (INC-000042).")
    return int(match.group(1))


class AlertQuerySerializer(serializers.Serializer):
    """The parameters; ``from`` is a keyword, hence ``get_fields``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "rule": serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID),
            "monitor": tag_field(required=False),
            "status": serializers.ChoiceField(choices=AlertStatus.choices, required=False),
            "incident": serializers.CharField(required=False, max_length=30),
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
            "limit": serializers.IntegerField(
                required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT
            ),
        }

    def validate_rule(self, value: int) -> int:
        if not AlertRule.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No alert rule has this id.")
        return value

    def validate_monitor(self, value: str) -> Monitor:
        monitor = Monitor.objects.filter(tag=value).first()
        if monitor is None:
            raise serializers.ValidationError("Unknown monitor tag.")
        return monitor

    def validate_incident(self, value: str) -> int:
        pk = parse_incident_ref(value)
        if not Incident.objects.filter(pk=pk).exists():
            raise serializers.ValidationError("No incident has this id or key.")
        return pk

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


class _UpperChoiceField(serializers.ChoiceField):
    """A choice given in any case (``critical`` or ``CRITICAL``)."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class ExternalAlertQuerySerializer(AlertQuerySerializer):
    """The alert list's parameters: the log's plus source, integration,
    service and severity."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **super().get_fields(),
            "source": serializers.ChoiceField(choices=AlertSource.choices, required=False),
            "integration": serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID),
            "service": serializers.CharField(required=False, max_length=64),
            "severity": _UpperChoiceField(choices=Severity.choices, required=False),
        }

    def validate_integration(self, value: int) -> int:
        from integrations.models import Integration

        if not Integration.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No integration has this id.")
        return value

    def validate_service(self, value: str) -> int:
        service = Service.objects.filter(slug=value.strip().lower()).first()
        if service is None:
            raise serializers.ValidationError("No service has this slug.")
        return service.pk


def filter_alerts(queryset: QuerySet, params: dict[str, Any], time_field: str) -> QuerySet:
    """``queryset`` narrowed by validated ``params``, cut to ``limit`` rows."""
    lookups: dict[str, Any] = {}
    if "rule" in params:
        lookups["rule_id"] = params["rule"]
    if "monitor" in params:
        lookups["monitor"] = params["monitor"]
    if "status" in params:
        lookups["status"] = params["status"]
    if "incident" in params:
        lookups["incident_id"] = params["incident"]
    if "source" in params:
        lookups["source"] = params["source"]
    if "integration" in params:
        lookups["integration_id"] = params["integration"]
    if "service" in params:
        lookups["service_id"] = params["service"]
    if "severity" in params:
        lookups["severity"] = params["severity"]
    if params.get("from") is not None:
        lookups[f"{time_field}__gte"] = params["from"]
    if params.get("to") is not None:
        lookups[f"{time_field}__lte"] = params["to"]
    return queryset.filter(**lookups)[: params["limit"]]


def parameters(time_field: str, *, external: bool = False) -> list[OpenApiParameter]:
    """The OpenAPI description of the parameters (``external``: the alert list's)."""
    extra = [
        OpenApiParameter(
            "source", OpenApiTypes.STR, enum=AlertSource.values, description="rule or a vendor."
        ),
        OpenApiParameter("integration", OpenApiTypes.INT, description="Integration id."),
        OpenApiParameter("service", OpenApiTypes.STR, description="Service slug."),
        OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values),
    ]
    return (extra if external else []) + [
        OpenApiParameter("rule", OpenApiTypes.INT, description="Alert rule id."),
        OpenApiParameter("monitor", OpenApiTypes.STR, description="Monitor tag."),
        OpenApiParameter(
            "status", OpenApiTypes.STR, enum=AlertStatus.values, description="Alert status."
        ),
        OpenApiParameter(
            "incident", OpenApiTypes.STR, description="Incident id (42) or key (INC-000042)."
        ),
        OpenApiParameter(
            "from", OpenApiTypes.DATETIME, description=f"Only {time_field} at or after this time."
        ),
        OpenApiParameter(
            "to", OpenApiTypes.DATETIME, description=f"Only {time_field} at or before this time."
        ),
        OpenApiParameter(
            "limit", OpenApiTypes.INT, description="How many, 1 to 1000 (default 100)."
        ),
    ]
