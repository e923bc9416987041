"""Trigger services: the only code that creates, changes, deletes or tests
triggers, shared by the console and the API.

``data`` holds plain values: ``name``, ``kind``, ``config`` (a dict),
``templates`` (a dict of template name to Mustache text) and ``is_active``.
Problems are raised as ``TriggerInvalid`` with ``errors`` shaped like DRF's:
``{"name": ["..."], "config": {"url": ["..."]}, "templates": {"body": ["..."]}}``,
all at once. The kind's notifier judges ``config`` and ``templates``
(``notifiers.trigger.TriggerNotifier``); secrets sent back masked keep their
stored value. Changes are audited (secrets masked) in their transaction.

``send_test`` sends a sample alert synchronously through the real sending
path and records it (a ``test`` notification and its delivery), so it shows
in the deliveries list like any other try.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError as DRFValidationError

from statuspage.audit import diff, record

from . import sending
from .models import Delivery, DeliveryStatus, Event, Notification, Trigger
from .notifiers import Outcome, get_sender, trigger_kinds
from .notifiers.trigger import TriggerNotifier
from .variables import sample_variables

MAX_NAME = 100


class TriggerInvalid(Exception):
    """Invalid trigger input; ``errors`` is ``{field: [message] | {key: [message]}}``."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


def notifier(kind: str) -> type[TriggerNotifier]:
    """The notifier class of a trigger kind; KeyError for an unknown kind."""
    if kind not in trigger_kinds():
        raise KeyError(kind)
    return get_sender(kind)  # type: ignore[return-value]


def _detail(exc: DRFValidationError) -> Any:
    """A DRF error detail as plain lists / dicts of strings."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return str(value)

    detail = plain(exc.detail)
    return detail if isinstance(detail, dict) else {"non_field_errors": detail}


def _name(value: Any, errors: dict[str, Any], instance: Trigger | None) -> str:
    if not isinstance(value, str):
        errors["name"] = ["Must be text."]
        return ""
    name = value.strip()
    if not name:
        errors["name"] = ["Enter a name."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"At most {MAX_NAME} characters."]
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name):
        errors["name"] = ["The name may not contain control characters."]
    else:
        taken = Trigger.objects.filter(name__iexact=name)
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["name"] = ["A trigger with this name already exists."]
    return name


def validate(data: Mapping[str, Any], *, instance: Trigger | None, now: datetime) -> dict:
    """The checked, normalised fields (all of them); ``TriggerInvalid`` otherwise.

    For an update, ``data`` holds only the fields that change.
    """
    errors: dict[str, Any] = {}
    current: dict[str, Any] = (
        {
            "name": instance.name,
            "kind": instance.kind,
            "config": instance.config,
            "templates": instance.templates,
            "is_active": instance.is_active,
        }
        if instance is not None
        else {"config": {}, "templates": {}, "is_active": True}
    )
    merged = {**current, **data}
    clean: dict[str, Any] = {"name": _name(merged.get("name", ""), errors, instance)}
    kind = merged.get("kind")
    try:
        kind_class = notifier(kind) if isinstance(kind, str) else None
    except KeyError:
        kind_class = None
    if kind_class is None:
        errors["kind"] = [f"Choose one of {', '.join(trigger_kinds())}."]
    else:
        clean["kind"] = kind
        same_kind = instance is not None and instance.kind == kind
        config = merged.get("config")
        if same_kind:
            config = kind_class.keep_secrets(config, instance.config if instance else None)
        try:
            clean["config"] = kind_class.validate_config(config)
        except DRFValidationError as exc:
            errors["config"] = _detail(exc)
        # A new kind starts from its default templates unless some are given.
        templates = merged.get("templates") if same_kind or "templates" in data else {}
        try:
            clean["templates"] = kind_class.validate_templates(templates, now=now)
        except DRFValidationError as exc:
            errors["templates"] = _detail(exc)
    is_active = merged.get("is_active", True)
    if not isinstance(is_active, bool):
        errors["is_active"] = ["Must be true or false."]
    clean["is_active"] = bool(is_active)
    if errors:
        raise TriggerInvalid(errors)
    return clean


def _state(trigger: Trigger) -> dict[str, Any]:
    """What the audit log keeps of a trigger (secrets masked)."""
    try:
        config = notifier(trigger.kind).mask_config(trigger.config or {})
    except KeyError:
        config = {}
    return {
        "name": trigger.name,
        "kind": trigger.kind,
        "config": config,
        "templates": sorted((trigger.templates or {}).keys()),
        "is_active": trigger.is_active,
    }


def create_trigger(data: Mapping[str, Any], *, now: datetime, actor: Any = None) -> Trigger:
    clean = validate(data, instance=None, now=now)
    try:
        with transaction.atomic():
            trigger = Trigger.objects.create(**clean)
            record("created", trigger, now=now, actor=actor, changes=_state(trigger))
    except IntegrityError:  # the same name created at the same moment
        raise TriggerInvalid({"name": ["A trigger with this name already exists."]}) from None
    return trigger


def update_trigger(
    trigger: Trigger, data: Mapping[str, Any], *, now: datetime, actor: Any = None
) -> Trigger:
    """Change a trigger; keys missing from ``data`` keep their current values."""
    try:
        return _update(trigger, data, now=now, actor=actor)
    except IntegrityError:  # renamed to a name taken at the same moment
        raise TriggerInvalid({"name": ["A trigger with this name already exists."]}) from None


def _update(trigger: Trigger, data: Mapping[str, Any], *, now: datetime, actor: Any) -> Trigger:
    with transaction.atomic():
        trigger = Trigger.objects.select_for_update().get(pk=trigger.pk)
        before, raw_config = _state(trigger), dict(trigger.config or {})
        clean = validate(data, instance=trigger, now=now)
        for name, value in clean.items():
            setattr(trigger, name, value)
        trigger.save()
        changes = diff(before, _state(trigger))
        if "config" not in changes and raw_config != trigger.config:
            changes["secrets"] = ["", "changed"]  # masked in the log, but changed
        if changes:
            record("updated", trigger, now=now, actor=actor, changes=changes)
    return trigger


def delete_trigger(trigger: Trigger, *, now: datetime, actor: Any = None) -> None:
    """Delete a trigger; its past deliveries stay (their ``target`` text says where)."""
    with transaction.atomic():
        record("deleted", trigger, now=now, actor=actor, changes=_state(trigger))
        trigger.delete()


@dataclass(frozen=True)
class TestResult:
    ok: bool
    status_code: int | None
    body: str
    error: str
    duration_ms: float
    delivery_id: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status_code": self.status_code,
            "body": self.body,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "delivery_id": self.delivery_id,
        }


def send_test(trigger: Trigger, *, now: datetime) -> TestResult:
    """Send a sample TRIGGERED alert through ``trigger`` now (even when it is
    inactive), record it as a ``test`` delivery and return what the receiver said."""
    kind_class = notifier(trigger.kind)
    lease = sending.new_lease(now)
    with transaction.atomic():
        notification = Notification.objects.create(
            event=Event.TEST,
            context=sample_variables(now=now),
            created_at=now,
            planned_at=now,
        )
        # Created already claimed: no sending pass of a worker can take it first.
        delivery = Delivery.objects.create(
            notification=notification,
            trigger=trigger,
            channel=trigger.kind,
            target=kind_class.target_text(trigger.config or {})[:300],
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            claimed_until=lease,
            created_at=now,
        )
    report = sending.send_claimed([delivery.pk], lease, sending.clock_from(now))
    outcome = report.outcomes.get(delivery.pk) or Outcome.failure(
        "The test was not sent.", transient=False
    )
    return TestResult(
        ok=outcome.ok,
        status_code=outcome.status_code,
        body=outcome.response_body,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        delivery_id=delivery.pk,
    )
