"""Forms of the public subscriber pages (subscribe, manage) and the console.

Forms only collect input; the rules live in
``notifications.subscriber_services`` and its ``SubscriberError(field,
message)`` is put back next to the field it names (``apply_error``).
Monitors are chosen by tag among public monitors; values are checked for
shape and count before any query, so a hostile list costs nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from monitors.models import Monitor, tag_validator

from .subscriber_services import MAX_MONITORS, Choices, SubscriberError, public_monitors

SCOPE_CHOICES = [
    ("all", "Everything"),
    ("some", "Only the services I choose"),
]


def apply_error(form: forms.Form, error: SubscriberError) -> None:
    """Show a service error next to its field (or above the form)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class MonitorsField(forms.ModelMultipleChoiceField):
    """Public monitors by tag, at most ``MAX_MONITORS``, each a well-formed tag."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", public_monitors())
        kwargs.setdefault("to_field_name", "tag")
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Monitor) -> str:
        return obj.name

    def clean(self, value: Any) -> Any:
        if value and isinstance(value, list | tuple):
            if len(value) > MAX_MONITORS:
                raise ValidationError(f"Choose at most {MAX_MONITORS} services.")
            for item in value:
                try:
                    tag_validator(str(item))
                except ValidationError:
                    raise ValidationError("Choose services from the list.") from None
        return super().clean(value)


class ChoicesForm(forms.Form):
    """What to follow: everything or chosen services, incidents and/or maintenance."""

    scope = forms.ChoiceField(
        label="Notify me about",
        choices=SCOPE_CHOICES,
        initial="all",
        widget=forms.RadioSelect,
    )
    monitors = MonitorsField(label="Services")
    notify_incidents = forms.BooleanField(
        label="Incidents", required=False, initial=True, help_text="Outages and their updates."
    )
    notify_maintenance = forms.BooleanField(
        label="Scheduled maintenance",
        required=False,
        initial=True,
        help_text="When maintenance is planned, starts and ends.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["monitors"].queryset = public_monitors()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scope") == "some" and "monitors" in data and not data["monitors"]:
            self.add_error("monitors", "Choose at least one service, or everything.")
        if (
            "notify_incidents" in data
            and not data.get("notify_incidents")
            and not data.get("notify_maintenance")
        ):
            self.add_error("notify_incidents", "Choose incidents, maintenance or both.")
        return data

    def choices(self) -> Choices:
        data = self.cleaned_data
        everything = data["scope"] == "all"
        return Choices(
            all_monitors=everything,
            monitors=[] if everything else list(data["monitors"]),
            notify_incidents=bool(data.get("notify_incidents")),
            notify_maintenance=bool(data.get("notify_maintenance")),
        )

    @staticmethod
    def initial_from(choices: Choices) -> dict[str, Any]:
        return {
            "scope": "all" if choices.all_monitors else "some",
            "monitors": [m.tag for m in choices.monitors],
            "notify_incidents": choices.notify_incidents,
            "notify_maintenance": choices.notify_maintenance,
        }


class SubscribeForm(ChoicesForm):
    """The public subscribe form. ``website`` is a honeypot: people leave it
    empty (it is hidden); a bot that fills it gets the usual answer and nothing
    is done."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
        help_text="We send one mail with a confirmation link first.",
    )
    website = forms.CharField(
        required=False,
        max_length=200,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    field_order = ["email", "scope", "monitors", "notify_incidents", "notify_maintenance"]

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class WebhookSubscriberForm(ChoicesForm):
    """Console: add a webhook subscriber (its URL is called once to verify it)."""

    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="Called with a signed JSON POST for every event; it must answer 2xx "
        "to a test call now.",
    )

    field_order = ["url", "scope", "monitors", "notify_incidents", "notify_maintenance"]
