"""Console form of an integration: it only collects input;
``integrations.services.validate`` judges it and its ``ValidationError`` is
put back next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import Integration, MinSeverity, SourceKind
from .services import MAX_NAME, MAX_QUIET_MINUTES, MAX_SECRET


class IntegrationForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME, help_text="How the console and the alerts name this tool."
    )
    source = forms.ChoiceField(
        choices=SourceKind.choices,
        help_text="The tool that sends; it fixes the URL and how the body is read.",
    )
    secret = forms.CharField(
        required=False,
        max_length=MAX_SECRET,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Grafana and PagerDuty: the signing secret (requests without a valid "
        "signature are refused). Netdata: the challenge secret. One a line while rotating.",
    )
    clear_secret = forms.BooleanField(required=False, label="Remove the current secret")
    quiet_resolve_minutes = forms.CharField(
        label="Quiet period (minutes)",
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_QUIET_MINUTES, "step": 1}),
        help_text="Close an alert not seen for this long; 0 waits for the source's resolve. "
        "Empty: 60 for Splunk and Datadog (they never send one), else 0.",
    )
    min_severity = forms.ChoiceField(
        label="Open incidents for",
        choices=MinSeverity.choices,
        initial=MinSeverity.WARNING,
        help_text="Lower alerts are stored and can still join an incident.",
    )
    failed_deployment_opens_alert = forms.BooleanField(
        required=False,
        label="A failed deployment opens an alert",
        help_text="Jenkins and CloudBees: a later successful deployment resolves it.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active (accept requests)")

    def __init__(self, *args: Any, integration: Integration | None = None, **kwargs: Any) -> None:
        self.integration = integration
        if integration is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": integration.name,
                    "source": integration.source,
                    "quiet_resolve_minutes": integration.quiet_resolve_minutes,
                    "min_severity": integration.min_severity,
                    "failed_deployment_opens_alert": integration.failed_deployment_opens_alert,
                    "is_active": integration.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        if integration is not None:
            # The URL depends on the source: it is fixed once created.
            self.fields["source"].disabled = True
            self.fields["secret"].help_text = (
                "Leave empty to keep the current secret"
                + (" (one is set)" if integration.secret else " (none is set)")
                + ". "
                + self.fields["secret"].help_text
            )
        else:
            del self.fields["clear_secret"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        clear = data.pop("clear_secret", False)
        if self.integration is not None:
            data["source"] = self.integration.source
            if clear:
                data["secret"] = ""
            elif not data.get("secret"):
                data.pop("secret", None)
        quiet = (data.get("quiet_resolve_minutes") or "").strip()
        data["quiet_resolve_minutes"] = quiet or None
        return data

    def apply(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
