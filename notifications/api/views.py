"""Triggers and deliveries API (v1): thin views over ``notifications.trigger_services``
and ``notifications.sending``.

Routes (trailing slash optional):

* ``GET/POST /triggers`` (paginated, ``?kind=&is_active=``),
  ``GET/PATCH/DELETE /triggers/{id}``: reads for viewers, changes for admins;
  ``POST /triggers/{id}/test`` (admin): a sample alert sent now, answering
  ``{ok, status_code, body, error, duration_ms, delivery_id}``.
* ``GET /deliveries?status=&trigger=&event=&channel=&from=&to=`` (paginated,
  newest first), ``GET /deliveries/{id}`` with ``tries`` (every attempt);
  ``POST /deliveries/{id}/retry`` (operator): 409 for a sent delivery or one
  being sent.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, OPERATOR, VIEWER
from incidents.api.fields import ApiViewMixin, Conflict
from notifications import sending, trigger_services
from notifications.models import Delivery, Trigger

from .filters import (
    DELIVERY_PARAMETERS,
    TRIGGER_PARAMETERS,
    DeliveryQuerySerializer,
    TriggerQuerySerializer,
    filter_deliveries,
    filter_triggers,
)
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    TestResultSerializer,
    TriggerSerializer,
)


def _call(service: Any, *args: Any, **kwargs: Any) -> Trigger:
    """Run a trigger service, turning ``TriggerInvalid`` into the API's 400."""
    try:
        return service(*args, **kwargs)
    except trigger_services.TriggerInvalid as exc:
        raise serializers.ValidationError(exc.errors) from exc


class TriggerViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """Triggers: where alert rules send their TRIGGERED / RESOLVED notifications."""

    serializer_class = TriggerSerializer
    queryset = Trigger.objects.prefetch_related("rules").order_by("name", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = ADMIN

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "list":
            query = TriggerQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            queryset = filter_triggers(queryset, query.validated_data)
        return queryset

    @extend_schema(parameters=TRIGGER_PARAMETERS, summary="Triggers, by name")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: TriggerSerializer) -> None:
        serializer.instance = _call(
            trigger_services.create_trigger,
            serializer.validated_data,
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_update(self, serializer: TriggerSerializer) -> None:
        serializer.instance = _call(
            trigger_services.update_trigger,
            serializer.instance,
            serializer.validated_data,
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_destroy(self, instance: Trigger) -> None:
        trigger_services.delete_trigger(instance, now=timezone.now(), actor=self.request.user)

    @extend_schema(
        request=None,
        responses=TestResultSerializer,
        summary="Send a sample alert now and return the receiver's answer (admin)",
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        result = trigger_services.send_test(self.get_object(), now=timezone.now())
        return Response(result.as_dict())


class DeliveryViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deliveries: every notification to every target, with each try."""

    queryset = Delivery.objects.select_related("notification", "trigger").order_by(
        "-created_at", "-id"
    )
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = OPERATOR

    def get_serializer_class(self) -> Any:
        return DeliverySerializer if self.action == "list" else DeliveryDetailSerializer

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "list":
            query = DeliveryQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            queryset = filter_deliveries(queryset, query.validated_data)
        else:
            queryset = queryset.prefetch_related("tries")
        return queryset

    @extend_schema(parameters=DELIVERY_PARAMETERS, summary="Deliveries, newest first")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={200: DeliveryDetailSerializer, 409: OpenApiResponse(description="Sent")},
        summary="Retry now (operator)",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        try:
            delivery = sending.retry_now(self.get_object(), now=timezone.now(), actor=request.user)
        except sending.DeliveryError as exc:
            raise Conflict(str(exc)) from None
        return Response(DeliveryDetailSerializer(self.get_queryset().get(pk=delivery.pk)).data)


__all__ = ["DeliveryViewSet", "TriggerViewSet"]
