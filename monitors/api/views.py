"""Monitors API (v1): thin views over ``monitors.services`` and ``monitors.selectors``.

Routes (trailing slash optional), lookup by ``tag``:

* ``GET/POST /monitors``: paginated list (``{count, next, previous, results}``)
  filtered by ``monitors.api.filters.MonitorFilter``; create (admin).
* ``GET/PUT/PATCH/DELETE /monitors/{tag}``: the monitor with its ``state``;
  changes need admin and go through the services.
* ``GET /monitors/{tag}/results?from=&to=&limit=``: raw results, newest first.
* ``GET /monitors/{tag}/daily?days=``: one item per UTC day from the rollups,
  oldest first, empty days included with zero counts.
* ``POST /monitors/{tag}/check`` (operator): run now; 201 ``{"result": {...},
  "detail": ...}`` or 200 ``{"result": null, "detail": ...}`` when the kind had
  nothing to record.
* ``POST /monitors/{tag}/pause`` and ``/resume`` (admin): the updated monitor.

Errors follow DRF: 400 ``{field: [messages]}`` for bad input (query parameters
are named the same way), ``{"detail": ...}`` for 401/403/404/405/413/415.
Bodies are JSON only (``BoundedJSONParser``).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, OPERATOR, VIEWER
from monitors import selectors, services
from monitors.models import Monitor

from .filters import MonitorFilter
from .parsers import BoundedJSONParser, too_large
from .query import DailyQuerySerializer, ResultsQuerySerializer
from .serializers import (
    CheckResultSerializer,
    DailySerializer,
    MonitorSerializer,
)

DUPLICATE_TAG = "A monitor with this tag already exists."


class CheckNowSerializer(serializers.Serializer):
    """Response of ``POST /monitors/{tag}/check``."""

    result = CheckResultSerializer(allow_null=True)
    detail = serializers.CharField()


RESULTS_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATETIME,
        description="Only results checked at or after this ISO 8601 time.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATETIME,
        description="Only results checked at or before this ISO 8601 time.",
    ),
    OpenApiParameter(
        "limit", OpenApiTypes.INT, description="How many results, 1 to 1000 (default 100)."
    ),
]
DAILY_PARAMETERS = [
    OpenApiParameter("days", OpenApiTypes.INT, description="How many days, 1 to 365 (default 90).")
]


class MonitorViewSet(viewsets.ModelViewSet):
    """Monitors: configuration, current state, history, and check / pause / resume."""

    serializer_class = MonitorSerializer
    lookup_field = "tag"
    lookup_value_regex = r"[a-z0-9_-]+"
    parser_classes = [BoundedJSONParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = MonitorFilter
    read_role = VIEWER
    write_role = ADMIN
    action_roles = {"check": OPERATOR}

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            exc = too_large()
        return super().handle_exception(exc)

    def get_queryset(self) -> QuerySet[Monitor]:
        return selectors.monitor_list()

    def filter_queryset(self, queryset: QuerySet[Monitor]) -> QuerySet[Monitor]:
        # Filters shape the list only; a detail URL names one monitor.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def perform_create(self, serializer: MonitorSerializer) -> None:
        try:
            serializer.instance = services.create_monitor(
                serializer.validated_data, now=timezone.now(), actor=self.request.user
            )
        except IntegrityError:
            # Two requests raced past the uniqueness check; the loser gets the 400.
            raise serializers.ValidationError({"tag": [DUPLICATE_TAG]}) from None

    def perform_update(self, serializer: MonitorSerializer) -> None:
        try:
            serializer.instance = services.update_monitor(
                serializer.instance,
                serializer.validated_data,
                now=timezone.now(),
                actor=self.request.user,
            )
        except IntegrityError:
            raise serializers.ValidationError({"tag": [DUPLICATE_TAG]}) from None

    def perform_destroy(self, instance: Monitor) -> None:
        services.delete_monitor(instance, now=timezone.now(), actor=self.request.user)

    @extend_schema(
        parameters=RESULTS_PARAMETERS,
        responses=CheckResultSerializer(many=True),
        summary="Raw check results, newest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def results(self, request: Request, tag: str | None = None) -> Response:
        monitor = self.get_object()
        query = ResultsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.recent_results(
            monitor,
            since=query.validated_data.get("from"),
            until=query.validated_data.get("to"),
            limit=query.validated_data["limit"],
        )
        return Response(CheckResultSerializer(rows, many=True).data)

    @extend_schema(
        parameters=DAILY_PARAMETERS,
        responses=DailySerializer(many=True),
        summary="Daily uptime and latency from the rollups, oldest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def daily(self, request: Request, tag: str | None = None) -> Response:
        monitor = self.get_object()
        query = DailyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        history = selectors.daily_history(
            monitor, days=query.validated_data["days"], today=timezone.now().date()
        )
        return Response(DailySerializer(history, many=True).data)

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(CheckNowSerializer, description="The recorded result."),
            200: OpenApiResponse(
                CheckNowSerializer, description="Nothing to record (result is null)."
            ),
        },
        summary="Run the check now (operator)",
    )
    @action(detail=True, methods=["post"])
    def check(self, request: Request, tag: str | None = None) -> Response:
        monitor = self.get_object()
        row = services.check_now(monitor, now=timezone.now())
        if row is None:
            return Response(
                {"result": None, "detail": "The check had nothing to record."},
                status=status.HTTP_200_OK,
            )
        return Response(
            {"result": CheckResultSerializer(row).data, "detail": "Checked."},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=MonitorSerializer, summary="Pause checks (admin)")
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, tag: str | None = None) -> Response:
        return self._set_active(False)

    @extend_schema(request=None, responses=MonitorSerializer, summary="Resume checks (admin)")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, tag: str | None = None) -> Response:
        return self._set_active(True)

    def _set_active(self, active: bool) -> Response:
        monitor = services.set_active(
            self.get_object(), active, now=timezone.now(), actor=self.request.user
        )
        return Response(self.get_serializer(monitor).data)
