"""Console pages of the catalogue through Django's test client: roles, list
filters and paging, the editor with inline errors (cycles, unknown slugs,
alias clashes), the detail page (dependencies both ways, monitors, open
incidents), delete with confirmation, names with HTML shown escaped, the nav
link, and the monitor form's service field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from catalog.models import Service
from catalog.tests.factories import chain, make_service
from incidents import services as incident_services
from incidents.models import IncidentService
from monitors.models import Monitor
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None, role=role)


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    return {r: _user(f"{r}-user", r) for r in (ADMIN, OPERATOR, VIEWER)}


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_pages_by_role(users) -> None:
    make_service("db")
    viewer, admin = client_for(users[VIEWER]), client_for(users[ADMIN])
    assert client_for(None).get(reverse("catalog:list")).status_code == 302
    for url in (reverse("catalog:list"), reverse("catalog:detail", args=["db"])):
        assert viewer.get(url).status_code == 200
    for url in (
        reverse("catalog:create"),
        reverse("catalog:edit", args=["db"]),
        reverse("catalog:delete", args=["db"]),
    ):
        assert viewer.get(url).status_code == 403
        assert client_for(users[OPERATOR]).post(url, {"name": "x"}).status_code == 403
        assert admin.get(url).status_code == 200
    assert viewer.get(reverse("catalog:detail", args=["nope"])).status_code == 404
    html = viewer.get(reverse("catalog:list")).content.decode()
    assert f'href="{reverse("catalog:list")}" aria-current="page">Services</a>' in html
    assert "New service" not in html  # viewers see no admin action
    assert "New service" in admin.get(reverse("catalog:list")).content.decode()


def test_list_search_tier_paging_and_empty_states(users) -> None:
    viewer = client_for(users[VIEWER])
    html = viewer.get(reverse("catalog:list")).content.decode()
    assert "No services yet" in html and "An admin can add them" in html
    for i in range(30):
        make_service(f"svc-{i:02d}", tier=1 if i < 3 else 3, owner="team-a" if i == 7 else "")
    make_service("legacy", aliases=["old-billing"])
    page = viewer.get(reverse("catalog:list")).context["page"]
    assert page.paginator.count == 31 and len(page.object_list) == 25
    assert viewer.get(reverse("catalog:list"), {"page": 2}).context["page"].number == 2
    found = viewer.get(reverse("catalog:list"), {"q": "OLD-BILL"}).context["rows"]
    assert [s.slug for s, _ in found] == ["legacy"]
    assert [
        s.slug for s, _ in viewer.get(reverse("catalog:list"), {"q": "team-a"}).context["rows"]
    ] == ["svc-07"]
    assert viewer.get(reverse("catalog:list"), {"tier": "1"}).context["page"].paginator.count == 3
    assert viewer.get(reverse("catalog:list"), {"tier": "zz"}).context["page"].paginator.count == 31
    html = viewer.get(reverse("catalog:list"), {"q": "nothing-like-it"}).content.decode()
    assert "No services match these filters" in html


def test_create_and_edit_with_inline_errors(users) -> None:
    admin = client_for(users[ADMIN])
    chain("web", "api", "db")
    r = admin.post(
        reverse("catalog:create"),
        {
            "name": "Cache",
            "slug": "cache",
            "tier": "2",
            "aliases": "redis\n\n Memcache \n",
            "depends_on": ["db"],
        },
    )
    assert r.status_code == 302 and r["Location"] == reverse("catalog:detail", args=["cache"])
    cache = Service.objects.get(slug="cache")
    assert sorted(cache.aliases.values_list("alias", flat=True)) == ["memcache", "redis"]
    assert [s.slug for s in cache.depends_on.all()] == ["db"]
    # Cycle: db -> web would loop through api.
    r = admin.post(
        reverse("catalog:edit", args=["db"]),
        {"name": "Db", "slug": "db", "tier": "3", "depends_on": ["web"]},
    )
    assert r.status_code == 400
    assert "dependency cycle: db -&gt; web -&gt; api -&gt; db" in r.content.decode()
    assert r.context["form"].errors["depends_on"]
    # Bad slug, blank name, alias taken: each next to its field.
    r = admin.post(reverse("catalog:create"), {"name": "", "slug": "Bad Slug", "tier": "3"})
    assert r.status_code == 400
    assert set(r.context["form"].errors) >= {"name", "slug"}
    r = admin.post(
        reverse("catalog:create"), {"name": "X", "slug": "x", "tier": "3", "aliases": "REDIS"}
    )
    assert r.status_code == 400 and "already an alias of Cache" in str(
        r.context["form"].errors["aliases"]
    )
    r = admin.post(
        reverse("catalog:create"), {"name": "X", "slug": "x", "tier": "3", "depends_on": ["ghost"]}
    )
    assert r.status_code == 400 and r.context["form"].errors["depends_on"]
    assert not Service.objects.filter(slug="x").exists()
    # The editor does not offer the service itself as a dependency.
    choices = [
        slug
        for slug, _ in admin.get(reverse("catalog:edit", args=["db"]))
        .context["form"]
        .fields["depends_on"]
        .choices
    ]
    assert "db" not in choices and "web" in choices


def test_detail_shows_both_directions_monitors_and_open_incidents(users) -> None:
    chain("web", "api", "db")
    api = Service.objects.get(slug="api")
    make_monitor(name="API health", tag="api-health", service=api)
    incident = incident_services.create_incident(title="API slow", body="x", now=timezone.now())
    IncidentService.objects.create(
        incident=incident, service=api, source="manual", added_at=timezone.now()
    )
    html = client_for(users[VIEWER]).get(reverse("catalog:detail", args=["api"])).content.decode()
    upstream = html[html.index("upstream-title") : html.index("downstream-title")]
    downstream = html[html.index("downstream-title") :]
    assert 'href="/console/services/db/"' in upstream and "/console/services/web/" not in upstream
    assert 'href="/console/services/web/"' in downstream
    assert "API health" in html and "API slow" in html and incident.key in html


def test_names_with_html_are_escaped_everywhere(users) -> None:
    make_service(
        "evil",
        name="<script>alert(1)</script> & <b>x</b>",
        aliases=["<img src=x onerror=alert(2)>"],
    )
    viewer = client_for(users[VIEWER])
    for url in (reverse("catalog:list"), reverse("catalog:detail", args=["evil"])):
        html = viewer.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in html


def test_delete_needs_confirmation(users) -> None:
    admin = client_for(users[ADMIN])
    svc = make_service("old")
    make_monitor(tag="old-check", service=svc)
    page = admin.get(reverse("catalog:delete", args=["old"])).content.decode()
    assert "1 monitor will belong to no service" in page
    assert Service.objects.filter(slug="old").exists()
    r = admin.post(reverse("catalog:delete", args=["old"]))
    assert r.status_code == 302 and not Service.objects.filter(slug="old").exists()
    assert Monitor.objects.get(tag="old-check").service is None


def test_monitor_form_chooses_a_service(users) -> None:
    make_service("db", name="Database")
    admin = client_for(users[ADMIN])
    page = admin.get(reverse("monitors:create")).content.decode()
    assert '<option value="db">Database</option>' in page
    data = {
        "name": "DB port",
        "tag": "db-port",
        "kind": "tcp",
        "interval_seconds": "60",
        "timeout_seconds": "10",
        "is_active": "on",
        "tcp__host": "127.0.0.1",
        "tcp__port": "5432",
        "service": "db",
    }
    r = admin.post(reverse("monitors:create"), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Monitor.objects.get(tag="db-port").service.slug == "db"
    r = admin.post(reverse("monitors:create"), {**data, "tag": "db-port-2", "service": "ghost"})
    assert r.status_code == 400 and r.context["form"].errors["service"]
