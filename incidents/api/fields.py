"""Pieces shared by the incidents and alerting APIs.

* ``StrictSerializer``: unknown body keys are a 400 under their own name
  (read-only fields are accepted and ignored), as in the monitors API.
* ``MonitorTagsField``: a list of monitor tags, each well formed, none twice,
  all existing; becomes a list of ``Monitor`` rows (in input order).
* ``service_errors``: turns ``IncidentError`` into a 400 ``{field: [message]}``
  or, when it names no field, a 409 ``{"detail": message}``.
* ``ApiViewMixin``: JSON-only bodies with a 413 for oversized ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from incidents.services import IncidentError
from monitors.api.parsers import BoundedJSONParser, too_large
from monitors.models import Monitor, tag_validator

MAX_MONITORS = 200
_MAX_UNKNOWN_REPORTED = 10


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


@contextmanager
def service_errors() -> Iterator[None]:
    """Map ``IncidentError`` raised inside the block to a 400 or a 409."""
    try:
        yield
    except IncidentError as exc:
        if exc.field is None:
            raise Conflict(exc.message) from None
        raise serializers.ValidationError({exc.field: [exc.message]}) from None


def _printable_key(key: Any) -> str:
    name = str(key)[:60]
    if "\x00" in name or any("\ud800" <= ch <= "\udfff" for ch in name):
        name = repr(name)[:60]
    return name


class StrictSerializer(serializers.Serializer):
    """A serializer that refuses keys it does not know, each under its own name."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                allowed = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                errors: dict[str, list[str]] = {
                    _printable_key(key): [f"Unknown field; the fields are: {allowed}."]
                    for key in unknown[:_MAX_UNKNOWN_REPORTED]
                }
                if len(unknown) > _MAX_UNKNOWN_REPORTED:
                    errors["non_field_errors"] = [f"{len(unknown)} unknown fields."]
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    """``StrictSerializer`` for model serializers."""


def tag_field(**kwargs: Any) -> serializers.CharField:
    """A monitor tag: validated for shape before it reaches any query."""
    return serializers.CharField(max_length=64, validators=[tag_validator], **kwargs)


def lookup_monitors(tags: list[str]) -> dict[str, Monitor]:
    """The monitors of ``tags`` by tag; a 400-ready message lists unknown ones."""
    found = {m.tag: m for m in Monitor.objects.filter(tag__in=tags)}
    missing = [t for t in tags if t not in found]
    if missing:
        raise serializers.ValidationError(f"Unknown monitor tag(s): {', '.join(missing[:10])}.")
    return found


def reject_duplicates(tags: list[str]) -> None:
    seen: set[str] = set()
    twice = [t for t in tags if t in seen or seen.add(t)]  # type: ignore[func-returns-value]
    if twice:
        raise serializers.ValidationError(f"Listed more than once: {', '.join(twice[:10])}.")


class MonitorTagsField(serializers.ListField):
    """``["api", "web"]`` in, ``[Monitor, Monitor]`` out; tags out again when read."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_MONITORS)
        super().__init__(child=tag_field(), **kwargs)

    def to_internal_value(self, data: Any) -> list[Monitor]:
        tags: list[str] = super().to_internal_value(data)
        reject_duplicates(tags)
        found = lookup_monitors(tags)
        return [found[t] for t in tags]

    def to_representation(self, data: Any) -> list[str]:
        return sorted(m.tag for m in data.all()) if hasattr(data, "all") else list(data)


class ApiViewMixin:
    """JSON bodies only; a body over the upload limit is a JSON 413."""

    parser_classes = [BoundedJSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            exc = too_large()
        return super().handle_exception(exc)  # type: ignore[misc]
