"""Service catalogue serializers: shape only (types, lengths, slugs, choices).

Semantic rules (unique names / slugs / aliases, known dependencies, no self
dependency, no cycle) live in ``catalog.services`` and come back as
``CatalogError`` (see ``catalog.api.views.catalog_errors``). Unknown keys are
refused by name; text refuses NUL and lone surrogates (DRF's ``CharField``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import Service, Tier, slug_validator
from catalog.selectors import Related
from catalog.services import MAX_ALIASES, MAX_DEPENDENCIES
from incidents.api.fields import StrictSerializer


def slug_field(**kwargs: Any) -> serializers.CharField:
    """A service slug, shape-checked before it reaches any query."""
    return serializers.CharField(max_length=64, validators=[slug_validator], **kwargs)


class SlugListField(serializers.ListField):
    """A list of slugs, none twice."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_DEPENDENCIES)
        super().__init__(child=slug_field(), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        slugs: list[str] = super().to_internal_value(data)
        seen: set[str] = set()
        twice = [s for s in slugs if s in seen or seen.add(s)]  # type: ignore[func-returns-value]
        if twice:
            raise serializers.ValidationError(f"Listed more than once: {', '.join(twice[:10])}.")
        return slugs

    def to_representation(self, data: Any) -> list[str]:
        """Services (a related manager) out as their sorted slugs."""
        if hasattr(data, "all"):
            return sorted(s.slug for s in data.all())
        return list(data)


class AliasListField(serializers.ListField):
    """Aliases in as strings (normalised by ``catalog.services``), out sorted."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.CharField(max_length=200, allow_blank=False),
            max_length=MAX_ALIASES,
            **kwargs,
        )

    def to_representation(self, data: Any) -> list[str]:
        if hasattr(data, "all"):
            return sorted(a.alias for a in data.all())
        return list(data)


class ServiceSerializer(StrictSerializer, serializers.ModelSerializer):
    """A service: ``depends_on`` are the slugs of its dependencies (upstream),
    ``dependents`` the slugs of the services depending on it (downstream)."""

    name = serializers.CharField(max_length=200)
    slug = slug_field()
    owner = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, default=Tier.TIER_3)
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    aliases = AliasListField(required=False, default=list)
    depends_on = SlugListField(required=False, default=list)
    dependents = serializers.SerializerMethodField()
    monitors = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "slug",
            "owner",
            "tier",
            "description",
            "aliases",
            "depends_on",
            "dependents",
            "monitors",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "dependents", "monitors", "created_at", "updated_at"]

    def get_dependents(self, service: Service) -> list[str]:
        """Slugs of the services that depend on this one."""
        return sorted(s.slug for s in service.dependents.all())

    def get_monitors(self, service: Service) -> list[str]:
        """Tags of the monitors belonging to this service."""
        return sorted(m.tag for m in service.monitors.all())

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


class RelatedServiceSerializer(serializers.Serializer):
    """A service seen from another one: slug, name and distance in hops."""

    slug = serializers.CharField(source="service.slug")
    name = serializers.CharField(source="service.name")
    tier = serializers.IntegerField(source="service.tier")
    depth = serializers.IntegerField()

    def to_representation(self, instance: Related) -> dict[str, Any]:
        return super().to_representation(instance)


class ServiceGraphSerializer(serializers.Serializer):
    """``upstream``: what the service depends on (transitively: a failure there
    explains one here); ``downstream``: what depends on it (impacted by it)."""

    slug = serializers.CharField()
    name = serializers.CharField()
    upstream = RelatedServiceSerializer(many=True)
    downstream = RelatedServiceSerializer(many=True)
