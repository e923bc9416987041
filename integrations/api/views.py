"""Integrations API (v1): thin views over ``integrations.services``.

Routes (trailing slash optional), lookup by numeric id:

* ``GET/POST /integrations`` (paginated; ``?source=``), ``GET/PATCH/DELETE
  /integrations/{id}``, ``POST /integrations/{id}/rotate-token``: reads for
  viewers, changes for admins; each change is audited by the service.
* ``GET /deployments?service=&environment=&result=&integration=&from=&to=``
  (paginated, newest first), ``GET /deployments/{id}`` (with ``raw``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, VIEWER
from catalog.models import Service
from incidents.api.fields import ApiViewMixin
from integrations import services
from integrations.models import Deployment, DeploymentResult, Integration, SourceKind
from monitors.api.query import QueryDateTimeField

from .serializers import DeploymentDetailSerializer, DeploymentSerializer, IntegrationSerializer


def _service_call(service: Any, *args: Any, **kwargs: Any) -> Integration:
    """Run an integration service, turning its ValidationError into the API's 400."""
    try:
        return service(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from exc


class IntegrationQuerySerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=SourceKind.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("source", OpenApiTypes.STR, enum=SourceKind.values)],
        summary="Integrations, by name",
    ),
    create=extend_schema(summary="Create an integration (admin)"),
    partial_update=extend_schema(summary="Change an integration (admin)"),
    destroy=extend_schema(summary="Delete an integration with its alerts (admin)"),
)
class IntegrationViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """Integrations: other monitoring tools pushing alerts and deployments."""

    serializer_class = IntegrationSerializer
    queryset = Integration.objects.order_by("name", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = ADMIN

    def get_queryset(self) -> QuerySet[Integration]:
        qs = super().get_queryset()
        if self.action == "list":
            query = IntegrationQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            if "source" in query.validated_data:
                qs = qs.filter(source=query.validated_data["source"])
        return qs

    def perform_create(self, serializer: IntegrationSerializer) -> None:
        serializer.instance = _service_call(
            services.create_integration,
            dict(serializer.validated_data),
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_update(self, serializer: IntegrationSerializer) -> None:
        serializer.instance = _service_call(
            services.update_integration,
            serializer.instance,
            dict(serializer.validated_data),
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_destroy(self, instance: Integration) -> None:
        services.delete_integration(instance, now=timezone.now(), actor=self.request.user)

    @extend_schema(request=None, responses=IntegrationSerializer, summary="New token (admin)")
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request: Request, pk: str | None = None) -> Response:
        integration = services.rotate_token(
            self.get_object(), now=timezone.now(), actor=request.user
        )
        return Response(self.get_serializer(integration).data, status=status.HTTP_200_OK)


class DeploymentQuerySerializer(serializers.Serializer):
    """``?service=&environment=&result=&integration=&from=&to=``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "service": serializers.CharField(required=False, max_length=64),
            "environment": serializers.CharField(required=False, max_length=100),
            "result": serializers.ChoiceField(choices=DeploymentResult.choices, required=False),
            "integration": serializers.IntegerField(
                required=False, min_value=1, max_value=2**63 - 1
            ),
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
        }

    def validate_service(self, value: str) -> int:
        service = Service.objects.filter(slug=value.strip().lower()).first()
        if service is None:
            raise serializers.ValidationError("No service has this slug.")
        return service.pk

    def validate_integration(self, value: int) -> int:
        if not Integration.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No integration has this id.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


def _when(lookup: str, value: Any) -> Q:
    """On ``started_at``, or on ``received_at`` for deployments without a start."""
    return Q(**{f"started_at__{lookup}": value}) | Q(
        started_at__isnull=True, **{f"received_at__{lookup}": value}
    )


DEPLOYMENT_PARAMETERS = [
    OpenApiParameter("service", OpenApiTypes.STR, description="Service slug."),
    OpenApiParameter("environment", OpenApiTypes.STR, description="Environment, exact."),
    OpenApiParameter("result", OpenApiTypes.STR, enum=DeploymentResult.values),
    OpenApiParameter("integration", OpenApiTypes.INT, description="Integration id."),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Started at or after."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Started at or before."),
]


@extend_schema_view(
    list=extend_schema(parameters=DEPLOYMENT_PARAMETERS, summary="Deployments, newest first"),
)
class DeploymentViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deployments reported by Jenkins and CloudBees."""

    queryset = Deployment.objects.select_related("service", "integration").order_by(
        "-received_at", "-id"
    )
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER

    def get_serializer_class(self) -> type[DeploymentSerializer]:
        return DeploymentDetailSerializer if self.action == "retrieve" else DeploymentSerializer

    def get_queryset(self) -> QuerySet[Deployment]:
        qs = super().get_queryset()
        if self.action != "list":
            return qs
        query = DeploymentQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if "service" in params:
            qs = qs.filter(service_id=params["service"])
        if "environment" in params:
            qs = qs.filter(environment=params["environment"])
        if "result" in params:
            qs = qs.filter(result=params["result"])
        if "integration" in params:
            qs = qs.filter(integration_id=params["integration"])
        if params.get("from") is not None:
            qs = qs.filter(_when("gte", params["from"]))
        if params.get("to") is not None:
            qs = qs.filter(_when("lte", params["to"]))
        return qs
