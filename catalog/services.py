"""Catalogue services: the only code that changes services, aliases and dependencies.

Input is shape-checked already (``catalog.api.serializers.ServiceSerializer``,
also used by the console form); these functions judge it against the
catalogue and raise ``CatalogError(field, message)`` naming the field:

* ``name``: unique, case-insensitively; ``slug``: unique;
* ``aliases``: stored stripped and lower-case, each unique across services,
  and none may be another service's slug or name: alerts are matched to a
  service by slug, name or alias (``catalog.selectors.resolve_service``), so
  every such key must point at one service only;
* ``depends_on``: slugs of existing services, not the service itself, and no
  dependency cycle (the message shows the loop, ``api -> db -> api``).

Every change runs in one transaction and writes an audit entry
(``statuspage.audit.record``) with what changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from statuspage.audit import diff, record, snapshot

from .graph import find_cycle
from .models import Service, ServiceAlias, ServiceDependency

FIELDS = ("name", "slug", "owner", "tier", "description")
# /console/services/new/ is the create page: a service with that slug could never be opened.
RESERVED_SLUGS = frozenset({"new"})
MAX_ALIASES = 50
MAX_DEPENDENCIES = 100


class CatalogError(ValueError):
    """A refused change; ``field`` names the input at fault (or ``None``)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_alias(alias: str) -> str:
    """How an alias (or a name used as a key) is compared and stored."""
    return " ".join(alias.split()).lower()


def create_service(data: dict[str, Any], *, now: datetime, actor: Any = None) -> Service:
    """Create a service with its aliases and dependencies."""
    with transaction.atomic():
        service = Service(**{f: data[f] for f in FIELDS if f in data})
        _check_name_and_slug(service)
        aliases = _check_aliases(service, data.get("aliases", []))
        deps = _dependencies(service, data.get("depends_on", []))
        try:
            with transaction.atomic():
                service.save()
                ServiceAlias.objects.bulk_create(
                    [ServiceAlias(service=service, alias=a) for a in aliases]
                )
        except IntegrityError:
            raise CatalogError(None, "Another change to the catalogue got there first.") from None
        _set_dependencies(service, deps)
        record("created", service, now=now, actor=actor, changes=_state(service))
    return service


def update_service(
    service: Service, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> Service:
    """Change the given fields; ``aliases`` / ``depends_on`` (when given) replace the lists."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        before = _state(service)
        for field in FIELDS:
            if field in data:
                setattr(service, field, data[field])
        _check_name_and_slug(service)
        aliases = _check_aliases(service, data["aliases"]) if "aliases" in data else None
        deps = _dependencies(service, data["depends_on"]) if "depends_on" in data else None
        try:
            with transaction.atomic():
                service.save()
                if aliases is not None:
                    ServiceAlias.objects.filter(service=service).exclude(alias__in=aliases).delete()
                    have = set(service.aliases.values_list("alias", flat=True))
                    ServiceAlias.objects.bulk_create(
                        [ServiceAlias(service=service, alias=a) for a in aliases if a not in have]
                    )
        except IntegrityError:
            raise CatalogError(None, "Another change to the catalogue got there first.") from None
        if deps is not None:
            _set_dependencies(service, deps)
        changes = diff(before, _state(service))
        if changes:
            record("updated", service, now=now, actor=actor, changes=changes)
    return service


def delete_service(service: Service, *, now: datetime, actor: Any = None) -> None:
    """Delete a service: its aliases and dependency edges go with it; monitors,
    alerts and deployments keep existing without a service; incidents lose the link."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service.pk)
        record(
            "deleted", service, now=now, actor=actor, changes=_state(service), label=service.name
        )
        service.delete()


# --- checks -------------------------------------------------------------------------


def _others(service: Service) -> Any:
    return Service.objects.exclude(pk=service.pk) if service.pk else Service.objects.all()


def _check_name_and_slug(service: Service) -> None:
    name = service.name.strip()
    if not name:
        raise CatalogError("name", "A name is required.")
    service.name = name
    if service.slug in RESERVED_SLUGS:
        raise CatalogError("slug", f"“{service.slug}” is reserved (a word in console URLs).")
    if _others(service).filter(name__iexact=name).exists():
        raise CatalogError("name", "Another service has this name.")
    if _others(service).filter(slug=service.slug).exists():
        raise CatalogError("slug", "Another service has this slug.")
    for field, key in (("slug", service.slug), ("name", normalise_alias(name))):
        clash = ServiceAlias.objects.filter(alias=key).select_related("service")
        if service.pk:
            clash = clash.exclude(service=service)
        owner = clash.first()
        if owner is not None:
            raise CatalogError(field, f"“{owner.alias}” is an alias of {owner.service.name}.")


def _check_aliases(service: Service, raw: Iterable[str]) -> list[str]:
    aliases: list[str] = []
    for item in raw:
        alias = normalise_alias(item)
        if not alias:
            raise CatalogError("aliases", "An alias may not be blank.")
        if len(alias) > 200:
            raise CatalogError("aliases", "An alias is at most 200 characters.")
        if alias in aliases:
            raise CatalogError("aliases", f"“{alias}” is listed twice.")
        aliases.append(alias)
    if len(aliases) > MAX_ALIASES:
        raise CatalogError("aliases", f"At most {MAX_ALIASES} aliases.")
    if not aliases:
        return aliases
    taken = ServiceAlias.objects.filter(alias__in=aliases).select_related("service")
    if service.pk:
        taken = taken.exclude(service=service)
    row = taken.order_by("alias").first()
    if row is not None:
        raise CatalogError("aliases", f"“{row.alias}” is already an alias of {row.service.name}.")
    names = Q(slug__in=aliases)
    for alias in aliases:
        names |= Q(name__iexact=alias)
    other = _others(service).filter(names).order_by("name").first()
    if other is not None:
        raise CatalogError(
            "aliases", f"An alias may not be the slug or name of another service ({other.name})."
        )
    return aliases


def _dependencies(service: Service, slugs: Iterable[str]) -> list[Service]:
    """The services named by ``slugs`` (all must exist; no self, no cycle)."""
    slugs = list(dict.fromkeys(slugs))
    if len(slugs) > MAX_DEPENDENCIES:
        raise CatalogError("depends_on", f"At most {MAX_DEPENDENCIES} dependencies.")
    if service.slug in slugs:
        raise CatalogError("depends_on", "A service cannot depend on itself.")
    found = {s.slug: s for s in Service.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise CatalogError("depends_on", f"Unknown service slug(s): {', '.join(missing[:10])}.")
    deps = [found[s] for s in slugs]
    if service.pk and deps:
        # Serialise changes to the graph: two edits that each look acyclic
        # could close a loop together. Catalogue edits are rare and short.
        list(Service.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        edges = ServiceDependency.objects.values_list("service_id", "depends_on_id")
        cycle = find_cycle(list(edges), service.pk, [d.pk for d in deps])
        if cycle:
            slugs_by_id = dict(Service.objects.filter(pk__in=cycle).values_list("pk", "slug"))
            path = " -> ".join(slugs_by_id.get(pk, "?") for pk in cycle)
            raise CatalogError("depends_on", f"This would make a dependency cycle: {path}.")
    return deps


def _set_dependencies(service: Service, deps: list[Service]) -> None:
    wanted = {d.pk for d in deps}
    ServiceDependency.objects.filter(service=service).exclude(depends_on_id__in=wanted).delete()
    have = set(
        ServiceDependency.objects.filter(service=service).values_list("depends_on_id", flat=True)
    )
    ServiceDependency.objects.bulk_create(
        [ServiceDependency(service=service, depends_on_id=pk) for pk in sorted(wanted - have)]
    )


def _state(service: Service) -> dict[str, Any]:
    state = snapshot(service, FIELDS)
    state["aliases"] = sorted(service.aliases.values_list("alias", flat=True))
    state["depends_on"] = sorted(service.depends_on.values_list("slug", flat=True))
    return state
