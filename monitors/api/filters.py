"""Query-string filters of the monitors list: ``?kind=&status=&is_active=&is_public=&q=&ordering=``.

``status`` and ``q`` have exactly the meaning of ``selectors.monitor_list``
(``status``: UP / DEGRADED / DOWN, PENDING = never checked, PAUSED = not
active; ``q``: case-insensitive match in name, tag or description). Booleans
accept ``true``/``false`` (or ``1``/``0``). An invalid value is a 400 naming
the parameter, never silently ignored. ``ordering`` takes ``name``, ``tag``,
``created_at`` or ``status`` (``-`` for descending); ties break on id so
pages are stable.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from monitors.models import Kind, Monitor, Status
from monitors.selectors import monitor_list

STATUS_CHOICES = [
    *Status.choices,
    ("PENDING", "Pending (never checked)"),
    ("PAUSED", "Paused"),
]
BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with ``id`` appended as the tie-breaker."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "id")
        return qs


class MonitorFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text="Monitor kind.")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        help_text="Current status; PENDING = never checked, PAUSED = not active.",
    )
    is_active = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_boolean", help_text="true or false."
    )
    is_public = django_filters.ChoiceFilter(
        choices=BOOLEAN_CHOICES, method="filter_boolean", help_text="true or false."
    )
    q = django_filters.CharFilter(
        method="filter_text", max_length=200, help_text="Text in name, tag or description."
    )
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("tag", "tag"),
            ("created_at", "created_at"),
            ("state__status", "status"),
        ),
    )

    class Meta:
        model = Monitor
        fields = ["kind", "status", "is_active", "is_public", "q"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset & monitor_list(status=value) if value else queryset

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset & monitor_list(text=value) if value else queryset

    def filter_boolean(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(**{name: value in ("true", "1")})
