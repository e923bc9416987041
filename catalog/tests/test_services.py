"""Catalogue services against the database: create / update / delete with the
audit log, the alias and name rules, dependencies (unknown, self, cycles), and
matching names to services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import Service, ServiceAlias, ServiceDependency
from catalog.selectors import related, resolve_service, resolve_services
from catalog.services import CatalogError
from catalog.tests.factories import chain, make_service
from statuspage.models import AuditEntry

pytestmark = pytest.mark.django_db


def create(**data):
    return services.create_service(data, now=timezone.now())


def update(service, **data):
    return services.update_service(service, data, now=timezone.now())


def refused(field, func, *args, **kwargs) -> str:
    with pytest.raises(CatalogError) as exc:
        func(*args, **kwargs)
    assert exc.value.field == field, exc.value.message
    return exc.value.message


def test_create_with_aliases_and_dependencies_is_audited() -> None:
    db = create(name="Payments DB", slug="payments-db")
    api = create(
        name="Payments API",
        slug="payments-api",
        owner="team-pay",
        tier=1,
        aliases=["  Pay  API ", "payments_api"],
        depends_on=["payments-db"],
    )
    assert sorted(api.aliases.values_list("alias", flat=True)) == ["pay api", "payments_api"]
    assert list(api.depends_on.all()) == [db]
    entry = AuditEntry.objects.filter(object_type="catalog.Service", action="created").first()
    assert entry.changes["depends_on"] == ["payments-db"]
    assert entry.changes["aliases"] == ["pay api", "payments_api"]


def test_update_replaces_lists_and_records_the_diff() -> None:
    _web, api, _dbs = chain("web", "api", "db")
    update(api, aliases=["backend"], depends_on=[], owner="core")
    assert list(api.depends_on.all()) == []
    entry = AuditEntry.objects.filter(action="updated").first()
    assert entry.changes["depends_on"] == [["db"], []]
    assert entry.changes["owner"] == ["", "core"]
    before = AuditEntry.objects.count()
    update(api, owner="core")  # nothing changed: no entry
    assert AuditEntry.objects.count() == before


def test_names_slugs_and_aliases_stay_unambiguous() -> None:
    create(name="Search", slug="search", aliases=["elastic"])
    refused("name", create, name="SEARCH", slug="search-2")
    refused("slug", create, name="Search 2", slug="search")
    assert "alias of Search" in refused("name", create, name="Elastic", slug="es")
    assert "alias of Search" in refused("slug", create, name="ES", slug="elastic")
    assert "already an alias of Search" in refused(
        "aliases", create, name="Other", slug="other", aliases=["ELASTIC"]
    )
    refused("aliases", create, name="Other", slug="other", aliases=["search"])
    refused("aliases", create, name="Other", slug="other", aliases=["x", " X "])
    refused("aliases", create, name="Other", slug="other", aliases=["   "])
    refused("aliases", create, name="Other", slug="other", aliases=["a" * 201])
    refused("name", create, name="   ", slug="blank")
    refused("slug", create, name="New", slug="new")
    assert Service.objects.count() == 1
    # A service may list its own name or slug as an alias, and keep its aliases on update.
    own = create(name="Own", slug="own", aliases=["own", "the own"])
    update(own, aliases=["the own", "own"])
    assert ServiceAlias.objects.filter(service=own).count() == 2


def test_dependencies_unknown_self_and_cycles_are_refused() -> None:
    web, api, dbs = chain("web", "api", "db")
    assert "nope, gone" in refused("depends_on", update, dbs, depends_on=["nope", "gone"])
    assert "itself" in refused("depends_on", update, dbs, depends_on=["db"])
    message = refused("depends_on", update, dbs, depends_on=["web"])
    assert message == "This would make a dependency cycle: db -> web -> api -> db."
    refused("depends_on", update, api, depends_on=["web"])
    # Nothing changed by the refused attempts.
    assert set(ServiceDependency.objects.values_list("service__slug", "depends_on__slug")) == {
        ("web", "api"),
        ("api", "db"),
    }
    # A diamond is fine.
    update(web, depends_on=["api", "db"])
    assert web.depends_on.count() == 2


def test_delete_keeps_monitors_and_drops_edges() -> None:
    from monitors.tests.factories import make_monitor

    _web, api, _dbs = chain("web", "api", "db")
    monitor = make_monitor(tag="api-check", service=api)
    services.delete_service(api, now=timezone.now())
    monitor.refresh_from_db()
    assert monitor.service is None
    assert not ServiceDependency.objects.exists()
    entry = AuditEntry.objects.get(action="deleted")
    assert entry.label == "Api" and entry.changes["slug"] == "api"


def test_resolve_by_slug_name_or_alias_case_insensitively() -> None:
    pay = make_service("payments", name="Payments API", aliases=["pay-svc", "Billing Gateway"])
    assert resolve_service("payments") == pay
    assert resolve_service("PAYMENTS api") == pay
    assert resolve_service("billing   gateway") == pay
    assert resolve_service("unknown") is None
    assert resolve_service("") is None
    assert resolve_service("x" * 500) is None
    assert resolve_services(["pay-svc", "nope", "Payments API"]) == {
        "pay-svc": pay,
        "Payments API": pay,
    }


def test_related_lists_both_directions_nearest_first() -> None:
    _web, api, dbs = chain("web", "api", "db")
    worker = make_service("worker", depends_on=("db",))
    up, down = related(api)
    assert [(r.service.slug, r.depth) for r in up] == [("db", 1)]
    assert [(r.service.slug, r.depth) for r in down] == [("web", 1)]
    up, down = related(dbs)
    assert up == []
    assert [(r.service.slug, r.depth) for r in down] == [("api", 1), ("worker", 1), ("web", 2)]
    assert worker.pk
