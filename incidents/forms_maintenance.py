"""The console's maintenance window form.

The form only collects and displays input: its cleaned values (monitors as
tags, times as UTC datetimes) are fed through
``incidents.api.serializers.MaintenanceWindowSerializer``, the validator the
API uses, and the serializer's errors are put back next to the fields. So the
console and the API accept and refuse exactly the same windows. The view then
hands ``validated_data`` to ``incidents.maintenance_services``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils import timezone
from rest_framework import serializers

from monitors.forms import flatten_errors
from monitors.models import Monitor

from .api.serializers import MAX_RRULE, MAX_TITLE, MaintenanceWindowSerializer
from .models import MaintenanceWindow

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
INPUT_FORMATS = [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
MAX_DESCRIPTION = 20000


class UTCDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read and shown in UTC, whatever the active time zone."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", INPUT_FORMATS)
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(UTC):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(UTC):
            return super().prepare_value(value)


class MonitorTagsChoiceField(forms.MultipleChoiceField):
    """Monitor tags from a multi-select. Whether each tag exists (and is well formed,
    and not given twice) is the serializer's call, so it is not checked here."""

    def valid_value(self, value: str) -> bool:
        return True


class MaintenanceWindowForm(forms.Form):
    """Create or edit a window; ``validated_data`` is set when the serializer accepts it."""

    title = forms.CharField(
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": MAX_TITLE}),
        help_text="What customers see, e.g. “Database upgrade”.",
    )
    description = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "data-preview-source": ""}),
        help_text="Markdown: what is done, what users will notice. **bold**, _italic_, "
        "lists, links, `code`.",
    )
    starts_at = UTCDateTimeField(
        label="Starts (UTC)",
        required=False,
        help_text="Date and time in UTC. For a recurring window: the first occurrence.",
    )
    ends_at = UTCDateTimeField(
        label="Ends (UTC)",
        required=False,
        help_text="Date and time in UTC. For a recurring window: the end of the first "
        "occurrence; every occurrence lasts as long.",
    )
    rrule = forms.CharField(
        label="Repeat (RRULE)",
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={
                "maxlength": MAX_RRULE,
                "placeholder": "FREQ=WEEKLY;BYDAY=SU",
                "spellcheck": "false",
            }
        ),
        help_text="Empty for a one-off window. An iCal RRULE repeated from the start, e.g. "
        "<code>FREQ=WEEKLY;BYDAY=SU</code> (every Sunday), <code>FREQ=DAILY</code> "
        "(every day), <code>FREQ=MONTHLY;BYMONTHDAY=1;COUNT=6</code> (the 1st, six times).",
    )
    is_global = forms.BooleanField(
        label="All monitors",
        required=False,
        help_text="Covers every monitor, including ones added later.",
    )
    monitors = MonitorTagsChoiceField(
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="The monitors this window covers (ignored for all monitors). "
        "Hold Ctrl or ⌘ to choose several.",
    )

    SERIALIZED = ("title", "description", "starts_at", "ends_at", "rrule", "is_global", "monitors")

    def __init__(
        self,
        data: Any = None,
        *,
        instance: MaintenanceWindow | None = None,
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        self.request = request
        self.validated_data: dict[str, Any] | None = None
        initial = kwargs.pop("initial", None) or self._initial(instance)
        super().__init__(data, initial=initial, **kwargs)
        self.fields["monitors"].choices = [
            (tag, f"{name} ({tag})")
            for tag, name in Monitor.objects.order_by("name", "id").values_list("tag", "name")
        ]
        for name in ("title", "starts_at", "ends_at"):
            self.fields[name].serializer_required = True  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["aria-required"] = "true"

    @staticmethod
    def _initial(instance: MaintenanceWindow | None) -> dict[str, Any]:
        if instance is None:
            return {}
        return {
            "title": instance.title,
            "description": instance.description,
            "starts_at": instance.starts_at,
            "ends_at": instance.ends_at,
            "rrule": instance.rrule,
            "is_global": instance.is_global,
            "monitors": sorted(instance.monitors.values_list("tag", flat=True)),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        payload: dict[str, Any] = {
            "title": cleaned.get("title") or "",
            "description": cleaned.get("description") or "",
            "rrule": cleaned.get("rrule") or "",
            "is_global": bool(cleaned.get("is_global")),
            "monitors": list(cleaned.get("monitors") or []),
        }
        for name in ("starts_at", "ends_at"):
            if cleaned.get(name) is not None:
                payload[name] = cleaned[name]
        serializer = MaintenanceWindowSerializer(
            instance=self.instance,
            data=payload,
            context={"request": self.request, "now": timezone.now()},
        )
        if serializer.is_valid():
            if not self.errors:
                self.validated_data = dict(serializer.validated_data)
        else:
            self._apply_errors(serializer.errors)
            self._run_object_checks(serializer, payload)
        return cleaned

    def _run_object_checks(
        self, serializer: MaintenanceWindowSerializer, payload: dict[str, Any]
    ) -> None:
        """DRF skips the serializer's ``validate`` (end after start, a usable RRULE)
        when a field failed; run it on the times and rule so all errors show at once."""
        if any(name in self.errors for name in ("starts_at", "ends_at", "rrule")):
            return
        if "starts_at" not in payload or "ends_at" not in payload:
            return
        attrs = {name: payload[name] for name in ("starts_at", "ends_at")}
        try:
            rrule = serializer.fields["rrule"].run_validation(payload["rrule"])
            attrs["rrule"] = serializer.validate_rrule(rrule)
            serializer.validate(attrs)
        except serializers.ValidationError as exc:
            detail = exc.detail
            self._apply_errors(detail if isinstance(detail, dict) else {"rrule": detail})

    def _apply_errors(self, errors: dict[str, Any]) -> None:
        for key, detail in errors.items():
            if key in self.SERIALIZED and key in self.fields:
                if key in self.errors:
                    continue  # the form already said what is wrong with this input
                self.add_error(key, flatten_errors(detail))
            elif key == "non_field_errors":
                self.add_error(None, flatten_errors(detail))
            else:
                self.add_error(None, flatten_errors(detail, f"{key}: "))
