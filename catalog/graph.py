"""The dependency graph of the catalogue, as pure functions over edge lists.

Direction, used everywhere in Beacon: when ``api`` depends on ``db`` the edge
is ``api -> db``; ``db`` is *upstream* of ``api`` (failures flow downstream,
from a dependency to the services that use it) and ``api`` is *downstream* of
``db``. So the "most upstream failing service" of an incident is the root
cause candidate: a failing service none of whose (transitive) dependencies is
failing too.

Nothing here touches the database: callers load the edges
(``ServiceDependency`` rows as ``(service_id, depends_on_id)`` pairs) and pass
them in, so the rules are unit-tested without a database.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

N = TypeVar("N", bound=Hashable)

# Walking the graph stops this many hops away: a catalogue deeper than this
# is unusual, and the pages and the API stay bounded whatever it holds.
MAX_DEPTH = 25


@dataclass(frozen=True)
class Graph:
    """Adjacency both ways: ``depends_on[a]`` are a's dependencies (upstream),
    ``dependents[a]`` the services depending on a (downstream)."""

    depends_on: Mapping[int, frozenset[int]]
    dependents: Mapping[int, frozenset[int]]

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[int, int]]) -> Graph:
        up: dict[int, set[int]] = {}
        down: dict[int, set[int]] = {}
        for service, dependency in edges:
            up.setdefault(service, set()).add(dependency)
            down.setdefault(dependency, set()).add(service)
        return cls(
            depends_on={k: frozenset(v) for k, v in up.items()},
            dependents={k: frozenset(v) for k, v in down.items()},
        )

    def neighbours(self, service: int) -> frozenset[int]:
        """Services one dependency hop away, either direction (not ``service`` itself)."""
        return (
            self.depends_on.get(service, frozenset()) | self.dependents.get(service, frozenset())
        ) - {service}

    def upstream(self, service: int, max_depth: int = MAX_DEPTH) -> dict[int, int]:
        """Transitive dependencies of ``service`` with their distance in hops."""
        return _walk(self.depends_on, service, max_depth)

    def downstream(self, service: int, max_depth: int = MAX_DEPTH) -> dict[int, int]:
        """Transitive dependents of ``service`` with their distance in hops."""
        return _walk(self.dependents, service, max_depth)


def _walk(adjacency: Mapping[N, Iterable[N]], start: N, max_depth: int) -> dict[N, int]:
    """Breadth-first distances from ``start`` (excluded) along ``adjacency``."""
    seen: dict[N, int] = {}
    queue: deque[tuple[N, int]] = deque([(start, 0)])
    while queue:
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for nxt in adjacency.get(node, ()):
            if nxt != start and nxt not in seen:
                seen[nxt] = depth + 1
                queue.append((nxt, depth + 1))
    return seen


def find_cycle(
    edges: Iterable[tuple[N, N]], service: N, new_dependencies: Iterable[N]
) -> list[N] | None:
    """The dependency path that would close a cycle if ``service`` depended on
    ``new_dependencies`` (replacing its current dependencies in ``edges``),
    e.g. ``[api, db, api]``; None when there is no cycle.

    Only a path back to ``service`` matters: the rest of the graph is acyclic
    already, since every change goes through this check.
    """
    adjacency: dict[N, list[N]] = {}
    for a, b in edges:
        if a != service:
            adjacency.setdefault(a, []).append(b)
    for dep in sorted(set(new_dependencies), key=str):
        if dep == service:
            return [service, service]
        # Breadth-first from the new dependency, remembering parents, to report
        # the shortest way back to ``service``.
        parent: dict[N, N | None] = {dep: None}
        queue: deque[N] = deque([dep])
        while queue:
            node = queue.popleft()
            for nxt in sorted(adjacency.get(node, ()), key=str):
                if nxt == service:
                    path = [node]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])  # type: ignore[arg-type]
                    return [service, *reversed(path), service]
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
    return None


def primary_service(failing: Mapping[int, tuple[object, ...]], graph: Graph) -> int | None:
    """The most upstream failing service of an incident, or None when none fails.

    ``failing`` maps each failing service id to its tie-break key (ascending:
    e.g. ``(added_at, id)``). A root is a failing service none of whose
    transitive dependencies is failing too; among several roots the one with
    the most failing services downstream of it wins, then the smallest key.
    A cycle (which the catalogue refuses, but a race could leave) has no root:
    then every failing service counts as one.
    """
    if not failing:
        return None
    ids = set(failing)
    roots = [s for s in ids if not (set(graph.upstream(s)) & ids)] or list(ids)

    def rank(service: int) -> tuple[int, tuple[object, ...]]:
        explained = len(set(graph.downstream(service)) & ids)
        return (-explained, failing[service])

    return min(roots, key=rank)
