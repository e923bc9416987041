"""Subscribers API (v1), the admin side (the public side is the subscribe form).

Routes (trailing slash optional), lookup by numeric id:

* ``GET /subscribers?kind=&status=&monitor=&q=`` (paginated, newest first;
  viewer): ``monitor`` a tag (who hears about it: its followers and the
  subscribers of everything), ``q`` a part of the address. A bad value is a
  400 naming the parameter.
* ``POST /subscribers`` (admin): ``{"kind": "email", "email": ...}`` adds a
  pending subscriber and sends the confirmation link (double opt-in holds
  for addresses an admin adds too); ``{"kind": "webhook", "url": ...}`` calls
  the URL once with a signed ``test`` event and adds it, confirmed, only if
  it answered 2xx (else a 400 on ``url`` saying why). The webhook's signing
  ``secret`` is in the 201 answer, once. Choices: ``all_monitors`` (default:
  true unless ``monitors`` is given), ``monitors`` (tags),
  ``notify_incidents`` / ``notify_maintenance`` (default true).
* ``GET /subscribers/{id}``, ``DELETE /subscribers/{id}`` (admin).

Everything goes through ``notifications.subscriber_services``; its
``SubscriberError`` becomes a 400 ``{field: [message]}``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, VIEWER
from incidents.api.fields import ApiViewMixin, MonitorTagsField, StrictSerializer, tag_field
from monitors.models import Monitor
from notifications import subscriber_services as services
from notifications.models import Subscriber, SubscriberKind, SubscriberStatus
from notifications.subscriber_services import Choices, SubscriberError


class SubscriberSerializer(serializers.ModelSerializer):
    """A subscriber as the API shows it (read-only; never its token)."""

    monitors = MonitorTagsField(read_only=True)

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "kind",
            "email",
            "url",
            "status",
            "all_monitors",
            "monitors",
            "notify_incidents",
            "notify_maintenance",
            "created_at",
            "confirmation_sent_at",
            "confirmed_at",
            "unsubscribed_at",
        ]
        read_only_fields = fields


class CreatedWebhookSerializer(SubscriberSerializer):
    """A new webhook subscriber, with its signing secret (shown once)."""

    secret = serializers.CharField(source="token", read_only=True)

    class Meta(SubscriberSerializer.Meta):
        fields = [*SubscriberSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriberCreateSerializer(StrictSerializer):
    """The body of ``POST /subscribers``."""

    kind = serializers.ChoiceField(choices=SubscriberKind.choices)
    email = serializers.CharField(max_length=services.MAX_EMAIL, required=False)
    url = serializers.CharField(max_length=services.MAX_URL, required=False)
    all_monitors = serializers.BooleanField(required=False)
    monitors = MonitorTagsField(required=False, max_length=services.MAX_MONITORS)
    notify_incidents = serializers.BooleanField(required=False, default=True)
    notify_maintenance = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        needed, other = ("email", "url") if kind == SubscriberKind.EMAIL else ("url", "email")
        if not attrs.get(needed, "").strip():
            raise serializers.ValidationError({needed: [f"Required for a {kind} subscriber."]})
        if other in attrs:
            raise serializers.ValidationError({other: [f"Not used by a {kind} subscriber."]})
        monitors = attrs.get("monitors") or []
        everything = attrs.get("all_monitors", not monitors)
        if everything and monitors:
            raise serializers.ValidationError(
                {"monitors": ["Leave empty when all_monitors is true."]}
            )
        attrs["all_monitors"] = everything
        return attrs


class SubscriberQuerySerializer(serializers.Serializer):
    """``?kind=&status=&monitor=&q=``."""

    kind = serializers.ChoiceField(choices=SubscriberKind.choices, required=False)
    status = serializers.ChoiceField(choices=SubscriberStatus.choices, required=False)
    monitor = tag_field(required=False)
    q = serializers.CharField(required=False, max_length=200)

    def validate_monitor(self, value: str) -> Monitor:
        monitor = Monitor.objects.filter(tag=value).first()
        if monitor is None:
            raise serializers.ValidationError("Unknown monitor tag.")
        return monitor


def filter_subscribers(queryset: QuerySet, params: dict[str, Any]) -> QuerySet:
    """``queryset`` narrowed by validated ``params``."""
    for name in ("kind", "status"):
        if name in params:
            queryset = queryset.filter(**{name: params[name]})
    if "monitor" in params:
        following = Subscriber.monitors.through.objects.filter(monitor=params["monitor"]).values(
            "subscriber_id"
        )
        queryset = queryset.filter(Q(all_monitors=True) | Q(pk__in=following))
    if params.get("q"):
        queryset = queryset.filter(Q(email__icontains=params["q"]) | Q(url__icontains=params["q"]))
    return queryset


PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=SubscriberKind.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=SubscriberStatus.values),
    OpenApiParameter(
        "monitor", OpenApiTypes.STR, description="Who hears about this monitor (tag)."
    ),
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of the email address or URL."),
]


@extend_schema_view(
    list=extend_schema(parameters=PARAMETERS, summary="Subscribers, newest first"),
    create=extend_schema(
        request=SubscriberCreateSerializer,
        responses={201: CreatedWebhookSerializer},
        summary="Add an email (pending) or webhook (verified) subscriber (admin)",
    ),
    destroy=extend_schema(summary="Remove a subscriber (admin)"),
)
class SubscriberViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Email and webhook subscribers of the status page."""

    serializer_class = SubscriberSerializer
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []
    read_role = VIEWER
    write_role = ADMIN

    def get_queryset(self) -> QuerySet[Subscriber]:
        return Subscriber.objects.prefetch_related("monitors").order_by("-created_at", "-id")

    def list(self, request: Request) -> Response:
        query = SubscriberQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = filter_subscribers(self.get_queryset(), query.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        body = SubscriberCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        choices = Choices(
            all_monitors=data["all_monitors"],
            monitors=data.get("monitors") or [],
            notify_incidents=data["notify_incidents"],
            notify_maintenance=data["notify_maintenance"],
        )
        address = data["email"] if data["kind"] == SubscriberKind.EMAIL else data["url"]
        try:
            subscriber = services.create_subscriber(
                data["kind"], address, choices, now=timezone.now(), actor=request.user
            )
        except SubscriberError as error:
            raise serializers.ValidationError(
                {error.field or "non_field_errors": [error.message]}
            ) from None
        subscriber = self.get_queryset().get(pk=subscriber.pk)
        shown = (
            CreatedWebhookSerializer
            if subscriber.kind == SubscriberKind.WEBHOOK
            else SubscriberSerializer
        )
        return Response(shown(subscriber).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Subscriber) -> None:
        services.remove(instance, now=timezone.now(), actor=self.request.user)
