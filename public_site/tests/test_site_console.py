"""The console's status-page editor (/console/site/): roles, site settings
with hostile input, pages and sections, up/down ordering without JavaScript,
adding and removing monitors, deleting with confirmation, and the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from public_site.models import Section, SectionMonitor, SiteSettings, StatusPage
from public_site.tests import pagedata
from statuspage.models import AuditEntry

pytestmark = pytest.mark.django_db

VALID_SITE = {
    "name": "Acme",
    "logo_url": "https://cdn.example.com/logo.svg",
    "description": "We **run** things.",
    "public_url": "https://status.example.com/",
    "time_zone": "Europe/Paris",
    "color_up": "#00AA00",
    "color_degraded": "#d97706",
    "color_down": "#dc2626",
    "color_maintenance": "#2563eb",
    "theme": "dark",
    "footer": "© Acme",
    "announcement": "Hello <script>alert(1)</script>",
}


@pytest.fixture
def admin(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True)
def _no_cache(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0


def errors_of(html: str, field: str) -> str:
    match = re.search(rf'data-field="{field}">.*?<ul class="errors"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def test_roles(client: Client, viewer_user: Any, operator_user: Any) -> None:
    response = client.get("/console/site/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(viewer_user)
    assert client.get("/console/site/").status_code == 200
    assert client.get("/console/site/settings/").status_code == 403
    assert client.post("/console/site/pages/new/", {"title": "x", "slug": "x"}).status_code == 403
    client.force_login(operator_user)
    assert client.post("/console/site/settings/", VALID_SITE).status_code == 403
    assert not StatusPage.objects.exists()
    assert SiteSettings.load().name == "Beacon"


def test_nav_link(admin: Client) -> None:
    html = admin.get("/console/site/").content.decode()
    assert '<a href="/console/site/" aria-current="page">Status page</a>' in html


def test_site_settings_saved_rendered_and_audited(admin: Client) -> None:
    form = admin.get("/console/site/settings/").content.decode()
    assert 'name="color_up"' in form and 'value="#16a34a"' in form
    response = admin.post("/console/site/settings/", VALID_SITE)
    assert response.status_code == 302
    site = SiteSettings.load()
    assert site.name == "Acme" and site.theme == "dark" and site.time_zone == "Europe/Paris"
    assert site.color_up == "#00aa00"
    assert site.public_url == "https://status.example.com"
    assert site.description_html == "<p>We <strong>run</strong> things.</p>"
    assert "<script>" not in site.announcement_html
    entry = AuditEntry.objects.get(object_type="public_site.SiteSettings")
    assert entry.action == "updated" and entry.changes["name"] == ["Beacon", "Acme"]
    home = admin.get("/").content.decode()
    assert "theme-dark" in home and "--c-up:#00aa00;--c-up-fg:#000000" in home
    assert "<script>alert" not in home and "Hello" in home
    assert "<title>Acme</title>" in home
    # Times in the site's zone without JavaScript.
    assert re.search(r'<span class="abs">[^<]*(CET|CEST)</span>', home)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "required"),
        ("name", "   ", "required"),
        ("name", "x" * 101, "at most 100"),
        ("name", "bad\x07bell", "control characters"),
        ("logo_url", "javascript:alert(1)", "http(s)://"),
        ("logo_url", "//evil.example/logo.png", "http(s)://"),
        ("logo_url", "data:image/png;base64,AAAA", "http(s)://"),
        ("logo_url", "https://x.example/" + "a" * 2000, "at most 2000"),
        ("public_url", "ftp://status.example.com", "http"),
        ("public_url", "not a url", "valid URL"),
        ("time_zone", "Mars/Olympus", "time zone"),
        ("time_zone", "../../etc/passwd", "time zone"),
        ("color_up", "red", "#16a34a"),
        ("color_down", "#12345g", "#16a34a"),
        ("color_down", "#1234567", "at most 7"),
        ("theme", "neon", "valid choice"),
        ("announcement", "x" * 2001, "at most 2000"),
        ("description", "x" * 5001, "at most 5000"),
    ],
)
def test_site_settings_hostile_input(admin: Client, field: str, value: str, message: str) -> None:
    data = dict(VALID_SITE, **{field: value})
    response = admin.post("/console/site/settings/", data)
    assert response.status_code == 400
    assert message in errors_of(response.content.decode(), field)
    assert SiteSettings.load().name == "Beacon"  # nothing written
    assert not AuditEntry.objects.exists()


def test_site_settings_unicode_and_local_logo(admin: Client) -> None:
    data = dict(VALID_SITE, name="Ünïcode ✓ 状态", logo_url="/static/public/favicon.svg")
    assert admin.post("/console/site/settings/", data).status_code == 302
    assert SiteSettings.load().name == "Ünïcode ✓ 状态"
    assert 'src="/static/public/favicon.svg"' in admin.get("/").content.decode()


def test_pages_create_edit_home_and_duplicates(admin: Client) -> None:
    response = admin.post(
        "/console/site/pages/new/", {"title": "Main", "slug": "main", "is_home": "on"}
    )
    assert response.status_code == 302
    main = StatusPage.objects.get(slug="main")
    assert main.is_home
    for slug, message in (
        ("main", "already uses this slug"),
        ("Main", "Lower-case"),
        ("-x", "Lower-case"),
        ("a" * 65, "at most 64"),
        ("<b>", "Lower-case"),
    ):
        response = admin.post("/console/site/pages/new/", {"title": "T", "slug": slug})
        assert response.status_code == 400, slug
        assert message in errors_of(response.content.decode(), "slug")
    response = admin.post(
        "/console/site/pages/new/",
        {"title": "Api", "slug": "api", "is_home": "on", "position": "x"},
    )
    assert response.status_code == 400
    assert "whole number" in errors_of(response.content.decode(), "position")
    assert (
        admin.post(
            "/console/site/pages/new/", {"title": "Api", "slug": "api", "is_home": "on"}
        ).status_code
        == 302
    )
    main.refresh_from_db()
    assert not main.is_home and StatusPage.objects.get(slug="api").is_home
    response = admin.post(
        f"/console/site/pages/{main.pk}/", {"title": "Main 2", "slug": "api", "position": "3"}
    )
    assert response.status_code == 400
    response = admin.post(
        f"/console/site/pages/{main.pk}/",
        {"title": "Main 2", "slug": "main-2", "position": "3", "description": "*Hi*"},
    )
    assert response.status_code == 302
    main.refresh_from_db()
    assert (main.title, main.slug, main.position) == ("Main 2", "main-2", 3)
    assert main.description_html == "<p><em>Hi</em></p>"
    assert AuditEntry.objects.filter(object_type="public_site.StatusPage").count() == 3


def test_sections_and_monitors_ordered_without_javascript(admin: Client) -> None:
    api, web, cdn = pagedata.monitors(["Api", "Web", "Cdn"])
    (secret,) = pagedata.monitors(["Secret"], is_public=False)
    page = StatusPage.objects.create(slug="main", title="Main", is_home=True)
    url = f"/console/site/pages/{page.pk}/"
    for name in ("Core", "Edge"):
        assert admin.post(f"{url}sections/", {"name": name}).status_code == 302
    core, edge = Section.objects.order_by("position")
    assert admin.post(f"{url}sections/", {"name": "  "}).status_code == 400
    add = f"/console/site/sections/{core.pk}/monitors/"
    prefix = f"s{core.pk}-monitors"
    assert admin.post(add, {prefix: [api.pk, web.pk]}).status_code == 302
    assert admin.post(add, {prefix: [cdn.pk]}).status_code == 302
    # Hostile and invalid choices: named next to the field, nothing added.
    for bad in (["x"], [secret.pk], [api.pk], ["9" * 30], [], ["<script>"]):
        response = admin.post(add, {prefix: bad})
        assert response.status_code == 400, bad
        errors_of(response.content.decode(), prefix)
    assert list(core.entries.values_list("monitor__tag", flat=True)) == ["api", "web", "cdn"]

    def order() -> list[str]:
        html = admin.get("/").content.decode()
        return re.findall(r'data-monitor="([^"]+)"', html)

    assert order() == ["api", "web", "cdn"]
    cdn_entry = SectionMonitor.objects.get(monitor=cdn)
    move = f"/console/site/entries/{cdn_entry.pk}/move/"
    assert admin.post(move, {"direction": "up"}).status_code == 302
    assert order() == ["api", "cdn", "web"]
    assert admin.post(move, {"direction": "up"}).status_code == 302
    assert admin.post(move, {"direction": "up"}).status_code == 302  # already first: no-op
    assert order() == ["cdn", "api", "web"]
    assert admin.post(move, {"direction": "sideways"}).status_code == 302
    assert order() == ["cdn", "api", "web"]
    # Sections move too.
    SectionMonitor.objects.create(section=edge, monitor=web, position=0)
    assert (
        admin.post(f"/console/site/sections/{edge.pk}/move/", {"direction": "up"}).status_code
        == 302
    )
    html = admin.get("/").content.decode()
    assert html.index(">Edge</h2>") < html.index(">Core</h2>")
    # Remove a monitor from a section; the monitor stays.
    entry = SectionMonitor.objects.get(section=core, monitor=api)
    assert admin.post(f"/console/site/entries/{entry.pk}/remove/").status_code == 302
    assert list(core.entries.order_by("position").values_list("position", "monitor__tag")) == [
        (0, "cdn"),
        (1, "web"),
    ]
    assert admin.get(f"/console/site/entries/{entry.pk}/remove/").status_code == 405
    changes = [set(c) for c in AuditEntry.objects.values_list("changes", flat=True)]
    for key in ("monitors_added", "monitor_moved", "moved", "monitor_removed"):
        assert {key} in changes, key
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {"created", "updated"}


def test_rename_and_delete_with_confirmation(admin: Client) -> None:
    (api,) = pagedata.monitors(["Api"])
    page = pagedata.status_page("main", "Main", {"Core": [api]}, is_home=True)
    section = page.sections.get()
    edit = f"/console/site/sections/{section.pk}/"
    assert admin.post(edit, {"name": "x" * 201}).status_code == 400
    assert admin.post(edit, {"name": "Renamed", "description": "Things"}).status_code == 302
    section.refresh_from_db()
    assert section.name == "Renamed"
    confirm = admin.get(f"/console/site/sections/{section.pk}/delete/")
    assert "Delete the section “Renamed”?" in confirm.content.decode()
    assert Section.objects.filter(pk=section.pk).exists()  # a GET deletes nothing
    assert admin.post(f"/console/site/sections/{section.pk}/delete/").status_code == 302
    assert not Section.objects.exists() and api.__class__.objects.filter(pk=api.pk).exists()
    assert "Delete the page" in admin.get(f"/console/site/pages/{page.pk}/delete/").content.decode()
    assert admin.post(f"/console/site/pages/{page.pk}/delete/").status_code == 302
    assert not StatusPage.objects.exists()
    assert admin.get(f"/console/site/pages/{page.pk}/").status_code == 404
    assert admin.post("/console/site/sections/999999/move/", {"direction": "up"}).status_code == 404
    deleted = AuditEntry.objects.filter(action="deleted").values_list("object_type", flat=True)
    assert set(deleted) == {"public_site.Section", "public_site.StatusPage"}


def test_csrf_is_enforced(admin_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/console/site/settings/", VALID_SITE).status_code == 403
    assert SiteSettings.load().name == "Beacon"
