"""Query-string filters of the incidents list, validated like bodies.

``?state=&source=&severity=&monitor=&service=&status=&assignee=&from=&to=&limit=``:
choices as in ``incidents.models``; ``monitor`` a monitor tag and ``service``
a service slug (unknown: 400); ``status`` is ``open`` (not resolved),
``acknowledged`` (open and acknowledged), ``unacknowledged`` (open, not
acknowledged), ``resolved``, or one of the states (any case); ``assignee``
a user id, a username, ``me`` (the caller) or ``none`` (unassigned; the two
words win over users so named); ``from`` /
``to`` ISO 8601 times compared with ``started_at``; ``limit`` (1..500) is the
page size. A bad value is a 400 naming the parameter. Pagination (``page``,
``page_size``) as everywhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from catalog.models import Service, slug_validator
from incidents.models import Severity, Source, State
from monitors.api.query import QueryDateTimeField
from monitors.models import Monitor

from .fields import tag_field

MAX_LIMIT = 500
UNASSIGNED = object()  # ``assignee=none``
# "resolved" is both a word and a state: listed once.
STATUSES = tuple(
    dict.fromkeys(
        ["open", "acknowledged", "unacknowledged", "resolved", *(s.lower() for s in State.values)]
    )
)


class IncidentQuerySerializer(serializers.Serializer):
    """The parameters; ``from`` is a keyword, hence ``get_fields``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "state": serializers.ChoiceField(choices=State.choices, required=False),
            "source": serializers.ChoiceField(choices=Source.choices, required=False),
            "severity": serializers.ChoiceField(choices=Severity.choices, required=False),
            "monitor": tag_field(required=False),
            "service": serializers.CharField(
                required=False, max_length=64, validators=[slug_validator]
            ),
            "status": serializers.CharField(required=False, max_length=20),
            "assignee": serializers.CharField(required=False, max_length=150),
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
            "limit": serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT),
        }

    def validate_service(self, value: str) -> Service:
        service = Service.objects.filter(slug=value).first()
        if service is None:
            raise serializers.ValidationError("Unknown service slug.")
        return service

    def validate_status(self, value: str) -> str:
        word = value.strip().lower()
        if word not in STATUSES:
            raise serializers.ValidationError(f"Must be one of {', '.join(STATUSES)}.")
        return word

    def validate_assignee(self, value: str) -> Any:
        word = value.strip()
        if word.lower() == "none":
            return UNASSIGNED
        if word.lower() == "me":
            request = self.context.get("request")
            user = getattr(request, "user", None)
            if user is None or not getattr(user, "pk", None):
                raise serializers.ValidationError("'me' needs a signed-in user.")
            return user
        users = get_user_model().objects
        found = (
            users.filter(pk=int(word)).first()
            if word.isascii() and word.isdigit() and len(word) < 19
            else None
        )
        found = found or users.filter(username=word).first()
        if found is None:
            raise serializers.ValidationError("No user has this id or username.")
        return found

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
    """``queryset`` narrowed by validated ``params`` (``limit`` is the view's)."""
    for name in ("state", "source", "severity"):
        if name in params:
            queryset = queryset.filter(**{name: params[name]})
    if "monitor" in params:
        queryset = queryset.filter(affected__monitor=params["monitor"])
    if "service" in params:
        queryset = queryset.filter(service_links__service=params["service"])
    status = params.get("status")
    if status == "open":
        queryset = queryset.exclude(state=State.RESOLVED)
    elif status == "acknowledged":
        queryset = queryset.exclude(state=State.RESOLVED).filter(acknowledged_at__isnull=False)
    elif status == "unacknowledged":
        queryset = queryset.exclude(state=State.RESOLVED).filter(acknowledged_at__isnull=True)
    elif status is not None:
        queryset = queryset.filter(state=status.upper())
    assignee = params.get("assignee")
    if assignee is UNASSIGNED:
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee is not None:
        queryset = queryset.filter(assignee=assignee)
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
    OpenApiParameter("service", OpenApiTypes.STR, description="Affected service slug."),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=list(STATUSES),
        description="open (not resolved), acknowledged, unacknowledged, resolved, or a state.",
    ),
    OpenApiParameter(
        "assignee",
        OpenApiTypes.STR,
        description="Owner: a user id, a username, me, or none (unassigned).",
    ),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1 to 500."),
    OpenApiParameter(
        "from", OpenApiTypes.DATETIME, description="Only incidents started at or after this time."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATETIME, description="Only incidents started at or before this time."
    ),
]
