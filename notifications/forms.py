"""Console forms of triggers and the delivery list's filters.

``TriggerForm`` only collects input: each kind's fields in a shape people
can type (headers as ``Name: value`` lines, addresses and URLs one per line)
and one textarea per template, pre-filled with the kind's default.
``notifications.trigger_services`` validates (the same judge as the API)
and its errors are put back next to the fields: ``config`` keys on the field
of the same name, ``templates`` on ``template_<name>``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from .models import DeliveryStatus, Event, Trigger, TriggerKind
from .notifiers.trigger import TriggerNotifier
from .notifiers.webhook import METHODS
from .trigger_services import notifier

_SPLIT = re.compile(r"[\n,;]+")

CONFIG_FIELDS: dict[str, tuple[str, ...]] = {
    "webhook": ("url", "method", "headers", "secret"),
    "slack": ("url",),
    "discord": ("url",),
    "email": ("recipients",),
    "apprise": ("urls",),
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class TriggerForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Shown in the rule editor and the logs.")
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="Inactive triggers never fire."
    )

    def __init__(
        self, *args: Any, kind: str, trigger: Trigger | None = None, **kwargs: Any
    ) -> None:
        self.kind = kind
        self.kind_class: type[TriggerNotifier] = notifier(kind)
        self.trigger = trigger
        initial: dict[str, Any] = {"is_active": True}
        config: dict[str, Any] = {}
        templates: dict[str, Any] = {}
        if trigger is not None:
            initial.update(name=trigger.name, is_active=trigger.is_active)
            config = self.kind_class.mask_config(trigger.config or {})
            templates = trigger.templates or {}
        initial.update(self._config_initial(config))
        for spec in self.kind_class.templates:
            initial[f"template_{spec.name}"] = self.kind_class.source(templates, spec.name)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self._add_config_fields()
        for spec in self.kind_class.templates:
            rows = 3 if spec.fmt == "line" else 16
            self.fields[f"template_{spec.name}"] = forms.CharField(
                label=spec.label,
                required=False,
                strip=False,
                help_text=f"{spec.help_text} Empty: the default.",
                widget=forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}),
            )

    # --- the kind's fields ------------------------------------------------------------

    def _add_config_fields(self) -> None:
        help_texts = {name: f.help_text for name, f in self.kind_class.Config().fields.items()}
        fields: dict[str, forms.Field] = {}
        if self.kind in ("webhook", "slack", "discord"):
            fields["url"] = forms.CharField(
                label="Webhook URL" if self.kind != "webhook" else "URL",
                max_length=2048,
                required=False,
                help_text=help_texts.get("url", ""),
                widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
            )
        if self.kind == "webhook":
            fields["method"] = forms.ChoiceField(choices=[(m, m) for m in METHODS])
            fields["headers"] = forms.CharField(
                required=False,
                help_text="One per line: <code>Name: value</code>. Values of Authorization, "
                "token, key, secret and cookie headers are shown masked.",
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            )
            fields["secret"] = forms.CharField(
                required=False,
                max_length=200,
                help_text="When set, requests carry X-Beacon-Timestamp and X-Beacon-Signature "
                "(sha256=HMAC of &quot;{timestamp}.{body}&quot;). Shown masked; clear to remove.",
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        if self.kind == "email":
            fields["recipients"] = forms.CharField(
                required=False,
                help_text="One address per line (at most 50). The SMTP server and sender "
                "address are settings (BEACON_SMTP_*).",
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            )
        if self.kind == "apprise":
            fields["urls"] = forms.CharField(
                label="Apprise URLs",
                required=False,
                help_text="One per line (at most 10), for example "
                "<code>tgram://bottoken/ChatID</code>, <code>ntfys://ntfy.sh/topic</code>, "
                "<code>pover://user@token</code>. Shown masked: they hold tokens.",
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            )
        self.fields.update(fields)

    def _config_initial(self, config: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        if "url" in config:
            initial["url"] = config["url"]
        if self.kind == "webhook":
            initial["method"] = config.get("method", "POST")
            headers = config.get("headers") or {}
            initial["headers"] = "\n".join(f"{k}: {v}" for k, v in headers.items())
            initial["secret"] = config.get("secret", "")
        if self.kind == "email":
            initial["recipients"] = "\n".join(config.get("recipients") or [])
        if self.kind == "apprise":
            initial["urls"] = "\n".join(config.get("urls") or [])
        return initial

    def config_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CONFIG_FIELDS[self.kind]]

    def template_fields(self) -> list[forms.BoundField]:
        return [self[f"template_{spec.name}"] for spec in self.kind_class.templates]

    def clean_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for number, line in enumerate(_lines(self.cleaned_data.get("headers") or ""), 1):
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError(f"Line {number}: write Name: value.")
            headers[name.strip()] = value.strip()
        return headers

    # --- to the service ----------------------------------------------------------------

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        config: dict[str, Any] = {}
        if self.kind in ("webhook", "slack", "discord"):
            config["url"] = data.get("url", "")
        if self.kind == "webhook":
            config["method"] = data.get("method") or "POST"
            config["headers"] = data.get("headers") or {}
            if data.get("secret"):
                config["secret"] = data["secret"]
        if self.kind == "email":
            config["recipients"] = [a for a in _SPLIT.split(data.get("recipients") or "") if a]
            config["recipients"] = [a.strip() for a in config["recipients"] if a.strip()]
        if self.kind == "apprise":
            config["urls"] = _lines(data.get("urls") or "")
        templates = {
            spec.name: data.get(f"template_{spec.name}") or "" for spec in self.kind_class.templates
        }
        return {
            "name": data.get("name", ""),
            "kind": self.kind,
            "is_active": bool(data.get("is_active")),
            "config": config,
            "templates": templates,
        }

    def apply(self, errors: dict[str, Any]) -> None:
        """Put the service's errors next to the fields they name."""
        for key, value in errors.items():
            if key in ("config", "templates") and isinstance(value, dict):
                for sub, messages in value.items():
                    field = sub if key == "config" else f"template_{sub}"
                    self._add(field, messages)
            else:
                self._add(key, value)

    def _add(self, field: str, messages: Any) -> None:
        if isinstance(messages, dict):
            messages = [f"{k}: {v}" for k, v in messages.items()]
        if not isinstance(messages, list):
            messages = [str(messages)]
        name = field if field in self.fields else None
        if name is not None and name in self.errors:
            return  # the form's own message for this field is the clearer one
        self.add_error(name, [str(m) for m in messages])


class DeliveryFilter(forms.Form):
    """The delivery list's URL filters (invalid values are ignored)."""

    status = forms.ChoiceField(
        choices=[("", "Any status"), *DeliveryStatus.choices], required=False
    )
    trigger = forms.ModelChoiceField(
        queryset=Trigger.objects.order_by("name"), required=False, empty_label="Any trigger"
    )
    event = forms.ChoiceField(choices=[("", "Any event"), *Event.choices], required=False)
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class TriggerFilter(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *TriggerKind.choices], required=False)
    active = forms.ChoiceField(
        choices=[("", "Active or not"), ("1", "Active"), ("0", "Inactive")], required=False
    )
    q = forms.CharField(required=False, max_length=100, label="Name")
