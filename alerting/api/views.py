"""Alerting API (v1): thin views over ``alerting.models`` and ``alerting.services``.

Routes (trailing slash optional):

* ``GET/POST /alert-rules`` (paginated), ``GET/PATCH/DELETE /alert-rules/{id}``:
  reads for viewers, changes for admins.
* ``GET /alerts?rule=&monitor=&status=&incident=&source=&integration=&service=
  &severity=&from=&to=&limit=``: newest first, a plain array bounded by
  ``limit``; ``GET /alerts/{id}``; ``GET /alerts/{id}/violations?limit=``
  (rule alerts: the monitor's failing check results since the alert
  triggered; external alerts: each received occurrence; newest first);
  ``POST /alerts/{id}/acknowledge`` (operator); ``POST /alerts/{id}/close``
  (operator): always 409, since Beacon never closes an alert by hand (the
  source owns an external alert's recovery; evaluation owns a rule alert's).
* ``GET /alert-events`` (same parameters, on ``at``): the alert log.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, OPERATOR, VIEWER
from alerting import rule_services, services
from alerting.models import Alert, AlertEvent, AlertRule, AlertSource
from incidents.api.fields import ApiViewMixin
from monitors.models import CheckResult, Status

from .filters import AlertQuerySerializer, ExternalAlertQuerySerializer, filter_alerts, parameters
from .serializers import (
    AlertEventSerializer,
    AlertOccurrenceSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    CheckViolationSerializer,
)


class AlertRuleViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """Alert rules: when to raise an alert for each of their monitors."""

    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.prefetch_related("monitors", "triggers").order_by("id")
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


DEFAULT_VIOLATIONS = 100
MAX_VIOLATIONS = 1000


class _AlertListMixin:
    """The list of a limit-bounded, filtered, newest-first log."""

    time_field = "triggered_at"
    query_serializer: type[AlertQuerySerializer] = AlertQuerySerializer

    def list(self, request: Request) -> Response:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = filter_alerts(self.get_queryset(), query.validated_data, self.time_field)  # type: ignore[attr-defined]
        return Response(self.get_serializer(rows, many=True).data)  # type: ignore[attr-defined]


class ViolationQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, default=DEFAULT_VIOLATIONS, min_value=1, max_value=MAX_VIOLATIONS
    )


class AlertViewSet(ApiViewMixin, _AlertListMixin, viewsets.ReadOnlyModelViewSet):
    """Alerts: one per (rule, monitor) or per (integration, fingerprint), with
    the current status."""

    serializer_class = AlertSerializer
    queryset = Alert.objects.select_related(
        "monitor", "incident", "acknowledged_by", "service"
    ).order_by("-triggered_at", "-id")
    pagination_class = None
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"
    read_role = VIEWER
    write_role = OPERATOR
    query_serializer = ExternalAlertQuerySerializer

    @extend_schema(
        parameters=parameters("triggered_at", external=True), summary="Alerts, newest first"
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="How many, 1 to 1000 (default 100)."
            )
        ],
        responses=OpenApiTypes.OBJECT,
        summary="Failing check results (rule alert) or received occurrences (external alert)",
    )
    @action(detail=True, methods=["get"])
    def violations(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        query = ViolationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        if alert.source == AlertSource.RULE:
            rows = CheckResult.objects.filter(
                monitor_id=alert.monitor_id, checked_at__gte=alert.triggered_at
            ).exclude(status=Status.UP)
            if alert.resolved_at is not None:
                rows = rows.filter(checked_at__lte=alert.resolved_at)
            rows = rows.order_by("-checked_at", "-id")[:limit]
            data = CheckViolationSerializer(rows, many=True).data
            kind = "check_results"
        else:
            occurrences = alert.occurrences.order_by("-received_at", "-id")[:limit]
            data = AlertOccurrenceSerializer(occurrences, many=True).data
            kind = "occurrences"
        return Response({"alert": alert.pk, "source": alert.source, "kind": kind, "results": data})

    @extend_schema(
        request=None,
        responses={409: OpenApiTypes.OBJECT},
        summary="Close by hand: refused (409), the source or evaluation owns recovery",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        if alert.source == AlertSource.RULE:
            message = (
                "A rule alert cannot be closed by hand: alert evaluation resolves it when "
                "the monitor recovers (resolve its incident instead)."
            )
        else:
            message = (
                f"The source owns recovery: this {alert.get_source_display()} alert closes "
                "when the source sends a resolve"
                + (
                    f" or after {alert.integration.quiet_resolve_minutes} quiet minutes."
                    if alert.integration and alert.integration.quiet_resolve_minutes
                    else "."
                )
                + " Acknowledge it instead."
            )
        return Response({"detail": message}, status=status.HTTP_409_CONFLICT)

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
    queryset = AlertEvent.objects.select_related("monitor", "incident", "alert").order_by(
        "-at", "-id"
    )
    pagination_class = None
    filter_backends: list = []
    time_field = "at"
    read_role = VIEWER

    @extend_schema(parameters=parameters("at"), summary="The alert log, newest first")
    def list(self, request: Request) -> Response:
        return super().list(request)
