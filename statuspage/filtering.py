"""What the console's list pages share to apply their filter bars.

Filters are plain GET forms: an invalid value is ignored (the page still
lists, with the error shown on its field) and the valid ones still apply.
Dates are whole days in the current time zone, the end day included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def valid_filters(form: forms.Form) -> dict[str, Any]:
    """The values of a bound filter form's valid fields ({} when unbound)."""
    if not form.is_bound:
        return {}
    form.is_valid()  # invalid filters are ignored; the valid ones still apply
    return getattr(form, "cleaned_data", {})


def within_days(
    qs: QuerySet[Any], field: str, start: date | None, end: date | None
) -> QuerySet[Any]:
    """``qs`` limited to ``field`` from the start of ``start`` to the end of
    ``end`` (either may be None: no bound on that side)."""
    if start:
        qs = qs.filter(**{f"{field}__gte": day_start(start)})
    if end:
        qs = qs.filter(**{f"{field}__lt": day_start(end + timedelta(days=1))})
    return qs
