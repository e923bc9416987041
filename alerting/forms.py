"""Console forms of the alerting app, and the rule's sentence in words.

The rule form only collects input; ``alerting.rule_services`` validates and
normalises it and its ``ValidationError`` is put back next to the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from monitors.models import Monitor
from notifications.models import Trigger

from .models import AlertRule, AlertStatus, RuleKind, Severity
from .rule_services import DEFAULTS, normalise_value


def _names(names: Sequence[str]) -> str:
    if not names:
        return "the chosen monitors"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _checks(count: int) -> str:
    return f"{count} consecutive check{'s' if count != 1 else ''}"


def rule_sentence(names: Sequence[str], kind: str, value: Any, failure: Any, success: Any) -> str:
    """The rule in words, e.g. "Trigger when Payment API is DOWN for 3 consecutive
    checks; resolve after 2 UP checks"."""
    who = _names(list(names))
    try:
        failure_n = int(str(failure))
        success_n = int(str(success))
    except (TypeError, ValueError):
        return "Enter whole numbers of checks to see the rule in words."
    if failure_n < 1 or success_n < 1:
        return "The numbers of checks must be at least 1."
    try:
        shown = normalise_value(kind, value)
    except ValueError as exc:
        return str(exc)
    if kind == RuleKind.STATUS:
        return (
            f"Trigger when {who} is {shown} for {_checks(failure_n)}; "
            f"resolve after {success_n} UP check{'s' if success_n != 1 else ''}"
        )
    if kind == RuleKind.LATENCY:
        return (
            f"Trigger when {who} responds slower than {shown} ms for {_checks(failure_n)}; "
            f"resolve after {success_n} check{'s' if success_n != 1 else ''} "
            f"faster than {shown} ms"
        )
    return (
        f"Trigger when uptime of {who} over the last {failure_n} check"
        f"{'s' if failure_n != 1 else ''} falls below {shown}%; resolve when uptime over "
        f"the last {success_n} check{'s' if success_n != 1 else ''} is {shown}% or more"
    )


def sentence_for(rule: AlertRule) -> str:
    return rule_sentence(
        [m.name for m in rule.monitors.all()],
        rule.kind,
        rule.value,
        rule.failure_threshold,
        rule.success_threshold,
    )


class RuleForm(forms.Form):
    monitors = forms.ModelMultipleChoiceField(
        queryset=Monitor.objects.order_by("name", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text="The rule is evaluated on each of these monitors separately.",
    )
    kind = forms.ChoiceField(
        choices=RuleKind.choices,
        help_text="Status: the check's result. Latency: response time. "
        "Uptime: share of good checks.",
    )
    value = forms.CharField(
        required=False,
        max_length=32,
        help_text="Status: DOWN or DEGRADED. Latency: milliseconds. Uptime: percent (0-100).",
    )
    failure_threshold = forms.CharField(
        label="Trigger after (checks)",
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
    )
    success_threshold = forms.CharField(
        label="Resolve after (checks)",
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
    )
    severity = forms.ChoiceField(choices=Severity.choices)
    create_incident = forms.BooleanField(
        required=False, help_text="Open an incident when the alert triggers."
    )
    is_active = forms.BooleanField(required=False, label="Active")
    description = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    triggers = forms.ModelMultipleChoiceField(
        queryset=Trigger.objects.order_by("name", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text="Notified when the alert triggers and when it resolves "
        "(inactive triggers never fire).",
    )

    FIELDS = (
        "monitors",
        "kind",
        "value",
        "failure_threshold",
        "success_threshold",
        "severity",
        "create_incident",
        "is_active",
        "description",
        "triggers",
    )

    def __init__(self, *args: Any, rule: AlertRule | None = None, **kwargs: Any) -> None:
        if rule is not None:
            initial = {
                name: getattr(rule, name)
                for name in self.FIELDS
                if name not in ("monitors", "triggers")
            }
            initial["monitors"] = list(rule.monitors.all())
            initial["triggers"] = list(rule.triggers.all())
        else:
            initial = {**DEFAULTS, "kind": RuleKind.STATUS, "value": "DOWN"}
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["monitors"] = list(data.get("monitors") or [])
        data["triggers"] = list(data.get("triggers") or [])
        return data

    def apply(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)

    def sentence(self) -> str:
        """The live sentence for the current (bound or initial) values."""
        if self.is_bound:
            ids = [i for i in self.data.getlist("monitors") if str(i).isdigit()]
            names = list(
                Monitor.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
            )
            get = self.data.get
        else:
            names = [m.name for m in self.initial.get("monitors", [])]
            get = self.initial.get
        return rule_sentence(
            names,
            get("kind", ""),
            get("value", ""),
            get("failure_threshold", ""),
            get("success_threshold", ""),
        )


class AlertLogFilter(forms.Form):
    """The alert log's URL filters (invalid values are ignored)."""

    rule = forms.ModelChoiceField(
        queryset=AlertRule.objects.all(), required=False, empty_label="Any rule"
    )
    monitor = forms.ModelChoiceField(
        queryset=Monitor.objects.order_by("name"),
        required=False,
        to_field_name="tag",
        empty_label="Any monitor",
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *AlertStatus.choices], required=False)
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
