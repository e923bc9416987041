"""Alerting API (v1): thin views over ``alerting.models`` and ``alerting.services``.

Routes (trailing slash optional):

* ``GET/POST /alert-rules`` (paginated), ``GET/PATCH/DELETE /alert-rules/{id}``:
  reads for viewers, changes for admins.
* ``GET /alerts?rule=&monitor=&status=&incident=&from=&to=&limit=``: newest
  first, a plain array bounded by ``limit``; ``GET /alerts/{id}``;
  ``POST /alerts/{id}/acknowledge`` (operator).
* ``GET /alert-events`` (same parameters, on ``at``): the alert log.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, OPERATOR, VIEWER
from alerting import rule_services, services
from alerting.models import Alert, AlertEvent, AlertRule
from incidents.api.fields import ApiViewMixin

from .filters import AlertQuerySerializer, filter_alerts, parameters
from .serializers import AlertEventSerializer, AlertRuleSerializer, AlertSerializer


class AlertRuleViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """Alert rules: when to raise an alert for each of their monitors."""

    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.prefetch_related("monitors").order_by("id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = ADMIN

    # Changes go through alerting.rule_services, like the console's.
    def perform_create(self, serializer: AlertRuleSerializer) -> None:
        serializer.instance = _call_rule_service(
            rule_services.create_rule,
            serializer.validated_data,
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_update(self, serializer: AlertRuleSerializer) -> None:
        serializer.instance = _call_rule_service(
            rule_services.update_rule,
            serializer.instance,
            serializer.validated_data,
            now=timezone.now(),
            actor=self.request.user,
        )

    def perform_destroy(self, instance: AlertRule) -> None:
        rule_services.delete_rule(instance, now=timezone.now(), actor=self.request.user)


def _call_rule_service(service: Any, *args: Any, **kwargs: Any) -> AlertRule:
    """Run a rule service, turning its ValidationError into the API's 400."""
    try:
        return service(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from exc


class _AlertListMixin:
    """The list of a limit-bounded, filtered, newest-first log."""

    time_field = "triggered_at"

    def list(self, request: Request) -> Response:
        query = AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = filter_alerts(self.get_queryset(), query.validated_data, self.time_field)  # type: ignore[attr-defined]
        return Response(self.get_serializer(rows, many=True).data)  # type: ignore[attr-defined]


class AlertViewSet(ApiViewMixin, _AlertListMixin, viewsets.ReadOnlyModelViewSet):
    """Alerts: one per (rule, monitor), with the current status."""

    serializer_class = AlertSerializer
    queryset = Alert.objects.select_related("monitor", "incident", "acknowledged_by").order_by(
        "-triggered_at", "-id"
    )
    pagination_class = None
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = OPERATOR

    @extend_schema(parameters=parameters("triggered_at"), summary="Alerts, newest first")
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(request=None, responses=AlertSerializer, summary="Acknowledge (operator)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        alert = services.acknowledge_alert(
            self.get_object(), now=timezone.now(), actor=request.user
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)


class AlertEventViewSet(
    ApiViewMixin, _AlertListMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """The alert log: every TRIGGERED and RESOLVED, newest first."""

    serializer_class = AlertEventSerializer
    queryset = AlertEvent.objects.select_related("monitor", "incident").order_by("-at", "-id")
    pagination_class = None
    filter_backends: list = []
    time_field = "at"
    read_role = VIEWER

    @extend_schema(parameters=parameters("at"), summary="The alert log, newest first")
    def list(self, request: Request) -> Response:
        return super().list(request)
