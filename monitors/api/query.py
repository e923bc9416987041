"""Query-string parameters of the monitor history endpoints, validated like bodies.

Contract: a bad value is a 400 ``{parameter: [message]}``.

* ``results``: ``from`` / ``to`` are ISO 8601 datetimes (a naive time is UTC;
  a ``+HH:MM`` offset whose ``+`` arrived as a space because it was not
  URL-encoded is accepted), ``from`` must not be after ``to``; ``limit`` is
  1..1000, default 100.
* ``daily``: ``days`` is 1..365, default 90.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

MAX_RESULTS_LIMIT = 1000
DEFAULT_RESULTS_LIMIT = 100
MAX_DAYS = 365
DEFAULT_DAYS = 90

# "...T10:00:00 02:00": an offset whose unencoded "+" became a space.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")


class QueryDateTimeField(serializers.DateTimeField):
    default_error_messages = {
        "invalid": "Not an ISO 8601 datetime (e.g. 2024-05-01T12:00:00Z).",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
        return super().to_internal_value(value)


class ResultsQuerySerializer(serializers.Serializer):
    """``?from=&to=&limit=`` (``from`` is a keyword, hence ``get_fields``)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": QueryDateTimeField(required=False),
            "to": QueryDateTimeField(required=False),
            "limit": serializers.IntegerField(
                required=False,
                default=DEFAULT_RESULTS_LIMIT,
                min_value=1,
                max_value=MAX_RESULTS_LIMIT,
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"from": ["Must not be after 'to'."]})
        return attrs


class DailyQuerySerializer(serializers.Serializer):
    """``?days=``."""

    days = serializers.IntegerField(
        required=False, default=DEFAULT_DAYS, min_value=1, max_value=MAX_DAYS
    )
