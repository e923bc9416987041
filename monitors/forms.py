"""The console's monitor form.

The form only collects and displays input: every value is fed through
``MonitorSerializer`` (the single validator of monitor input, shared with the
API) and its errors are put back next to the fields, nested ``config`` errors
next to the selected kind's config fields.

Config fields are built generically from each kind's ``Config`` serializer
(``monitors.checks``), one fieldset per kind, so a new kind needs no form or
template work:

==================================  ==========================================
serializer field                    form widget / conversion
==================================  ==========================================
BooleanField                        checkbox -> ``true``/``false``
ChoiceField                         select -> the choice, empty = not given
IntegerField / FloatField           number -> int / float (text left as is, so
                                    the serializer names the mistake)
ListField                           textarea, one item per line -> list
DictField                           textarea, ``Name: value`` per line -> dict
CharField (and subclasses)          text input (textarea when styled so)
anything else (JSONField...)        textarea holding JSON
==================================  ==========================================

An empty input means "not given": the kind's default applies.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from rest_framework import serializers
from rest_framework.fields import empty

from catalog.models import Service

from .api.serializers import MonitorSerializer
from .checks import REGISTRY, Check, get_check, validate_config
from .models import Kind, Monitor

FIELD_SEPARATOR = "__"
_OMIT = object()


def available_kinds() -> dict[str, Check]:
    """The registered check kinds, in the order of ``Kind``."""
    # Loads every kind module; a kind still being written leaves the others usable.
    with contextlib.suppress(ImportError, KeyError):
        get_check(Kind.TCP)
    return {kind: REGISTRY[kind] for kind, _label in Kind.choices if kind in REGISTRY}


def config_field_name(kind: str, name: str) -> str:
    """The form field name of config field ``name`` of ``kind``."""
    return f"{kind}{FIELD_SEPARATOR}{name}"


def _default(sfield: serializers.Field) -> Any:
    default = sfield.default
    if default is empty:
        return None
    return default() if callable(default) else default


_ACRONYMS = {"url": "URL", "json": "JSON", "tls": "TLS", "dns": "DNS", "http": "HTTP", "ip": "IP"}
_UNITS = {"ms": "(ms)", "seconds": "(seconds)", "days": "(days)"}


def _label(name: str, sfield: serializers.Field) -> str:
    """The serializer's label, else the name in words: ``json_path`` -> "JSON path",
    ``degraded_above_ms`` -> "Degraded above (ms)"."""
    if sfield.label:
        return str(sfield.label)
    words = name.split("_")
    if len(words) > 1 and words[-1] in _UNITS:
        words[-1] = _UNITS[words[-1]]
    words = [_ACRONYMS.get(word, word) for word in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _number_attrs(sfield: Any, step: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"step": step, "inputmode": "numeric" if step == "1" else "decimal"}
    if getattr(sfield, "min_value", None) is not None:
        attrs["min"] = sfield.min_value
    if getattr(sfield, "max_value", None) is not None:
        attrs["max"] = sfield.max_value
    return attrs


def form_field_for(name: str, sfield: serializers.Field) -> forms.Field:
    """A lenient Django form field rendering serializer field ``sfield``."""
    label = _label(name, sfield)
    help_text = str(sfield.help_text or "")
    common: dict[str, Any] = {"label": label, "required": False}
    if isinstance(sfield, serializers.BooleanField):
        return forms.BooleanField(help_text=help_text, **common)
    if isinstance(sfield, serializers.MultipleChoiceField):
        return forms.MultipleChoiceField(
            choices=list(sfield.choices.items()),
            widget=forms.CheckboxSelectMultiple,
            help_text=help_text,
            **common,
        )
    if isinstance(sfield, serializers.ChoiceField):
        choices = list(sfield.choices.items())
        if not sfield.required:
            choices = [("", "(default)"), *choices]
        return forms.CharField(widget=forms.Select(choices=choices), help_text=help_text, **common)
    if isinstance(sfield, serializers.IntegerField):
        return forms.CharField(
            widget=forms.NumberInput(attrs=_number_attrs(sfield, "1")),
            help_text=help_text,
            **common,
        )
    if isinstance(sfield, serializers.FloatField | serializers.DecimalField):
        return forms.CharField(
            widget=forms.NumberInput(attrs=_number_attrs(sfield, "any")),
            help_text=help_text,
            **common,
        )
    if isinstance(sfield, serializers.ListField):
        hint = "One per line."
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=f"{help_text} {hint}".strip(),
            strip=False,
            **common,
        )
    if isinstance(sfield, serializers.DictField | serializers.HStoreField):
        hint = "One “Name: value” per line."
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=f"{help_text} {hint}".strip(),
            strip=False,
            **common,
        )
    if isinstance(sfield, serializers.CharField):
        textarea = sfield.style.get("base_template") == "textarea.html"
        widget = forms.Textarea(attrs={"rows": 3}) if textarea else forms.TextInput()
        return forms.CharField(widget=widget, help_text=help_text, strip=False, **common)
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"{help_text} JSON.".strip(),
        strip=False,
        **common,
    )


def initial_for(sfield: serializers.Field, value: Any) -> Any:
    """Render a config value (or the field's default) as the widget's initial value."""
    if value is None:
        return None
    if isinstance(sfield, serializers.BooleanField):
        return bool(value)
    if isinstance(sfield, serializers.MultipleChoiceField):
        return list(value)
    if isinstance(sfield, serializers.ListField) and isinstance(value, list | tuple):
        return "\n".join(str(item) for item in value)
    if isinstance(sfield, serializers.DictField | serializers.HStoreField) and isinstance(
        value, dict
    ):
        return "\n".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(sfield, serializers.ChoiceField | serializers.CharField):
        return str(value)
    if isinstance(sfield, serializers.IntegerField | serializers.FloatField):
        return value
    return json.dumps(value)


def _number(text: str, child: Any) -> Any:
    """``text`` as int/float for a numeric field; left as text when it is not a number."""
    if isinstance(child, serializers.IntegerField):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(child, serializers.FloatField):
        try:
            return float(text)
        except ValueError:
            return text
    return text


class LineError(ValueError):
    """A textarea line that cannot be parsed."""


def to_payload(sfield: serializers.Field, raw: Any) -> Any:
    """Turn a widget's value into what ``sfield`` expects; ``_OMIT`` for "not given"."""
    if isinstance(sfield, serializers.BooleanField):
        return bool(raw)
    if isinstance(sfield, serializers.MultipleChoiceField):
        return list(raw or []) or _OMIT
    text = "" if raw is None else str(raw)
    if isinstance(sfield, serializers.ListField):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return [_number(line, sfield.child) for line in lines] if lines else _OMIT
    if isinstance(sfield, serializers.DictField | serializers.HStoreField):
        result: dict[str, Any] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise LineError(f"Line {number}: write “Name: value”.")
            result[key.strip()] = _number(value.strip(), sfield.child)
        return result if result else _OMIT
    if not text.strip():
        return _OMIT
    if isinstance(sfield, serializers.IntegerField | serializers.FloatField):
        return _number(text.strip(), sfield)
    if isinstance(sfield, serializers.ChoiceField | serializers.CharField):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LineError("Not valid JSON.") from exc


def flatten_errors(detail: Any, prefix: str = "") -> list[str]:
    """DRF error detail (lists, dicts for list items / nested keys) as messages."""
    if isinstance(detail, dict):
        messages: list[str] = []
        for key, value in detail.items():
            where = f"Item {int(key) + 1}: " if isinstance(key, int) else f"{key}: "
            if key == "non_field_errors":
                where = ""
            messages.extend(flatten_errors(value, prefix + where))
        return messages
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in flatten_errors(item, prefix)]
    return [f"{prefix}{detail}"]


@dataclass
class KindFieldset:
    """One kind's config fields, for the template."""

    kind: str
    label: str
    fields: list[BoundField]
    errors: list[str] = field(default_factory=list)
    selected: bool = False


class MonitorForm(forms.Form):
    """Common monitor fields plus one fieldset per kind; see the module docstring."""

    name = forms.CharField(
        required=False,
        strip=False,
        help_text="Shown in the console and, when public, on the status page.",
    )
    tag = forms.CharField(
        required=False,
        help_text="Short unique id used in URLs and the API: lowercase letters, digits, "
        "'-' and '_'.",
    )
    description = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.CharField(
        required=False,
        widget=forms.Select(choices=Kind.choices, attrs={"data-kind-select": ""}),
        help_text="What to check. Only the selected kind's settings below are used.",
    )
    interval_seconds = forms.CharField(
        required=False,
        label="Interval (seconds)",
        widget=forms.NumberInput(attrs={"min": 10, "step": 1}),
        help_text="How often to check, 10 s to 1 day.",
    )
    timeout_seconds = forms.CharField(
        required=False,
        label="Timeout (seconds)",
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
        help_text="Give up on a check after this long; shorter than the interval.",
    )
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="Paused monitors are not checked."
    )
    is_public = forms.BooleanField(
        required=False, label="Public", help_text="Listed on the public status page."
    )
    service = forms.CharField(
        required=False,
        widget=forms.Select(),
        help_text="The catalogue service this monitor checks: its alerts correlate with "
        "alerts about that service and its dependencies.",
    )

    COMMON_FIELDS = (
        "name",
        "tag",
        "description",
        "kind",
        "interval_seconds",
        "timeout_seconds",
        "is_active",
        "is_public",
        "service",
    )

    def __init__(
        self,
        data: Any = None,
        *,
        instance: Monitor | None = None,
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        self.request = request
        self.kinds = available_kinds()
        self.config_errors: dict[str, list[str]] = {}
        self.validated_data: dict[str, Any] | None = None
        initial = kwargs.pop("initial", None) or self._initial(instance)
        super().__init__(data, initial=initial, **kwargs)
        kind_choices = [
            (kind, label) for kind, label in Kind.choices if kind in self.kinds
        ] or list(Kind.choices)
        self.fields["kind"].widget.choices = kind_choices
        self.fields["service"].widget.choices = [
            ("", "(none)"),
            *Service.objects.order_by("name").values_list("slug", "name"),
        ]
        for name in ("name", "tag", "kind"):
            self.fields[name].serializer_required = True  # type: ignore[attr-defined]
        for kind, check in self.kinds.items():
            for name, sfield in check.Config().fields.items():
                if sfield.read_only:
                    continue
                form_name = config_field_name(kind, name)
                self.fields[form_name] = form_field_for(name, sfield)
                current = (
                    instance.config.get(name, _default(sfield))
                    if instance is not None and instance.kind == kind
                    else _default(sfield)
                )
                initial_value = initial_for(sfield, current)
                if initial_value is not None:
                    self.initial.setdefault(form_name, initial_value)
                if sfield.required:
                    self.fields[form_name].widget.attrs["aria-required"] = "true"
                self.fields[form_name].serializer_required = sfield.required  # type: ignore[attr-defined]

    @staticmethod
    def _initial(instance: Monitor | None) -> dict[str, Any]:
        if instance is None:
            return {
                "kind": Kind.HTTP,
                "interval_seconds": 60,
                "timeout_seconds": 10,
                "is_active": True,
                "is_public": True,
            }
        initial = {name: getattr(instance, name) for name in MonitorForm.COMMON_FIELDS}
        initial["service"] = instance.service.slug if instance.service_id else ""
        return initial

    def selected_kind(self) -> str:
        """The kind chosen in the bound data, else the initial one."""
        if self.is_bound:
            return str(self.data.get("kind", ""))
        return str(self.initial.get("kind", ""))

    def kind_fieldsets(self) -> list[KindFieldset]:
        selected = self.selected_kind()
        fieldsets = []
        for kind, check in self.kinds.items():
            prefix = kind + FIELD_SEPARATOR
            fieldsets.append(
                KindFieldset(
                    kind=kind,
                    label=getattr(check, "label", "") or Kind(kind).label,
                    fields=[self[name] for name in self.fields if name.startswith(prefix)],
                    errors=self.config_errors.get(kind, []),
                    selected=kind == selected,
                )
            )
        return fieldsets

    def common_fields(self) -> list[BoundField]:
        return [self[name] for name in self.COMMON_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        payload: dict[str, Any] = {
            "name": cleaned.get("name", ""),
            "tag": cleaned.get("tag", ""),
            "description": cleaned.get("description", ""),
            "kind": cleaned.get("kind", ""),
            "is_active": bool(cleaned.get("is_active")),
            "is_public": bool(cleaned.get("is_public")),
            "service": cleaned.get("service") or None,
        }
        for name in ("interval_seconds", "timeout_seconds"):
            value = (cleaned.get(name) or "").strip()
            if value:
                payload[name] = value
        kind = payload["kind"]
        check = self.kinds.get(kind)
        config: dict[str, Any] = {}
        parse_failed = False
        if check is not None:
            for name, sfield in check.Config().fields.items():
                if sfield.read_only:
                    continue
                form_name = config_field_name(kind, name)
                try:
                    value = to_payload(sfield, cleaned.get(form_name))
                except LineError as exc:
                    self.add_error(form_name, str(exc))
                    parse_failed = True
                    continue
                if value is not _OMIT:
                    config[name] = value
        payload["config"] = config
        serializer = MonitorSerializer(
            instance=self.instance, data=payload, context={"request": self.request}
        )
        if not serializer.is_valid():
            self._apply_errors(kind, serializer.errors)
            if "config" not in serializer.errors and check is not None:
                # DRF skips the object-level checks (config included) when a
                # field failed; run the kind's validator so all errors show at once.
                try:
                    validate_config(kind, config)
                except serializers.ValidationError as exc:
                    self._apply_config_errors(kind, exc.detail)
        elif not parse_failed:
            self.validated_data = dict(serializer.validated_data)
        return cleaned

    def _apply_errors(self, kind: str, errors: dict[str, Any]) -> None:
        for key, detail in errors.items():
            if key == "config":
                self._apply_config_errors(kind, detail)
            elif key in self.fields and key in self.COMMON_FIELDS:
                self.add_error(key, flatten_errors(detail))
            elif key == "non_field_errors":
                self.add_error(None, flatten_errors(detail))
            else:
                self.add_error(None, flatten_errors(detail, f"{key}: "))

    def _apply_config_errors(self, kind: str, detail: Any) -> None:
        if kind not in self.kinds:
            self.add_error("kind", flatten_errors(detail))
            return
        if not isinstance(detail, dict):
            self.config_errors.setdefault(kind, []).extend(flatten_errors(detail))
            self.add_error(None, "Check the settings of the selected kind.")
            return
        for name, messages in detail.items():
            form_name = config_field_name(kind, str(name))
            if form_name in self.fields:
                self.add_error(form_name, flatten_errors(messages))
            else:
                prefix = "" if name == "non_field_errors" else f"{name}: "
                self.config_errors.setdefault(kind, []).extend(flatten_errors(messages, prefix))
                self.add_error(None, "Check the settings of the selected kind.")
