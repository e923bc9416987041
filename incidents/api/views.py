"""Incidents API (v1): thin views over ``incidents.services`` and
``incidents.maintenance_services``.

Routes (trailing slash optional), lookup by numeric id:

* ``GET/POST /incidents`` (paginated, ``incidents.api.filters``): create is
  operator; ``GET/PATCH /incidents/{id}`` (PATCH operator), ``DELETE`` admin.
* ``GET/POST /incidents/{id}/updates`` (POST operator), ``GET .../timeline``.
* ``POST /incidents/{id}/acknowledge``, ``/resolve``, ``/reopen`` (operator).
* ``POST /incidents/{id}/assign`` ``{"assignee": id | "username" | null}`` and
  ``POST /incidents/{id}/escalate`` ``{"triggers": [ids], "note", "severity"?}``
  (operator; the escalation answers with the deliveries it created).
* ``GET /incidents/{id}/alerts``: its alerts (rule and external), oldest first.
* ``POST /incidents/{id}/merge-alert`` ``{"alert": id}`` and
  ``POST /incidents/{id}/merge`` ``{"into": id}`` (operator; ``incidents.merging``).
* ``GET/POST/DELETE /incidents/{id}/services`` (``{"service": slug}``) and
  ``DELETE /incidents/{id}/services/{slug}``: impacted services with their up-
  and downstream (changes: operator; ``incidents.links``).
* ``POST /incidents/{id}/investigate``: run the investigation again (operator).
* ``GET/POST /maintenance-windows`` (paginated), ``GET/PATCH/DELETE
  /maintenance-windows/{id}``: changes need admin.

Every change calls a service with ``now=timezone.now()`` and
``actor=request.user``; an ``IncidentError`` becomes a 400 ``{field: [message]}``
or a 409 ``{"detail": message}`` (``fields.service_errors``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from accounts.roles import ADMIN, OPERATOR, VIEWER
from alerting.api.serializers import AlertSerializer
from alerting.models import Alert
from catalog.models import Service, slug_validator
from catalog.selectors import load_graph
from incidents import investigation_services, links, maintenance_services, merging, services
from incidents.models import Incident, IncidentService, MaintenanceWindow
from notifications.api.serializers import DeliverySerializer

from .fields import ApiViewMixin, Conflict, service_errors
from .filters import PARAMETERS, IncidentQuerySerializer, filter_incidents
from .serializers import (
    AcknowledgeSerializer,
    AssignSerializer,
    EscalateSerializer,
    IncidentCreateSerializer,
    IncidentPatchSerializer,
    IncidentSerializer,
    IncidentServiceSerializer,
    IncidentUpdateSerializer,
    MaintenanceWindowSerializer,
    MergeAlertSerializer,
    MergeSerializer,
    ReopenSerializer,
    ResolveSerializer,
    ServiceRefSerializer,
    TimelineEntrySerializer,
)

EscalationSerializer = inline_serializer(
    "Escalation",
    {
        "incident": IncidentSerializer(),
        "timeline_entry": TimelineEntrySerializer(),
        "notification": drf_serializers.IntegerField(),
        "deliveries": DeliverySerializer(many=True),
    },
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
            "acknowledged_by",
            "resolved_by",
            "follow_up_of",
            "primary_service",
            "merged_into",
            "assignee",
        ).prefetch_related(
            "affected__monitor",
            Prefetch("alerts", queryset=Alert.objects.only("pk", "status", "incident_id")),
            Prefetch(
                "service_links",
                queryset=IncidentService.objects.select_related("service").order_by(
                    "added_at", "pk"
                ),
            ),
        )

    def _show(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data, code)

    def list(self, request: Request) -> Response:
        query = IncidentQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        rows = filter_incidents(self.get_queryset(), query.validated_data).distinct()
        if "limit" in query.validated_data and "page_size" not in request.query_params:
            self.paginator.page_size = query.validated_data["limit"]
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

    @extend_schema(
        request=AssignSerializer,
        responses={200: IncidentSerializer, 409: CONFLICT},
        summary="Assign to an operator or admin, or unassign with null (operator)",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(AssignSerializer, request)
        with service_errors():
            incident = services.assign(
                incident, assignee=data["assignee"], now=timezone.now(), actor=request.user
            )
        return self._show(incident)

    @extend_schema(
        request=EscalateSerializer,
        responses={200: EscalationSerializer, 409: CONFLICT},
        summary="Escalate: notify the chosen triggers, optionally raise the severity (operator)",
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(EscalateSerializer, request)
        with service_errors():
            result = services.escalate(
                incident,
                triggers=data["triggers"],
                note=data["note"],
                severity=data.get("severity"),
                now=timezone.now(),
                actor=request.user,
            )
        shown = self.get_queryset().get(pk=incident.pk)
        deliveries = result.notification.deliveries.select_related("notification", "trigger")
        return Response(
            {
                "incident": self.get_serializer(shown).data,
                "timeline_entry": TimelineEntrySerializer(result.entry).data,
                "notification": result.notification.pk,
                "deliveries": DeliverySerializer(deliveries.order_by("pk"), many=True).data,
            }
        )

    # --- correlation: alerts, merges, services, investigation --------------------------

    @extend_schema(
        responses=AlertSerializer(many=True),
        summary="The incident's alerts (rule and external), oldest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def alerts(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        rows = (
            Alert.objects.filter(incident=incident)
            .select_related("monitor", "incident", "acknowledged_by", "service")
            .order_by("triggered_at", "pk")
        )
        return Response(AlertSerializer(rows, many=True).data)

    @extend_schema(
        request=MergeAlertSerializer,
        responses={200: IncidentSerializer, 409: CONFLICT},
        summary="Move an alert into this incident (operator)",
    )
    @action(detail=True, methods=["post"], url_path="merge-alert")
    def merge_alert(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(MergeAlertSerializer, request)
        alert = Alert.objects.filter(pk=data["alert"]).first()
        if alert is None:
            raise ValidationError({"alert": ["No alert has this id."]})
        with service_errors():
            incident = merging.merge_alert(incident, alert, now=timezone.now(), actor=request.user)
        return self._show(incident)

    @extend_schema(
        request=MergeSerializer,
        responses={200: IncidentSerializer, 409: CONFLICT},
        summary="Merge this incident into another; returns the target (operator)",
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        data = _valid(MergeSerializer, request)
        target = Incident.objects.filter(pk=data["into"]).first()
        if target is None:
            raise ValidationError({"into": ["No incident has this id or key."]})
        with service_errors():
            target = merging.merge_incident(
                incident, target, now=timezone.now(), actor=request.user
            )
        return self._show(target)

    def _services(self, incident: Incident) -> Response:
        graph = load_graph()
        rows = list(
            IncidentService.objects.filter(incident=incident)
            .select_related("service")
            .order_by("added_at", "pk")
        )
        near: set[int] = set()
        walks = {}
        for link in rows:
            up, down = graph.upstream(link.service_id), graph.downstream(link.service_id)
            walks[link.service_id] = (up, down)
            near |= set(up) | set(down)
        names = {
            s.pk: s for s in Service.objects.filter(pk__in=near).only("pk", "slug", "name", "tier")
        }

        def listed(distances: dict[int, int]) -> list[dict[str, Any]]:
            found = [(d, names[pk]) for pk, d in distances.items() if pk in names]
            found.sort(key=lambda item: (item[0], item[1].name.lower(), item[1].pk))
            return [{"slug": s.slug, "name": s.name, "tier": s.tier, "depth": d} for d, s in found]

        items = [
            {
                "link": link,
                "is_primary": link.service_id == incident.primary_service_id,
                "upstream": listed(walks[link.service_id][0]),
                "downstream": listed(walks[link.service_id][1]),
            }
            for link in rows
        ]
        return Response(IncidentServiceSerializer(items, many=True).data)

    @extend_schema(
        methods=["GET"],
        responses=IncidentServiceSerializer(many=True),
        summary="Services the incident affects, with their up- and downstream",
    )
    @extend_schema(
        methods=["POST"],
        request=ServiceRefSerializer,
        responses={200: IncidentServiceSerializer(many=True), 409: CONFLICT},
        summary="Associate a service with the incident (operator)",
    )
    @extend_schema(
        methods=["DELETE"],
        request=ServiceRefSerializer,
        responses={200: IncidentServiceSerializer(many=True), 409: CONFLICT},
        summary="Dissociate a service from the incident (operator)",
    )
    @action(detail=True, methods=["get", "post", "delete"], pagination_class=None)
    def services(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        if request.method == "GET":
            return self._services(incident)
        service = _valid(ServiceRefSerializer, request)["service"]
        return self._change_services(request, incident, service)

    @extend_schema(
        request=None,
        responses={200: IncidentServiceSerializer(many=True), 409: CONFLICT},
        summary="Dissociate a service from the incident (operator)",
        operation_id="v1_incidents_services_remove",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"services/(?P<slug>[^/]+)",
        pagination_class=None,
    )
    def remove_service(self, request: Request, pk: str | None = None, slug: str = "") -> Response:
        incident = self.get_object()
        try:
            slug_validator(slug)
        except DjangoValidationError:
            raise ValidationError({"service": ["Not a service slug."]}) from None
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            raise ValidationError({"service": [f"Unknown service slug: {slug}."]})
        return self._change_services(request, incident, service)

    def _change_services(self, request: Request, incident: Incident, service: Service) -> Response:
        with service_errors():
            if request.method == "POST":
                links.add_services(incident, [service], now=timezone.now(), actor=request.user)
            else:
                removed = links.remove_services(
                    incident, [service], now=timezone.now(), actor=request.user
                )
                if not removed:
                    raise ValidationError(
                        {"service": [f"{service.slug} is not linked to this incident."]}
                    )
        incident.refresh_from_db()
        return self._services(incident)

    @extend_schema(
        request=None,
        responses={202: IncidentSerializer, 409: CONFLICT},
        summary="Run the automatic investigation again (operator)",
    )
    @action(detail=True, methods=["post"])
    def investigate(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        if not investigation_services.rerun(incident, now=timezone.now()):
            raise Conflict("The investigation is running; try again when it is done.")
        return self._show(incident, status.HTTP_202_ACCEPTED)


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
