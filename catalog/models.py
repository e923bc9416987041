"""The service catalogue: services, the aliases alerts call them by, and
which service depends on which.

Monitors may belong to a service (``Monitor.service``); incoming alerts are
matched to a service by slug, name or alias (case-insensitive); correlation
and the automatic investigation walk the dependency edges.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Lower-case letters, digits and dashes, starting and ending with a letter or digit.",
)


class Tier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (critical)"
    TIER_2 = 2, "Tier 2"
    TIER_3 = 3, "Tier 3"
    TIER_4 = 4, "Tier 4 (low)"


class Service(models.Model):
    """A service of the catalogue. ``depends_on`` points upstream: when ``api``
    depends on ``db``, ``db`` is upstream of ``api`` and ``db`` failing explains
    ``api`` failing (see ``catalog.graph``)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    owner = models.CharField(max_length=200, blank=True, default="")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_3)
    description = models.TextField(max_length=5000, blank=True, default="")
    depends_on = models.ManyToManyField(
        "self",
        through="ServiceDependency",
        symmetrical=False,
        related_name="dependents",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceAlias(models.Model):
    """Another name alerts use for a service (stored lower-case, unique across services)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return self.alias


class ServiceDependency(models.Model):
    """``service`` depends on ``depends_on``."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="dependent_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "depends_on"], name="dependency_once"),
            models.CheckConstraint(
                condition=~Q(service=F("depends_on")), name="service_not_own_dependency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} -> {self.depends_on_id}"
