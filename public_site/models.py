"""The public side's configuration: site settings, status pages, their sections.

What the public sees of monitors, incidents and maintenance is read from the
other apps (state, rollups, open incidents); this app only stores how to
present it.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from monitors.models import Monitor

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Lower-case letters, digits and dashes, starting and ending with a letter or digit.",
)


class Theme(models.TextChoices):
    SYSTEM = "system", "Follow the system"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class SiteSettings(models.Model):
    """The one row of site-wide settings (``SiteSettings.load()``)."""

    name = models.CharField(max_length=100, default="Beacon")
    logo_url = models.CharField(max_length=2000, blank=True, default="")
    description = models.TextField(max_length=5000, blank=True, default="")
    description_html = models.TextField(blank=True, default="")
    public_url = models.URLField(max_length=500, blank=True, default="")
    time_zone = models.CharField(max_length=64, default="UTC")
    color_up = models.CharField(max_length=7, default="#16a34a")
    color_degraded = models.CharField(max_length=7, default="#d97706")
    color_down = models.CharField(max_length=7, default="#dc2626")
    color_maintenance = models.CharField(max_length=7, default="#2563eb")
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    footer = models.TextField(max_length=2000, blank=True, default="")
    footer_html = models.TextField(blank=True, default="")
    announcement = models.TextField(max_length=2000, blank=True, default="")
    announcement_html = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> SiteSettings:
        """The settings row, created with defaults on first use."""
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class StatusPage(models.Model):
    """A public page: the home page (``is_home``) or one at ``/pages/<slug>``."""

    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True, default="")
    description_html = models.TextField(blank=True, default="")
    is_home = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_home"], condition=models.Q(is_home=True), name="one_home_page"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    """A titled group of monitors on a page (a Statuspage component group)."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    monitors = models.ManyToManyField(Monitor, through="SectionMonitor", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "id"]

    def __str__(self) -> str:
        return self.name


class SectionMonitor(models.Model):
    """A monitor's place in a section."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="entries")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="section_entries")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["section", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "monitor"], name="monitor_once_per_section")
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} in {self.section_id}"
