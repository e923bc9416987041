"""Monitor serializers: the single validator of monitor input.

The API uses them directly; the console's monitor form feeds its cleaned
fields through ``MonitorSerializer`` too, so both give the same errors.

Contract of ``MonitorSerializer`` input (errors are ``{field: [messages]}``):

* the input must be an object; keys that are not fields of the serializer
  are rejected, each under its own name (read-only fields such as ``id`` or
  ``state`` are accepted and ignored, so a GET body can be PUT back);
* every string, including any string anywhere inside ``config`` (keys too),
  is rejected when it holds a NUL character or a lone surrogate (PostgreSQL
  cannot store them); ``config`` must also be small (``MAX_CONFIG_BYTES``),
  shallow (``MAX_CONFIG_DEPTH``) and hold only finite numbers;
* ``tag`` must match ``monitors.models.TAG_PATTERN`` (lowercase), be unused
  and not be one of ``RESERVED_TAGS``;
* ``config`` is validated by the kind's ``Config`` whenever ``kind`` or
  ``config`` changes (a PATCH of ``kind`` alone re-validates the stored config
  against the new kind, and reports it under ``config``);
* ``timeout_seconds`` must be shorter than ``interval_seconds``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from accounts.roles import ADMIN, has_role
from catalog.models import Service, slug_validator
from monitors.checks import validate_config
from monitors.models import (
    MAX_INTERVAL_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MIN_INTERVAL_SECONDS,
    CheckResult,
    Kind,
    Monitor,
    MonitorState,
    tag_validator,
)
from monitors.selectors import Day

MAX_GROUP_DEPTH = 5
# Bounds on a config before the kind's validation sees it: a config is a few
# settings, never a document.
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_DEPTH = 10
# Words that follow /console/monitors/ or /api/v1/monitors/ in a URL (monitors/urls.py,
# monitors/api/urls.py): a monitor tagged "new" could never be opened, since
# /console/monitors/new/ is the create page. Kept in step by a test.
RESERVED_TAGS = frozenset(
    {
        "new",  # console: create page
        "edit",  # console: .../<tag>/edit/
        "check",  # console and API: .../<tag>/check/
        "active",  # console: .../<tag>/active/
        "delete",  # console: .../<tag>/delete/
        "daily",  # API: .../<tag>/daily
        "results",  # API: .../<tag>/results
        "pause",  # API: .../<tag>/pause
        "resume",  # API: .../<tag>/resume
    }
)
_MAX_UNKNOWN_REPORTED = 10


def _bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "Null characters are not allowed."
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "Surrogate characters are not allowed."
    return None


def json_problem(data: Any) -> str | None:
    """The first reason ``data`` (parsed JSON) cannot be stored as a config, or None.

    Walks iteratively, so a deeply nested value cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            return f"Nested more than {MAX_CONFIG_DEPTH} levels deep."
        if isinstance(value, str):
            problem = _bad_text(value)
            if problem:
                return problem
        elif isinstance(value, bool) or value is None or isinstance(value, int):
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                return "Numbers must be finite."
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    return "Object keys must be strings."
                problem = _bad_text(key)
                if problem:
                    return problem
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
        else:
            return "Must be JSON data."
    return None


class ConfigField(serializers.JSONField):
    """Any JSON value, bounded and storable; the kind's ``Config`` judges its shape."""

    def to_internal_value(self, data: Any) -> Any:
        problem = json_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        try:
            size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except (TypeError, ValueError, RecursionError):
            raise serializers.ValidationError("Must be JSON data.") from None
        if size > MAX_CONFIG_BYTES:
            raise serializers.ValidationError(
                f"Too large: at most {MAX_CONFIG_BYTES} bytes of JSON."
            )
        return super().to_internal_value(data)


class MonitorStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MonitorState
        fields = [
            "status",
            "since",
            "last_checked_at",
            "last_latency_ms",
            "last_message",
            "next_check_at",
            "consecutive_count",
        ]
        read_only_fields = fields


class ServiceSlugField(serializers.SlugRelatedField):
    """The monitor's service by slug (``null`` for none); shape-checked before any query."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Service.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Service:
        if not isinstance(data, str) or len(data) > 64 or not slug_validator.regex.match(data):
            raise serializers.ValidationError("A service slug (lower-case letters, digits, '-').")
        service = Service.objects.filter(slug=data).first()
        if service is None:
            raise serializers.ValidationError(f"Unknown service slug: {data}.")
        return service


class MonitorSerializer(serializers.ModelSerializer):
    """Create / read / update a monitor. ``config`` is validated by the kind's runner."""

    name = serializers.CharField(max_length=200, trim_whitespace=True)
    # Declared rather than generated so uniqueness is checked in validate_tag,
    # after the format checks: a NUL byte must never reach a database query.
    tag = serializers.CharField(max_length=64, validators=[tag_validator])
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    config = ConfigField(required=False, default=dict)
    interval_seconds = serializers.IntegerField(
        min_value=MIN_INTERVAL_SECONDS, max_value=MAX_INTERVAL_SECONDS, required=False, default=60
    )
    timeout_seconds = serializers.IntegerField(
        min_value=1, max_value=MAX_TIMEOUT_SECONDS, required=False, default=10
    )
    is_active = serializers.BooleanField(required=False, default=True)
    is_public = serializers.BooleanField(required=False, default=True)
    service = ServiceSlugField(required=False, allow_null=True)
    state = MonitorStateSerializer(read_only=True)
    push_url = serializers.SerializerMethodField()

    class Meta:
        model = Monitor
        fields = [
            "id",
            "name",
            "tag",
            "description",
            "kind",
            "config",
            "interval_seconds",
            "timeout_seconds",
            "is_active",
            "is_public",
            "service",
            "created_at",
            "updated_at",
            "state",
            "push_url",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "state", "push_url"]

    def get_push_url(self, monitor: Monitor) -> str | None:
        """The heartbeat push URL; shown to admins only, since it is a secret."""
        request = self.context.get("request")
        if not monitor.push_token or request is None or not has_role(request.user, ADMIN):
            return None
        return request.build_absolute_uri(reverse("push", args=[monitor.push_token]))

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                allowed = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                errors: dict[str, list[str]] = {}
                for key in unknown[:_MAX_UNKNOWN_REPORTED]:
                    name = str(key)[:60]
                    if _bad_text(name):
                        name = repr(name)[:60]
                    errors[name] = [f"Unknown field; the fields are: {allowed}."]
                if len(unknown) > _MAX_UNKNOWN_REPORTED:
                    errors["non_field_errors"] = [f"{len(unknown)} unknown fields."]
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate_tag(self, value: str) -> str:
        renamed = self.instance is None or value != self.instance.tag
        if value in RESERVED_TAGS and renamed:
            # A monitor keeping a tag it already has is left alone.
            raise serializers.ValidationError(
                f"“{value}” is reserved: it is a word in the console's or the API's "
                "monitor URLs. Choose another tag."
            )
        others = Monitor.objects.filter(tag=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A monitor with this tag already exists.")
        return value

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Monitor | None = self.instance
        kind = attrs.get("kind", instance.kind if instance else None)
        if "config" in attrs or "kind" in attrs or instance is None:
            config = attrs.get("config", instance.config if instance else {})
            try:
                attrs["config"] = validate_config(kind, config)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"config": exc.detail}) from exc
        interval = attrs.get("interval_seconds", instance.interval_seconds if instance else 60)
        timeout = attrs.get("timeout_seconds", instance.timeout_seconds if instance else 10)
        if timeout >= interval:
            raise serializers.ValidationError(
                {"timeout_seconds": [f"Must be shorter than the interval ({interval}s)."]}
            )
        if kind == Kind.GROUP:
            tag = attrs.get("tag", instance.tag if instance else "")
            self._validate_members(
                tag,
                attrs["config"].get("members", [])
                if "config" in attrs
                else instance.config.get("members", []),
            )
        return attrs

    def _validate_members(self, own_tag: str, members: list[str]) -> None:
        """Members must exist, and a group may not contain itself at any depth."""
        known = dict(Monitor.objects.filter(tag__in=members).values_list("tag", "kind"))
        missing = [tag for tag in members if tag not in known]
        if missing:
            raise serializers.ValidationError(
                {"config": {"members": [f"Unknown monitor tag(s): {', '.join(missing[:10])}."]}}
            )
        frontier = [tag for tag in members]
        for _ in range(MAX_GROUP_DEPTH + 1):
            if own_tag in frontier:
                raise serializers.ValidationError(
                    {"config": {"members": ["A group cannot contain itself."]}}
                )
            groups = Monitor.objects.filter(tag__in=frontier, kind=Kind.GROUP)
            frontier = [t for g in groups for t in (g.config or {}).get("members", [])]
            if not frontier:
                return
        raise serializers.ValidationError(
            {"config": {"members": [f"Groups nest at most {MAX_GROUP_DEPTH} levels deep."]}}
        )


class CheckResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckResult
        fields = [
            "id",
            "status",
            "source",
            "due_at",
            "checked_at",
            "latency_ms",
            "lag_ms",
            "message",
        ]
        read_only_fields = fields


class DailySerializer(serializers.Serializer):
    """One UTC day of a monitor's history (a ``selectors.Day``), from the rollups."""

    date = serializers.DateField(source="day")
    up = serializers.SerializerMethodField()
    degraded = serializers.SerializerMethodField()
    down = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    uptime_percent = serializers.FloatField(allow_null=True)
    avg_latency_ms = serializers.SerializerMethodField()
    min_latency_ms = serializers.SerializerMethodField()
    max_latency_ms = serializers.SerializerMethodField()

    def get_up(self, day: Day) -> int:
        return day.rollup.up_count if day.rollup else 0

    def get_degraded(self, day: Day) -> int:
        return day.rollup.degraded_count if day.rollup else 0

    def get_down(self, day: Day) -> int:
        return day.rollup.down_count if day.rollup else 0

    def get_total(self, day: Day) -> int:
        return day.rollup.total if day.rollup else 0

    def get_avg_latency_ms(self, day: Day) -> float | None:
        return day.rollup.avg_latency_ms if day.rollup else None

    def get_min_latency_ms(self, day: Day) -> float | None:
        return day.rollup.latency_min if day.rollup else None

    def get_max_latency_ms(self, day: Day) -> float | None:
        return day.rollup.latency_max if day.rollup else None
