"""Service catalogue API (v1): thin views over ``catalog.services``.

Routes (trailing slash optional), lookup by slug:

* ``GET/POST /services`` (paginated; ``?q=`` searches name, slug, owner and
  aliases, ``?tier=1..4``): reads for viewers, changes for admins;
* ``GET/PATCH/DELETE /services/{slug}``;
* ``GET /services/{slug}/graph``: the services up- and downstream of it.

A ``CatalogError`` becomes a 400 ``{field: [message]}`` (or a 409 when it
names no field).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import ADMIN, VIEWER
from catalog import services
from catalog.models import Service, Tier
from catalog.selectors import related
from catalog.services import CatalogError
from incidents.api.fields import ApiViewMixin, Conflict
from monitors.models import Monitor

from .serializers import ServiceGraphSerializer, ServiceSerializer

SLUG_REGEX = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"


@contextmanager
def catalog_errors() -> Iterator[None]:
    """Map ``CatalogError`` raised inside the block to a 400 or a 409."""
    try:
        yield
    except CatalogError as exc:
        if exc.field is None:
            raise Conflict(exc.message) from None
        raise serializers.ValidationError({exc.field: [exc.message]}) from None


class ServiceQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=200, allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search name, slug, owner, alias."),
            OpenApiParameter("tier", OpenApiTypes.INT, enum=Tier.values, description="Tier."),
        ],
        summary="Services of the catalogue, by name",
    ),
    create=extend_schema(summary="Add a service (admin)"),
    partial_update=extend_schema(summary="Change a service (admin)"),
    destroy=extend_schema(summary="Delete a service (admin)"),
)
class ServiceViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """The service catalogue."""

    serializer_class = ServiceSerializer
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends: list = []
    read_role = VIEWER
    write_role = ADMIN

    def get_queryset(self) -> QuerySet[Service]:
        return Service.objects.prefetch_related(
            "aliases",
            Prefetch("depends_on", queryset=Service.objects.only("pk", "slug")),
            Prefetch("dependents", queryset=Service.objects.only("pk", "slug")),
            Prefetch("monitors", queryset=Monitor.objects.only("pk", "tag", "service_id")),
        ).order_by("name", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ServiceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.get_queryset()
        text = query.validated_data.get("q", "").strip()
        if text:
            rows = rows.filter(
                Q(name__icontains=text)
                | Q(slug__icontains=text)
                | Q(owner__icontains=text)
                | Q(aliases__alias__icontains=text)
            ).distinct()
        if "tier" in query.validated_data:
            rows = rows.filter(tier=query.validated_data["tier"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def perform_create(self, serializer: ServiceSerializer) -> None:
        with catalog_errors():
            service = services.create_service(
                dict(serializer.validated_data), now=timezone.now(), actor=self.request.user
            )
        serializer.instance = self.get_queryset().get(pk=service.pk)

    def perform_update(self, serializer: ServiceSerializer) -> None:
        with catalog_errors():
            service = services.update_service(
                serializer.instance,
                dict(serializer.validated_data),
                now=timezone.now(),
                actor=self.request.user,
            )
        serializer.instance = self.get_queryset().get(pk=service.pk)

    def perform_destroy(self, instance: Service) -> None:
        services.delete_service(instance, now=timezone.now(), actor=self.request.user)

    @extend_schema(
        responses=ServiceGraphSerializer,
        summary="Services up- and downstream of this one (transitively, with hops)",
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def graph(self, request: Request, slug: str | None = None) -> Response:
        service = self.get_object()
        upstream, downstream = related(service)
        data = {
            "slug": service.slug,
            "name": service.name,
            "upstream": upstream,
            "downstream": downstream,
        }
        return Response(ServiceGraphSerializer(data).data)
