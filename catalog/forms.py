"""The console's service form.

It only collects input: the values go through ``ServiceSerializer`` (the API's
shape checks) and then ``catalog.services`` (the catalogue's rules); errors
from either are put back next to the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from .api.serializers import ServiceSerializer
from .models import Service, Tier
from .services import CatalogError


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for key, value in detail.items() for m in _messages(value) if key is not None]
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _messages(item)]
    return [str(detail)]


class ServiceForm(forms.Form):
    name = forms.CharField(
        required=False, strip=False, help_text="Shown in the console; alerts may use it too."
    )
    slug = forms.CharField(
        required=False,
        help_text="Short id used in URLs and the API: lower-case letters, digits and dashes.",
    )
    owner = forms.CharField(required=False, help_text="The team or person answerable for it.")
    tier = forms.TypedChoiceField(choices=Tier.choices, coerce=int, initial=Tier.TIER_3)
    description = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    aliases = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Other names alerts use for this service, one per line "
        "(e.g. Prometheus job or Datadog service names). Case does not matter.",
    )
    depends_on = forms.MultipleChoiceField(
        required=False,
        label="Depends on",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text="Services this one needs. A failure there explains one here; alerts of "
        "services one dependency apart are folded into one incident.",
    )

    FIELDS = ("name", "slug", "owner", "tier", "description", "aliases", "depends_on")

    def __init__(self, data: Any = None, *, instance: Service | None = None) -> None:
        self.instance = instance
        self.validated_data: dict[str, Any] | None = None
        initial: dict[str, Any] = {"tier": Tier.TIER_3}
        if instance is not None:
            initial = {
                "name": instance.name,
                "slug": instance.slug,
                "owner": instance.owner,
                "tier": instance.tier,
                "description": instance.description,
                "aliases": "\n".join(a.alias for a in instance.aliases.all()),
                "depends_on": [s.slug for s in instance.depends_on.all()],
            }
        super().__init__(data, initial=initial)
        others = Service.objects.order_by("name")
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        self.fields["depends_on"].choices = list(others.values_list("slug", "name"))
        for name in ("name", "slug"):
            self.fields[name].serializer_required = True  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        payload = {
            "name": cleaned.get("name", ""),
            "slug": (cleaned.get("slug") or "").strip(),
            "owner": (cleaned.get("owner") or "").strip(),
            "tier": cleaned.get("tier") or Tier.TIER_3,
            "description": cleaned.get("description", ""),
            "aliases": [
                line.strip() for line in (cleaned.get("aliases") or "").splitlines() if line.strip()
            ],
            "depends_on": list(cleaned.get("depends_on") or []),
        }
        serializer = ServiceSerializer(data=payload)
        if not serializer.is_valid():
            for key, detail in serializer.errors.items():
                field = key if key in self.fields else None
                self.add_error(field, _messages(detail))
        else:
            self.validated_data = dict(serializer.validated_data)
        return cleaned

    def apply(self, error: CatalogError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)
