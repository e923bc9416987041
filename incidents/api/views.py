"""Incidents API (v1): thin views over ``incidents.services`` and
``incidents.maintenance_services``.

Routes (trailing slash optional), lookup by numeric id:

* ``GET/POST /incidents`` (paginated, ``incidents.api.filters``): create is
  operator; ``GET/PATCH /incidents/{id}`` (PATCH operator), ``DELETE`` admin.
* ``GET/POST /incidents/{id}/updates`` (POST operator), ``GET .../timeline``.
* ``POST /incidents/{id}/acknowledge``, ``/resolve``, ``/reopen`` (operator).
* ``GET/POST /maintenance-windows`` (paginated), ``GET/PATCH/DELETE
  /maintenance-windows/{id}``: changes need admin.

Every change calls a service with ``now=timezone.now()`` and
``actor=request.user``; an ``IncidentError`` becomes a 400 ``{field: [message]}``
or a 409 ``{"detail": message}`` (``fields.service_errors``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from accounts.roles import ADMIN, OPERATOR, VIEWER
from incidents import maintenance_services, services
from incidents.models import Incident, MaintenanceWindow

from .fields import ApiViewMixin, service_errors
from .filters import PARAMETERS, IncidentQuerySerializer, filter_incidents
from .serializers import (
    AcknowledgeSerializer,
    IncidentCreateSerializer,
    IncidentPatchSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    MaintenanceWindowSerializer,
    ReopenSerializer,
    ResolveSerializer,
    TimelineEntrySerializer,
)

CONFLICT = OpenApiResponse(description="Not allowed in the incident's current state.")


def _valid(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_view(
    list=extend_schema(parameters=PARAMETERS, summary="Incidents, newest first"),
    create=extend_schema(
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer},
        summary="Open an incident (operator)",
    ),
    partial_update=extend_schema(
        request=IncidentPatchSerializer,
        responses=IncidentSerializer,
        summary="Edit title, severity, times, monitors (operator)",
    ),
    destroy=extend_schema(summary="Delete an incident (admin)"),
)
class IncidentViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents: their lifecycle, updates and timeline."""

    serializer_class = IncidentSerializer
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []
    read_role = VIEWER
    write_role = OPERATOR
    action_roles = {"destroy": ADMIN}

    def get_queryset(self) -> QuerySet[Incident]:
        return Incident.objects.select_related(
            "acknowledged_by", "resolved_by", "follow_up_of"
        ).prefetch_related("affected__monitor", "alerts")

    def _show(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data, code)

    def list(self, request: Request) -> Response:
        query = IncidentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = filter_incidents(self.get_queryset(), query.validated_data).distinct()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        data = _valid(IncidentCreateSerializer, request)
        with service_errors():
            incident = services.create_incident(**data, now=timezone.now(), actor=request.user)
        return self._show(incident, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        changes = _valid(IncidentPatchSerializer, request)
        with service_errors():
            incident = services.edit_incident(
                incident, changes, now=timezone.now(), actor=request.user
            )
        return self._show(incident)

    def perform_destroy(self, instance: Incident) -> None:
        services.delete_incident(instance, now=timezone.now(), actor=self.request.user)

    @extend_schema(
        methods=["GET"],
        responses=IncidentUpdateSerializer(many=True),
        summary="The incident's updates, newest first",
    )
    @extend_schema(
        methods=["POST"],
        request=IncidentUpdateSerializer,
        responses={201: IncidentUpdateSerializer},
        summary="Post an update; the incident takes its state (operator)",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def updates(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        if request.method == "GET":
            rows = incident.updates.select_related("author")
            return Response(IncidentUpdateSerializer(rows, many=True).data)
        data = _valid(IncidentUpdateSerializer, request)
        with service_errors():
            update = services.post_update(
                incident,
                state=data["state"],
                body=data["body"],
                now=timezone.now(),
                actor=request.user,
            )
        return Response(IncidentUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=TimelineEntrySerializer(many=True),
        summary="The incident's timeline, oldest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        rows = self.get_object().timeline.select_related("actor")
        return Response(TimelineEntrySerializer(rows, many=True).data)

    @extend_schema(
        request=AcknowledgeSerializer,
        responses=IncidentSerializer,
        summary="Acknowledge (operator)",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(AcknowledgeSerializer, request)
        with service_errors():
            incident = services.acknowledge(
                incident, note=data["note"], now=timezone.now(), actor=request.user
            )
        return self._show(incident)

    @extend_schema(
        request=ResolveSerializer,
        responses={200: IncidentSerializer, 409: CONFLICT},
        summary="Resolve with a note and a classification (operator)",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(ResolveSerializer, request)
        with service_errors():
            incident = services.resolve(
                incident,
                note=data["note"],
                classification=data["classification"],
                now=timezone.now(),
                actor=request.user,
            )
        return self._show(incident)

    @extend_schema(
        request=ReopenSerializer,
        responses={200: IncidentSerializer, 409: CONFLICT},
        summary="Reopen a resolved incident (operator)",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(ReopenSerializer, request)
        with service_errors():
            incident = services.reopen(
                incident, reason=data["reason"], now=timezone.now(), actor=request.user
            )
        return self._show(incident)


class MaintenanceWindowViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """Maintenance windows: while one is active, incidents are not opened for its monitors."""

    serializer_class = MaintenanceWindowSerializer
    queryset = MaintenanceWindow.objects.prefetch_related("monitors").order_by("-starts_at", "-id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []
    read_role = VIEWER
    write_role = ADMIN

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def perform_create(self, serializer: MaintenanceWindowSerializer) -> None:
        serializer.instance = maintenance_services.create_window(
            serializer.validated_data, now=timezone.now(), actor=self.request.user
        )

    def perform_update(self, serializer: MaintenanceWindowSerializer) -> None:
        serializer.instance = maintenance_services.update_window(
            serializer.instance,
            serializer.validated_data,
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_destroy(self, instance: MaintenanceWindow) -> None:
        maintenance_services.delete_window(instance, now=timezone.now(), actor=self.request.user)
