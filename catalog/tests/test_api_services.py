"""The services API: CRUD by slug, roles, the graph view, and hostile input
(wrong types, unknown keys, oversized, unicode, NUL, unknown or self
dependencies, cycles, duplicate aliases): a clear 400 naming the field and
nothing half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.models import Service, ServiceAlias, ServiceDependency
from catalog.tests.factories import chain, make_service
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db
URL = "/api/v1/services"


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


def send(client, method: str, url: str, body: Any):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def counts() -> tuple[int, int, int]:
    return Service.objects.count(), ServiceAlias.objects.count(), ServiceDependency.objects.count()


def rejected(response, field: str, status: int = 400) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert field in body, body
    return " ".join(str(m) for m in body[field])


def test_create_read_list_update_delete(admin, viewer) -> None:
    make_service("db", name="Database")
    r = send(
        admin,
        "POST",
        URL,
        {
            "name": "Payments API",
            "slug": "payments",
            "owner": "team-pay",
            "tier": 1,
            "aliases": ["Pay API", "payments-svc"],
            "depends_on": ["db"],
            "description": "Takes the money.",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["aliases"] == ["pay api", "payments-svc"]
    assert body["depends_on"] == ["db"] and body["dependents"] == [] and body["monitors"] == []
    make_monitor(tag="pay-check", service=Service.objects.get(slug="payments"))
    got = viewer.get(f"{URL}/payments").json()
    assert got["monitors"] == ["pay-check"] and got["tier"] == 1
    assert viewer.get(f"{URL}/db/").json()["dependents"] == ["payments"]
    listed = viewer.get(URL, {"q": "pay api"}).json()
    assert [s["slug"] for s in listed["results"]] == ["payments"]
    assert viewer.get(URL, {"tier": "1"}).json()["count"] == 1
    assert viewer.get(URL).json()["count"] == 2
    r = send(admin, "PATCH", f"{URL}/payments", {"depends_on": [], "owner": "core"})
    assert r.status_code == 200 and r.json()["depends_on"] == [] and r.json()["owner"] == "core"
    r = send(admin, "PATCH", f"{URL}/payments", {"slug": "payments-v2"})
    assert r.status_code == 200 and viewer.get(f"{URL}/payments-v2").status_code == 200
    assert admin.delete(f"{URL}/payments-v2").status_code == 204
    assert viewer.get(f"{URL}/payments-v2").status_code == 404


def test_roles(operator, viewer, api_client_for) -> None:
    make_service("db")
    assert api_client_for(None).get(URL).status_code in (401, 403)
    assert viewer.get(URL).status_code == 200
    for client in (viewer, operator):
        assert send(client, "POST", URL, {"name": "X", "slug": "x"}).status_code == 403
        assert send(client, "PATCH", f"{URL}/db", {"owner": "me"}).status_code == 403
        assert client.delete(f"{URL}/db").status_code == 403
    assert counts() == (1, 0, 0)


def test_graph_lists_up_and_downstream_with_hops(viewer) -> None:
    chain("web", "api", "db")
    make_service("worker", depends_on=("db",))
    body = viewer.get(f"{URL}/db/graph").json()
    assert body["upstream"] == []
    assert [(s["slug"], s["depth"]) for s in body["downstream"]] == [
        ("api", 1),
        ("worker", 1),
        ("web", 2),
    ]
    body = viewer.get(f"{URL}/web/graph").json()
    assert [(s["slug"], s["depth"]) for s in body["upstream"]] == [("api", 1), ("db", 2)]
    assert viewer.get(f"{URL}/nope/graph").status_code == 404


def test_dependency_errors_name_the_field(admin) -> None:
    chain("web", "api", "db")
    before = counts()
    msg = rejected(send(admin, "PATCH", f"{URL}/db", {"depends_on": ["web"]}), "depends_on")
    assert "cycle: db -> web -> api -> db" in msg
    msg = rejected(send(admin, "PATCH", f"{URL}/db", {"depends_on": ["db"]}), "depends_on")
    assert "itself" in msg
    msg = rejected(
        send(admin, "POST", URL, {"name": "N", "slug": "n", "depends_on": ["ghost", "db"]}),
        "depends_on",
    )
    assert "ghost" in msg
    rejected(
        send(admin, "POST", URL, {"name": "N", "slug": "n", "depends_on": ["db", "db"]}),
        "depends_on",
    )
    rejected(send(admin, "POST", URL, {"name": "N", "slug": "n", "depends_on": "db"}), "depends_on")
    rejected(
        send(admin, "POST", URL, {"name": "N", "slug": "n", "depends_on": ["BAD SLUG"]}),
        "depends_on",
    )
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "slug": "Bad Slug"}, "slug"),
        ({"name": "A", "slug": "-a"}, "slug"),
        ({"name": "A", "slug": "a" * 65}, "slug"),
        ({"name": "", "slug": "a"}, "name"),
        ({"name": "   ", "slug": "a"}, "name"),
        ({"name": "x" * 201, "slug": "a"}, "name"),
        ({"name": 5, "slug": "a", "tier": 9}, "tier"),
        ({"name": "A", "slug": "a", "tier": "high"}, "tier"),
        ({"name": ["A"], "slug": "a"}, "name"),
        ({"name": "A\x00", "slug": "a"}, "name"),
        ({"name": "A", "slug": "a", "aliases": "one"}, "aliases"),
        ({"name": "A", "slug": "a", "aliases": [""]}, "aliases"),
        ({"name": "A", "slug": "a", "aliases": [{"x": 1}]}, "aliases"),
        ({"name": "A", "slug": "a", "aliases": ["x"] * 51}, "aliases"),
        ({"name": "A", "slug": "a", "owner": "o" * 201}, "owner"),
        ({"name": "A", "slug": "a", "description": "d" * 5001}, "description"),
        ({"name": "A", "slug": "a", "evil": 1}, "evil"),
        ({"name": "A", "slug": "new"}, "slug"),
        ({"slug": "a"}, "name"),
    ],
)
def test_hostile_bodies_are_refused_by_field(admin, body: dict, field: str) -> None:
    rejected(send(admin, "POST", URL, body), field)
    assert counts() == (0, 0, 0)


def test_non_object_and_broken_bodies(admin) -> None:
    assert send(admin, "POST", URL, ["a"]).status_code == 400
    r = admin.generic("POST", URL, "{not json", content_type="application/json")
    assert r.status_code == 400
    assert admin.get(f"{URL}/%00").status_code == 404
    assert counts() == (0, 0, 0)


def test_duplicates_and_alias_clashes(admin) -> None:
    make_service("search", name="Search", aliases=["elastic"])
    rejected(send(admin, "POST", URL, {"name": "search", "slug": "s2"}), "name")
    rejected(send(admin, "POST", URL, {"name": "S2", "slug": "search"}), "slug")
    msg = rejected(
        send(admin, "POST", URL, {"name": "S3", "slug": "s3", "aliases": ["Elastic"]}), "aliases"
    )
    assert "Search" in msg
    assert counts() == (1, 1, 0)


def test_unicode_and_html_are_stored_as_text(admin, viewer) -> None:
    r = send(
        admin,
        "POST",
        URL,
        {"name": "Zahlungsdienst <b>ü</b> 🚀", "slug": "zahlung", "aliases": ["Kasse ✓"]},
    )
    assert r.status_code == 201, r.content
    got = viewer.get(f"{URL}/zahlung").json()
    assert got["name"] == "Zahlungsdienst <b>ü</b> 🚀" and got["aliases"] == ["kasse ✓"]


def test_monitor_api_takes_a_service_slug(admin, viewer) -> None:
    make_service("db")
    base = {
        "name": "DB check",
        "tag": "db-check",
        "kind": "tcp",
        "config": {"host": "127.0.0.1", "port": 5432},
    }
    r = send(admin, "POST", "/api/v1/monitors", {**base, "service": "db"})
    assert r.status_code == 201, r.content
    assert r.json()["service"] == "db"
    for bad in ("nope", "NOT A SLUG", 5, ["db"], "db\x00"):
        r = send(admin, "PATCH", "/api/v1/monitors/db-check", {"service": bad})
        assert r.status_code == 400 and "service" in r.json(), (bad, r.content)
    r = send(admin, "PATCH", "/api/v1/monitors/db-check", {"service": None})
    assert r.status_code == 200 and r.json()["service"] is None
