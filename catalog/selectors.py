"""Read queries of the catalogue: matching names to services, the graph, pages.

``resolve_service(name)`` is how an incoming alert's service name finds its
service: by slug, then by name (case-insensitive), then by alias (aliases are
stored lower-case with single spaces, see ``catalog.services.normalise_alias``).
``resolve_services(names)`` does the same for many names in three queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from .graph import Graph
from .models import Service, ServiceAlias, ServiceDependency
from .services import normalise_alias

MAX_NAME = 200


def resolve_service(name: str) -> Service | None:
    """The service ``name`` refers to (slug, name or alias), or None."""
    return resolve_services([name]).get(name)


def resolve_services(names: Iterable[str]) -> dict[str, Service]:
    """``{name: Service}`` for each of ``names`` that matches a service."""
    wanted = {n: normalise_alias(n) for n in names if n and n.strip() and len(n) <= MAX_NAME}
    if not wanted:
        return {}
    keys = set(wanted.values())
    by_key: dict[str, Service] = {}
    for alias in ServiceAlias.objects.filter(alias__in=keys).select_related("service"):
        by_key[alias.alias] = alias.service
    query = Q(slug__in=keys)
    for key in keys:
        query |= Q(name__iexact=key)
    # Names and slugs win over aliases (the catalogue keeps them apart anyway).
    for service in Service.objects.filter(query):
        by_key[normalise_alias(service.name)] = service
    for service in Service.objects.filter(slug__in=keys):
        by_key[service.slug] = service
    return {name: by_key[key] for name, key in wanted.items() if key in by_key}


def load_graph() -> Graph:
    """The whole dependency graph (two integers per edge: cheap for any catalogue)."""
    return Graph.from_edges(ServiceDependency.objects.values_list("service_id", "depends_on_id"))


@dataclass(frozen=True)
class Related:
    """A service seen from another: how many hops away, and which way."""

    service: Service
    depth: int


def related(service: Service, graph: Graph | None = None) -> tuple[list[Related], list[Related]]:
    """``(upstream, downstream)`` of ``service``: its transitive dependencies and
    dependents, nearest first, then by name."""
    graph = graph or load_graph()
    up = graph.upstream(service.pk)
    down = graph.downstream(service.pk)
    rows = Service.objects.in_bulk(set(up) | set(down))

    def listed(distances: dict[int, int]) -> list[Related]:
        items = [Related(rows[pk], d) for pk, d in distances.items() if pk in rows]
        return sorted(items, key=lambda r: (r.depth, r.service.name.lower(), r.service.pk))

    return listed(up), listed(down)
