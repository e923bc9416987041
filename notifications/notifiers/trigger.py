"""The base of the five trigger kinds: a sender that also knows its trigger's
config and templates.

One class per kind declares:

* ``Config``: a strict DRF serializer for ``Trigger.config`` (errors name the
  key; the API and the console form both call ``validate_config``);
* ``templates``: its template names with their format and default source
  (a trigger stores only the ones it customises);
* ``secret_fields``: config keys shown masked and kept when sent back masked;
* ``deliver(delivery_id, config, rendered)``: one try, returning an ``Outcome``.

``send`` loads what a delivery needs (trigger config, the notification's
variable snapshot), refuses inactive triggers (except for "send test") and
renders the templates for the kind's formats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from rest_framework import serializers

from monitors.checks.fields import StrictConfig, StrictStr
from notifications import templating
from notifications.variables import NAMES, validation_samples

from .base import Outcome, Sender

if TYPE_CHECKING:
    from notifications.models import Delivery

MASK = "••••••••"
MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class TemplateSpec:
    """One template of a kind: its name in ``Trigger.templates``, format and default."""

    name: str
    label: str
    fmt: str
    default: str
    help_text: str = ""


def validate_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, no spaces; returned stripped."""
    text = value.strip()
    if not text:
        raise serializers.ValidationError("Enter a URL.")
    if any(ch.isspace() for ch in text) or any(ord(ch) < 32 for ch in text):
        raise serializers.ValidationError("The URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise serializers.ValidationError(f"Not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise serializers.ValidationError("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise serializers.ValidationError("The URL needs a host.")
    return text


def url_field(label: str, help_text: str) -> StrictStr:
    return StrictStr(max_length=MAX_URL_LENGTH, label=label, help_text=help_text)


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/••••••••``: scheme and host, the secret path hidden."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    return f"{parts.scheme}://{host}{port}/{MASK}" if parts.scheme and host else MASK


def short_url(url: str) -> str:
    """Scheme, host and path without query or credentials (for target texts)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    except ValueError:
        return url[:100]


class TriggerNotifier(Sender):
    """A trigger kind (see the module docstring)."""

    Config: ClassVar[type[serializers.Serializer]] = StrictConfig
    templates: ClassVar[tuple[TemplateSpec, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    # --- configuration ------------------------------------------------------------

    @classmethod
    def validate_config(cls, data: Any) -> dict[str, Any]:
        """The normalised config; a DRF ``ValidationError`` ``{key: [message]}`` otherwise."""
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["Must be a JSON object."]})
        serializer = cls.Config(data=dict(data))
        serializer.is_valid(raise_exception=True)
        return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}

    @classmethod
    def template_spec(cls, name: str) -> TemplateSpec | None:
        return next((spec for spec in cls.templates if spec.name == name), None)

    @classmethod
    def validate_templates(cls, data: Any, *, now: datetime) -> dict[str, str]:
        """The customised templates (blank or default ones dropped); a DRF
        ``ValidationError`` ``{name: [reason]}`` for the ones that cannot be used."""
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Must be a JSON object of template names to text."]}
            )
        names = ", ".join(spec.name for spec in cls.templates)
        errors: dict[str, list[str]] = {}
        clean: dict[str, str] = {}
        samples = validation_samples(now)
        for key, source in list(data.items())[:20]:
            spec = cls.template_spec(str(key))
            if spec is None:
                errors[str(key)[:60]] = [f"Unknown template; this kind has: {names}."]
                continue
            if source is None:
                continue
            if not isinstance(source, str):
                errors[spec.name] = ["Must be text."]
                continue
            if not source.strip() or _same(source, spec.default):
                continue  # the default: stored as nothing, so it follows upgrades
            try:
                templating.validate(source, spec.fmt, samples, NAMES)
            except templating.TemplateError as exc:
                errors[spec.name] = [str(exc)]
                continue
            clean[spec.name] = source
        if len(data) > 20:
            errors["non_field_errors"] = ["Too many templates."]
        if errors:
            raise serializers.ValidationError(errors)
        return clean

    @classmethod
    def source(cls, templates: Mapping[str, Any] | None, name: str) -> str:
        """The template text in use: the trigger's own or the kind's default."""
        spec = cls.template_spec(name)
        assert spec is not None, name
        own = (templates or {}).get(name)
        return own if isinstance(own, str) and own.strip() else spec.default

    @classmethod
    def render(cls, templates: Mapping[str, Any] | None, context: Mapping[str, Any]) -> dict:
        """Every template of the kind rendered for ``context``."""
        return {
            spec.name: templating.render(cls.source(templates, spec.name), context, spec.fmt)
            for spec in cls.templates
        }

    @classmethod
    def mask_value(cls, name: str, value: Any) -> Any:
        """How a secret config value is shown (override for URLs, lists, dicts)."""
        return MASK if value else value

    @classmethod
    def mask_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with its secrets masked, for the API and the console."""
        out = dict(config)
        for name in cls.secret_fields:
            if name in out:
                out[name] = cls.mask_value(name, out[name])
        return out

    @classmethod
    def keep_secrets(cls, new: Any, stored: Mapping[str, Any] | None) -> Any:
        """``new`` with every secret that was sent back masked replaced by the stored one.

        A secret omitted from ``new`` is dropped (send the masked value to keep it).
        """
        if not isinstance(new, Mapping) or not stored:
            return new
        out = dict(new)
        for name in cls.secret_fields:
            if name in out and name in stored:
                out[name] = cls.unmask(name, out[name], stored[name])
        return out

    @classmethod
    def unmask(cls, name: str, new: Any, stored: Any) -> Any:
        return stored if new == cls.mask_value(name, stored) else new

    @classmethod
    def target_text(cls, config: Mapping[str, Any]) -> str:
        """What a delivery went to, without secrets (kept on the delivery row)."""
        return cls.label

    # --- sending --------------------------------------------------------------------

    def send(self, delivery: Delivery) -> Outcome:
        from notifications.models import Event

        trigger = delivery.trigger
        if trigger is None:
            return Outcome.failure("The trigger was deleted.", transient=False)
        notification = delivery.notification
        if not trigger.is_active and notification.event != Event.TEST:
            return Outcome.failure("The trigger is inactive.", transient=False)
        if trigger.kind != self.kind:
            return Outcome.failure(
                f"The trigger is now a {trigger.kind} trigger; this delivery was for {self.kind}.",
                transient=False,
            )
        try:
            rendered = self.render(trigger.templates, notification.context or {})
        except templating.TemplateError as exc:
            return Outcome.failure(f"Template: {exc}", transient=False)
        return self.deliver(delivery.pk, trigger.config or {}, rendered)

    def deliver(self, delivery_id: int, config: Mapping[str, Any], rendered: dict) -> Outcome:
        raise NotImplementedError


_SPACE = re.compile(r"\s+")


def _same(a: str, b: str) -> bool:
    return _SPACE.sub(" ", a).strip() == _SPACE.sub(" ", b).strip()
