"""Integration and deployment serializers.

Input serializers check shape (types, lengths, choices; DRF's ``CharField``
refuses NUL and lone surrogates; unknown keys are refused by name); the rules
(unique name, fixed source, default quiet period) live in
``integrations.services`` and come back as ``{field: [message]}``.

``secret`` is write-only: reads show ``"********"`` when one is set, ``""``
otherwise, and writing that mask back (a client echoing a read) keeps the
stored secret. ``token`` and the token-bearing ``url`` are credentials: only
admins read them (``null`` / the bare endpoint for other roles).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.roles import ADMIN, has_role
from incidents.api.fields import StrictSerializer
from integrations import services
from integrations.models import Deployment, DeploymentResult, Integration, MinSeverity, SourceKind

MASK = "********"


class IntegrationSerializer(StrictSerializer):
    """Create / read / update an integration."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=services.MAX_NAME)
    source = serializers.ChoiceField(choices=SourceKind.choices)
    token = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    endpoint = serializers.SerializerMethodField()
    secret = serializers.CharField(
        max_length=services.MAX_SECRET,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Signature secret (Grafana, PagerDuty) or Netdata challenge secret; one a "
        "line during rotation. Write-only: reads show '********' when set.",
    )
    quiet_resolve_minutes = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_QUIET_MINUTES,
        required=False,
        allow_null=True,
        help_text="Close alerts not seen for this long (0: only on the source's resolve). "
        "Default 60 for Splunk and Datadog, else 0.",
    )
    min_severity = serializers.ChoiceField(choices=MinSeverity.choices, required=False)
    failed_deployment_opens_alert = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    sends_resolve = serializers.SerializerMethodField()
    last_received_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def _is_admin(self) -> bool:
        request = self.context.get("request")
        return request is not None and has_role(request.user, ADMIN)

    @extend_schema_field(OpenApiTypes.STR)
    def get_token(self, obj: Integration) -> str | None:
        return obj.token if self._is_admin() else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Integration) -> str:
        return services.endpoint_url(obj, with_token=self._is_admin())

    @extend_schema_field(OpenApiTypes.URI)
    def get_endpoint(self, obj: Integration) -> str:
        return services.endpoint_url(obj, with_token=False)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_sends_resolve(self, obj: Integration) -> bool:
        return services.default_quiet_minutes(obj.source) == 0

    def to_representation(self, instance: Integration) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["secret"] = MASK if instance.secret else ""
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("secret") == MASK:
            attrs.pop("secret")
        return attrs


class DeploymentSerializer(serializers.ModelSerializer):
    """A deployment reported by CI/CD."""

    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    integration_name = serializers.CharField(
        source="integration.name", read_only=True, default=None
    )
    result = serializers.ChoiceField(choices=DeploymentResult.choices, read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "integration",
            "integration_name",
            "source",
            "external_id",
            "service",
            "service_name",
            "environment",
            "version",
            "result",
            "url",
            "started_at",
            "finished_at",
            "received_at",
        ]
        read_only_fields = fields


class DeploymentDetailSerializer(DeploymentSerializer):
    """One deployment with the latest report as received."""

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "raw"]
        read_only_fields = fields
