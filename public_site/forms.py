"""Console forms of the public side: site settings, pages, sections.

Forms judge input strictly and name the field at fault (shown next to it);
views hand ``cleaned_data`` to ``public_site.services``.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from monitors.models import Monitor

from .models import StatusPage, Theme, slug_validator
from .status import is_hex_colour

MAX_NAME = 100
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_FOOTER = 2000
MAX_ANNOUNCEMENT = 2000
MAX_URL = 2000
MAX_PUBLIC_URL = 500
MAX_POSITION = 100_000


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _no_controls(value: str, field: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValidationError(f"{field} must not contain control characters.")
    return value


class ColourField(forms.CharField):
    """``#rrggbb``, stored lower-case."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "color"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value).strip().lower()
        if not is_hex_colour(text):
            raise ValidationError("Use a colour like #16a34a (# and six hex digits).")
        return text


class SiteSettingsForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME, help_text="Shown in the header and the browser tab."
    )
    logo_url = forms.CharField(
        label="Logo URL",
        required=False,
        max_length=MAX_URL,
        help_text="An https:// address or a path on this site (e.g. /static/logo.svg). "
        "Shown left of the name, 32 px high.",
    )
    description = forms.CharField(
        required=False,
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown, shown on the home page above the status.",
    )
    public_url = forms.URLField(
        label="Public URL",
        required=False,
        max_length=MAX_PUBLIC_URL,
        assume_scheme="https",
        help_text="Where the public reaches this page, e.g. https://status.example.com "
        "(used in feeds and e-mails).",
    )
    time_zone = forms.CharField(
        max_length=64,
        help_text="IANA name, e.g. Europe/Paris. Times are shown in it when the reader's "
        "browser runs no JavaScript; with it, each reader sees their own zone.",
    )
    color_up = ColourField(label="Operational colour")
    color_degraded = ColourField(label="Degraded colour")
    color_down = ColourField(label="Outage colour")
    color_maintenance = ColourField(label="Maintenance colour")
    theme = forms.ChoiceField(
        choices=Theme.choices,
        help_text="Readers can still switch with the theme button.",
    )
    footer = forms.CharField(
        required=False,
        max_length=MAX_FOOTER,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Markdown, shown at the bottom of every public page.",
    )
    announcement = forms.CharField(
        required=False,
        max_length=MAX_ANNOUNCEMENT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Markdown banner across the top of every public page; empty hides it.",
    )

    def clean_name(self) -> str:
        name = _no_controls(self.cleaned_data["name"].strip(), "The name")
        if not name:
            raise ValidationError("A name is required.")
        return name

    def clean_logo_url(self) -> str:
        url = self.cleaned_data["logo_url"].strip()
        if not url:
            return ""
        if url.startswith("/") and not url.startswith("//"):
            if any(c.isspace() for c in url):
                raise ValidationError("A path must not contain spaces.")
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("Use an http(s):// address or a path starting with /.")
        if any(c.isspace() for c in url):
            raise ValidationError("An address must not contain spaces.")
        return url

    def clean_public_url(self) -> str:
        url = self.cleaned_data["public_url"].strip()
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise ValidationError("Use an http:// or https:// address.")
        return url.rstrip("/")

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"].strip()
        if zone not in time_zones():
            raise ValidationError("Not a time zone name this server knows (e.g. Europe/Paris).")
        return zone

    def clean_description(self) -> str:
        return _no_controls(self.cleaned_data["description"], "The description")

    def clean_footer(self) -> str:
        return _no_controls(self.cleaned_data["footer"], "The footer")

    def clean_announcement(self) -> str:
        return _no_controls(self.cleaned_data["announcement"].strip(), "The announcement")


class PageForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE)
    slug = forms.CharField(
        max_length=64,
        help_text="The page's address: /pages/<slug>. Lower-case letters, digits and dashes.",
    )
    description = forms.CharField(
        required=False,
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown, shown above the page's status.",
    )
    is_home = forms.BooleanField(
        label="Home page",
        required=False,
        help_text="Shown at the site's root address. Only one page is the home page.",
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=MAX_POSITION,
        required=False,
        help_text="Order in the site's menu (smallest first).",
    )

    def __init__(self, *args: Any, page: StatusPage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = page

    def clean_title(self) -> str:
        title = _no_controls(self.cleaned_data["title"].strip(), "The title")
        if not title:
            raise ValidationError("A title is required.")
        return title

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        slug_validator(slug)
        taken = StatusPage.objects.filter(slug=slug)
        if self.page is not None:
            taken = taken.exclude(pk=self.page.pk)
        if taken.exists():
            raise ValidationError("Another page already uses this slug.")
        return slug

    def clean_description(self) -> str:
        return _no_controls(self.cleaned_data["description"], "The description")

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("position") is None:
            data.pop("position", None)
        return data


class SectionForm(forms.Form):
    name = forms.CharField(max_length=MAX_TITLE, label="Section name")
    description = forms.CharField(
        required=False, max_length=500, help_text="One line under the section's name."
    )

    def clean_name(self) -> str:
        name = _no_controls(self.cleaned_data["name"].strip(), "The name")
        if not name:
            raise ValidationError("A name is required.")
        return name

    def clean_description(self) -> str:
        return _no_controls(self.cleaned_data["description"].strip(), "The description")


class MonitorChoices(forms.ModelMultipleChoiceField):
    """Monitor ids; anything but a plain id of sane size is refused before it
    reaches the database (SQLite cannot even bind a 30-digit integer)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            text = str(pk)
            if not text.isascii() or not text.isdigit() or len(text) > 18:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:40]},
                )
        return super()._check_values(value)


class AddMonitorsForm(forms.Form):
    """Public monitors to append to a section."""

    monitors = MonitorChoices(
        queryset=Monitor.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Only public monitors can be shown. Hold Ctrl (or ⌘) to pick several.",
    )

    def __init__(self, *args: Any, exclude: set[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = Monitor.objects.filter(is_public=True).order_by("name")
        if exclude:
            qs = qs.exclude(pk__in=exclude)
        self.fields["monitors"].queryset = qs
