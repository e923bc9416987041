"""Integration services: the only code that creates, changes, re-keys or
deletes integrations, shared by the console and the API. Each change writes
an audit entry (``statuspage.audit.record``) in its transaction; the secret
never appears in the audit, only the fact that it changed.

``data`` holds plain values: ``name``, ``source`` (fixed once created: the
URL depends on it), ``secret`` (several lines = several secrets, for
rotation), ``quiet_resolve_minutes`` (default: 60 for sources that never send
a resolve, else 0), ``min_severity``, ``failed_deployment_opens_alert``,
``is_active``. Problems are raised as
``django.core.exceptions.ValidationError({field: [message]})``, all at once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from statuspage.audit import diff, record, snapshot

from .models import Integration, MinSeverity, SourceKind, new_token
from .sources import base

MAX_NAME = 100
MAX_SECRET = 500
MAX_QUIET_MINUTES = 7 * 24 * 60
DEFAULT_QUIET_MINUTES = 60
_AUDITED = (
    "name",
    "source",
    "quiet_resolve_minutes",
    "min_severity",
    "failed_deployment_opens_alert",
    "is_active",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\ud800-\udfff]")


def default_quiet_minutes(source: str) -> int:
    """60 for sources that never send a resolve (Splunk, Datadog), else 0."""
    try:
        return 0 if base.get(source).sends_resolve else DEFAULT_QUIET_MINUTES
    except KeyError:
        return 0


def endpoint_url(integration: Integration, *, with_token: bool = True) -> str:
    """The absolute URL to paste into the vendor's tool (``BEACON_SITE_URL``
    + the source's endpoint), with ``?token=`` unless asked otherwise."""
    from django.urls import reverse

    url = settings.SITE_URL.rstrip("/") + reverse(f"inbound-{integration.source}")
    return f"{url}?token={integration.token}" if with_token else url


def _bool(value: Any, name: str, errors: dict[str, list[str]]) -> bool:
    if isinstance(value, bool):
        return value
    errors[name] = ["Must be true or false."]
    return False


def validate(data: dict[str, Any], *, instance: Integration | None = None) -> dict[str, Any]:
    """Checked and normalised fields; ValidationError naming every bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["Enter a name."]
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = [f"At most {MAX_NAME} characters."]
    elif _CONTROL.search(name):
        errors["name"] = ["Control characters are not allowed."]
    else:
        clean["name"] = name.strip()
        taken = Integration.objects.filter(name__iexact=clean["name"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["name"] = ["Another integration has this name."]
    source = data.get("source")
    if source not in SourceKind.values:
        errors["source"] = [f"Choose one of {', '.join(SourceKind.values)}."]
    elif instance is not None and source != instance.source:
        errors["source"] = [
            "The source of an integration cannot change (its URL depends on it); "
            "create a new integration."
        ]
    else:
        clean["source"] = source
    secret = data.get("secret", "")
    if not isinstance(secret, str):
        errors["secret"] = ["Must be text."]
    elif len(secret) > MAX_SECRET:
        errors["secret"] = [f"At most {MAX_SECRET} characters."]
    elif _CONTROL_BUT_NEWLINE.search(secret.replace("\r\n", "\n")):
        errors["secret"] = ["Control characters are not allowed (one secret a line)."]
    else:
        clean["secret"] = "\n".join(base.split_secrets(secret))
    quiet = data.get("quiet_resolve_minutes")
    if quiet is None or quiet == "":
        quiet = default_quiet_minutes(str(source)) if instance is None else None
    if quiet is not None:
        if isinstance(quiet, bool) or not isinstance(quiet, int | str):
            errors["quiet_resolve_minutes"] = ["Enter a whole number of minutes."]
        else:
            try:
                number = int(str(quiet).strip())
            except ValueError:
                number = -1
            if not 0 <= number <= MAX_QUIET_MINUTES:
                errors["quiet_resolve_minutes"] = [
                    f"Enter a whole number of minutes from 0 to {MAX_QUIET_MINUTES}."
                ]
            else:
                clean["quiet_resolve_minutes"] = number
    min_severity = data.get("min_severity", MinSeverity.WARNING)
    if min_severity not in MinSeverity.values:
        errors["min_severity"] = [f"Choose one of {', '.join(MinSeverity.values)}."]
    else:
        clean["min_severity"] = min_severity
    clean["failed_deployment_opens_alert"] = _bool(
        data.get("failed_deployment_opens_alert", False), "failed_deployment_opens_alert", errors
    )
    clean["is_active"] = _bool(data.get("is_active", True), "is_active", errors)
    if errors:
        raise ValidationError(errors)
    return clean


def integration_data(integration: Integration) -> dict[str, Any]:
    """An integration's current values in the shape ``create_integration`` takes."""
    return {
        "name": integration.name,
        "source": integration.source,
        "secret": integration.secret,
        "quiet_resolve_minutes": integration.quiet_resolve_minutes,
        "min_severity": integration.min_severity,
        "failed_deployment_opens_alert": integration.failed_deployment_opens_alert,
        "is_active": integration.is_active,
    }


def _state(integration: Integration) -> dict[str, Any]:
    state = snapshot(integration, _AUDITED)
    state["has_secret"] = bool(integration.secret)
    return state


def _save(integration: Integration, clean: dict[str, Any]) -> Integration:
    for name, value in clean.items():
        setattr(integration, name, value)
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError:
        # Two admins creating the same name at once: the constraint decides.
        raise ValidationError({"name": ["Another integration has this name."]}) from None
    return integration


def create_integration(data: dict[str, Any], *, now: datetime, actor: Any = None) -> Integration:
    """Create an integration; its token is generated."""
    clean = validate(data)
    with transaction.atomic():
        integration = _save(Integration(), clean)
        record("created", integration, now=now, actor=actor, changes=_state(integration))
        return integration


def update_integration(
    integration: Integration, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> Integration:
    """Change an integration; keys missing from ``data`` keep their values."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        before = _state(integration)
        old_secret = integration.secret
        clean = validate({**integration_data(integration), **data}, instance=integration)
        integration = _save(integration, clean)
        changes = diff(before, _state(integration))
        if integration.secret != old_secret:
            changes["secret"] = ["(hidden)", "(changed)"]
        if changes:
            record("updated", integration, now=now, actor=actor, changes=changes)
        return integration


def rotate_token(integration: Integration, *, now: datetime, actor: Any = None) -> Integration:
    """Give the integration a new token: the old URL stops working at once."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        integration.token = new_token()
        integration.save(update_fields=["token", "updated_at"])
        record(
            "updated", integration, now=now, actor=actor, changes={"token": ["(old)", "(rotated)"]}
        )
        return integration


def delete_integration(integration: Integration, *, now: datetime, actor: Any = None) -> None:
    """Delete an integration with its deliveries and alerts (deployments and
    incidents stay)."""
    with transaction.atomic():
        record(
            "deleted",
            integration,
            now=now,
            actor=actor,
            changes=_state(integration),
        )
        integration.delete()
