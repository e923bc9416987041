"""The dependency graph's pure rules: neighbours, up/downstream walks, cycle
detection and the primary (most upstream failing) service."""

from __future__ import annotations

from catalog.graph import Graph, find_cycle, primary_service

# web -> api -> db, api -> cache, worker -> db; an unrelated pair billing -> ledger.
EDGES = [(1, 2), (2, 3), (2, 4), (5, 3), (6, 7)]
WEB, API, DB, CACHE, WORKER, BILLING, LEDGER = 1, 2, 3, 4, 5, 6, 7


def graph() -> Graph:
    return Graph.from_edges(EDGES)


def test_neighbours_are_one_hop_in_both_directions() -> None:
    g = graph()
    assert g.neighbours(API) == {WEB, DB, CACHE}
    assert g.neighbours(DB) == {API, WORKER}
    assert g.neighbours(WEB) == {API}
    assert g.neighbours(99) == frozenset()


def test_upstream_and_downstream_walk_transitively_with_hops() -> None:
    g = graph()
    assert g.upstream(WEB) == {API: 1, DB: 2, CACHE: 2}
    assert g.downstream(DB) == {API: 1, WORKER: 1, WEB: 2}
    assert g.upstream(DB) == {}
    assert g.upstream(WEB, max_depth=1) == {API: 1}


def test_walks_terminate_on_a_cycle_left_by_a_race() -> None:
    g = Graph.from_edges([(1, 2), (2, 3), (3, 1)])
    assert g.upstream(1) == {2: 1, 3: 2}
    assert g.downstream(1) == {3: 1, 2: 2}


def test_find_cycle_reports_the_loop_or_none() -> None:
    assert find_cycle(EDGES, DB, [WEB]) == [DB, WEB, API, DB]
    assert find_cycle(EDGES, DB, [DB]) == [DB, DB]
    assert find_cycle(EDGES, WEB, [DB, CACHE]) is None
    # Replacing a service's own edges: api no longer depends on db, so db -> api is fine.
    assert find_cycle([(1, 2), (2, 3)], 2, [1]) == [2, 1, 2]
    assert find_cycle([(2, 3)], 3, [2]) == [3, 2, 3]
    assert find_cycle([(1, 2), (2, 3)], 3, []) is None


def test_find_cycle_on_string_nodes_picks_the_shortest_way_back() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("b", "d")]
    assert find_cycle(edges, "d", ["a"]) == ["d", "a", "b", "d"]


def test_primary_is_the_most_upstream_failing_service() -> None:
    g = graph()
    key = {WEB: (1,), API: (2,), DB: (3,)}
    assert primary_service(key, g) == DB
    # db is not failing: api (whose failing dependency set is empty) is the root.
    assert primary_service({WEB: (1,), API: (2,)}, g) == API
    # A transitive dependency counts: web and db fail, api does not.
    assert primary_service({WEB: (1,), DB: (2,)}, g) == DB
    assert primary_service({}, g) is None


def test_primary_ties_go_to_the_root_explaining_most_then_the_smallest_key() -> None:
    g = graph()
    # db explains api, web and worker; cache explains api and web.
    failing = {WEB: (5,), API: (4,), DB: (9,), CACHE: (1,), WORKER: (3,)}
    assert primary_service(failing, g) == DB
    # Two unrelated roots explaining nothing: the first linked.
    assert primary_service({BILLING: (2,), CACHE: (1,)}, g) == CACHE
    assert primary_service({BILLING: (1,), CACHE: (2,)}, g) == BILLING


def test_primary_in_a_cycle_still_answers() -> None:
    g = Graph.from_edges([(1, 2), (2, 1)])
    assert primary_service({1: (2,), 2: (1,)}, g) == 2
