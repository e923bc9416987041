"""Alert-rule services: the only code that creates, changes or deletes rules
(and removes alert-log entries), shared by the console and the API.

``data`` holds plain values: ``monitors`` (a list of ``Monitor``), ``kind``,
``value``, ``failure_threshold``, ``success_threshold``, ``severity``,
``create_incident``, ``is_active``, ``description`` and, optionally,
``triggers`` (a list of ``notifications.models.Trigger``: where the rule's
TRIGGERED / RESOLVED go; absent keeps them). Problems are raised as
``django.core.exceptions.ValidationError({field: [message]})``, all at once.

``value`` is checked against the kind and normalised to text without trailing
zeros (``"1000"``, ``"99.9"``), because it appears verbatim in incident
titles: STATUS takes ``DOWN`` or ``DEGRADED``; LATENCY milliseconds > 0;
UPTIME a percentage from 0 to 100.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from monitors.models import Monitor
from statuspage.audit import diff, record, snapshot

from .models import AlertEvent, AlertRule, RuleKind, Severity

STATUS_VALUES = ("DOWN", "DEGRADED")
MAX_THRESHOLD = 1000
MAX_DESCRIPTION = 5000
DEFAULTS: dict[str, Any] = {
    "failure_threshold": 3,
    "success_threshold": 2,
    "severity": Severity.CRITICAL,
    "create_incident": True,
    "is_active": True,
    "description": "",
}


def normalise_number(text: Any) -> str:
    """``"1000.0"`` -> ``"1000"``, ``"99.90"`` -> ``"99.9"``; ValueError when not a number."""
    try:
        number = Decimal(str(text).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not a number")
    out = format(number.normalize(), "f")
    return "0" if out in ("-0", "") else out


MAX_LATENCY_MS = Decimal(3_600_000)
MAX_DECIMALS = 3


def normalise_value(kind: str, value: Any) -> str:
    """The rule value as stored; ValueError with a message for people when invalid.

    The one place rule values are judged: the console form and the API both
    call it. Numbers keep at most three decimals and lose trailing zeros.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("Must be a string or a number.")
    if kind == RuleKind.STATUS:
        text = str(value or "").strip()
        if text not in STATUS_VALUES:  # exact: "down" is a typo to report, not to guess
            raise ValueError("For a status rule choose DOWN or DEGRADED.")
        return text
    if kind not in (RuleKind.LATENCY, RuleKind.UPTIME):
        raise ValueError("Unknown kind.")
    latency = kind == RuleKind.LATENCY
    message = (
        f"Enter the latency in milliseconds, a number above 0 and at most {MAX_LATENCY_MS}."
        if latency
        else "Enter the uptime as a percentage from 0 to 100."
    )
    try:
        text = normalise_number(value)
    except ValueError as exc:
        raise ValueError(message) from exc
    number = Decimal(text)
    if (latency and not Decimal(0) < number <= MAX_LATENCY_MS) or (
        not latency and not Decimal(0) <= number <= Decimal(100)
    ):
        raise ValueError(message)
    if number != number.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
        raise ValueError(f"At most {MAX_DECIMALS} decimal places.")
    return text


def _threshold(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    number = int(str(value).strip())
    if not 1 <= number <= MAX_THRESHOLD:
        raise ValueError
    return number


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalised rule fields; ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    monitors = list(data.get("monitors") or [])
    if not monitors:
        errors["monitors"] = ["Choose at least one monitor."]
    elif not all(isinstance(m, Monitor) and m.pk for m in monitors):
        errors["monitors"] = ["Unknown monitor."]
    clean["monitors"] = monitors
    kind = str(data.get("kind") or "")
    if kind not in RuleKind.values:
        errors["kind"] = [f"Choose one of {', '.join(RuleKind.values)}."]
    else:
        clean["kind"] = kind
        try:
            clean["value"] = normalise_value(kind, data.get("value"))
        except ValueError as exc:
            errors["value"] = [str(exc)]
    for name in ("failure_threshold", "success_threshold"):
        try:
            clean[name] = _threshold(data.get(name, DEFAULTS[name]))
        except (TypeError, ValueError):
            errors[name] = [f"Enter a whole number from 1 to {MAX_THRESHOLD}."]
    severity = data.get("severity", DEFAULTS["severity"])
    if severity not in Severity.values:
        errors["severity"] = [f"Choose one of {', '.join(Severity.values)}."]
    clean["severity"] = severity
    for name in ("create_incident", "is_active"):
        clean[name] = bool(data.get(name, DEFAULTS[name]))
    description = str(data.get("description") or "")
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"At most {MAX_DESCRIPTION} characters."]
    clean["description"] = description
    if "triggers" in data:
        triggers = list(data.get("triggers") or [])
        if not all(
            getattr(t, "_meta", None) and t._meta.label == "notifications.Trigger" and t.pk
            for t in triggers
        ):
            errors["triggers"] = ["Unknown trigger."]
        clean["triggers"] = triggers
    if errors:
        raise ValidationError(errors)
    return clean


def _save(rule: AlertRule, clean: dict[str, Any]) -> AlertRule:
    for name, value in clean.items():
        if name not in ("monitors", "triggers"):
            setattr(rule, name, value)
    rule.save()
    rule.monitors.set(clean["monitors"])
    if "triggers" in clean:
        rule.triggers.set(clean["triggers"])
    return rule


def create_rule(data: dict[str, Any], *, now: datetime, actor: Any = None) -> AlertRule:
    """Create a rule watching ``data["monitors"]``."""
    clean = validate(data)
    with transaction.atomic():
        rule = _save(AlertRule(), clean)
        record("created", rule, now=now, actor=actor, changes=_state(rule))
        return rule


def rule_data(rule: AlertRule) -> dict[str, Any]:
    """A rule's current values in the shape ``create_rule`` takes."""
    return {
        "monitors": list(rule.monitors.order_by("id")),
        "kind": rule.kind,
        "value": rule.value,
        "failure_threshold": rule.failure_threshold,
        "success_threshold": rule.success_threshold,
        "severity": rule.severity,
        "create_incident": rule.create_incident,
        "is_active": rule.is_active,
        "description": rule.description,
        "triggers": list(rule.triggers.order_by("id")),
    }


def update_rule(
    rule: AlertRule, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> AlertRule:
    """Change a rule; keys missing from ``data`` keep their current values.

    Existing alerts keep their state; the new settings apply from the next
    evaluation.
    """
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
        before = _state(rule)
        clean = validate({**rule_data(rule), **data})
        rule = _save(rule, clean)
        changes = diff(before, _state(rule))
        if changes:
            record("updated", rule, now=now, actor=actor, changes=changes)
        return rule


def delete_rule(rule: AlertRule, *, now: datetime, actor: Any = None) -> None:
    """Delete a rule with its alerts and their log (incidents stay)."""
    with transaction.atomic():
        record("deleted", rule, now=now, actor=actor, changes=_state(rule))
        rule.delete()


def delete_alert_event(event: AlertEvent, *, now: datetime, actor: Any = None) -> None:
    """Remove one entry from the alert log (the alert itself is unchanged)."""
    with transaction.atomic():
        record(
            "deleted",
            event,
            now=now,
            actor=actor,
            changes={"status": event.status, "at": str(event.at), "monitor": event.monitor_id},
        )
        AlertEvent.objects.filter(pk=event.pk).delete()


_AUDITED = (
    "kind",
    "value",
    "failure_threshold",
    "success_threshold",
    "severity",
    "create_incident",
    "is_active",
    "description",
)


def _state(rule: AlertRule) -> dict[str, Any]:
    state = snapshot(rule, _AUDITED)
    state["monitors"] = sorted(rule.monitors.values_list("tag", flat=True))
    state["triggers"] = sorted(rule.triggers.values_list("id", flat=True))
    return state
