"""Console pages of the monitors app through Django's test client: every view
for every role, filters, sorting, paging, actions and hostile input."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitors import services
from monitors.models import Monitor, MonitorEvent

from .factories import make_monitor, result
from .servers import closed_port, listening_port

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def users(admin_user: Any, operator_user: Any, viewer_user: Any) -> dict[str, Any]:
    return {"admin": admin_user, "operator": operator_user, "viewer": viewer_user}


@pytest.fixture
def monitor() -> Monitor:
    return make_monitor(name="Web front", tag="web", config={"host": "127.0.0.1", "port": 9})


def field_block(html: str, name: str) -> str:
    """The rendered block of form field ``name`` (label, widget, errors, help)."""
    start = f'data-field="{re.escape(name)}">'
    end = r'</div>\s*(?=<div class="field|</fieldset|</div>)'
    match = re.search(start + "(.*?)" + end, html, re.S)
    assert match, f"no field block for {name}"
    return match.group(1)


# --- access by role -----------------------------------------------------------


READ_URLS = [
    ("monitors:home", False),
    ("monitors:list", False),
    ("monitors:detail", True),
]
ADMIN_GET_URLS = [
    ("monitors:create", False),
    ("monitors:edit", True),
    ("monitors:delete", True),
]


def _url(name: str, needs_tag: bool) -> str:
    return reverse(name, args=["web"]) if needs_tag else reverse(name)


@pytest.mark.parametrize(("name", "needs_tag"), READ_URLS + ADMIN_GET_URLS)
def test_anonymous_is_sent_to_sign_in(monitor: Monitor, name: str, needs_tag: bool) -> None:
    url = _url(name, needs_tag)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("action", ["check", "toggle", "delete", "edit"])
def test_anonymous_posts_are_refused(monitor: Monitor, action: str) -> None:
    response = Client().post(reverse(f"monitors:{action}", args=["web"]), {"active": "0"})
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    assert Monitor.objects.filter(tag="web", is_active=True).exists()


def test_anonymous_create_post_is_refused() -> None:
    response = Client().post(reverse("monitors:create"), {"name": "x", "tag": "xx"})
    assert response.status_code == 302
    assert not Monitor.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize(("name", "needs_tag"), READ_URLS)
def test_every_role_reads(
    users: dict[str, Any], monitor: Monitor, role: str, name: str, needs_tag: bool
) -> None:
    response = client_for(users[role]).get(_url(name, needs_tag), follow=True)
    assert response.status_code == 200
    assert "Web front" in response.content.decode()


@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize(("name", "needs_tag"), ADMIN_GET_URLS)
def test_configuration_pages_need_admin(
    users: dict[str, Any], monitor: Monitor, role: str, name: str, needs_tag: bool
) -> None:
    response = client_for(users[role]).get(_url(name, needs_tag))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Your role does not allow this" in body
    assert "console.css" in body  # the console-styled 403 page


@pytest.mark.parametrize(("name", "needs_tag"), ADMIN_GET_URLS)
def test_admin_opens_configuration_pages(
    admin_user: Any, monitor: Monitor, name: str, needs_tag: bool
) -> None:
    assert client_for(admin_user).get(_url(name, needs_tag)).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_admin_posts_are_enforced_on_the_server(
    users: dict[str, Any], monitor: Monitor, role: str
) -> None:
    client = client_for(users[role])
    assert client.post(reverse("monitors:toggle", args=["web"]), {"active": "0"}).status_code == 403
    assert client.post(reverse("monitors:delete", args=["web"])).status_code == 403
    edit = client.post(
        reverse("monitors:edit", args=["web"]),
        {"name": "Hacked", "tag": "web", "kind": "tcp", "tcp__host": "h", "tcp__port": "1"},
    )
    assert edit.status_code == 403
    create = client.post(
        reverse("monitors:create"),
        {"name": "New", "tag": "new-one", "kind": "tcp", "tcp__host": "h", "tcp__port": "1"},
    )
    assert create.status_code == 403
    monitor.refresh_from_db()
    assert monitor.is_active and monitor.name == "Web front"
    assert Monitor.objects.count() == 1


def test_viewer_cannot_check_now(viewer_user: Any, monitor: Monitor) -> None:
    response = client_for(viewer_user).post(reverse("monitors:check", args=["web"]))
    assert response.status_code == 403
    assert not monitor.results.exists()


def test_actions_shown_by_role(users: dict[str, Any], monitor: Monitor) -> None:
    url = reverse("monitors:detail", args=["web"])
    viewer = client_for(users["viewer"]).get(url).content.decode()
    operator = client_for(users["operator"]).get(url).content.decode()
    admin = client_for(users["admin"]).get(url).content.decode()
    assert "Check now" not in viewer and "Edit</a>" not in viewer and "Pause" not in viewer
    assert "Check now" in operator
    assert "Edit</a>" not in operator and "btn-danger" not in operator and "Pause" not in operator
    assert "Check now" in admin and "Edit</a>" in admin and "Pause" in admin
    assert 'class="btn btn-danger"' in admin


def test_get_is_not_allowed_for_actions(admin_user: Any, monitor: Monitor) -> None:
    client = client_for(admin_user)
    assert client.get(reverse("monitors:check", args=["web"])).status_code == 405
    assert client.get(reverse("monitors:toggle", args=["web"])).status_code == 405


def test_unknown_monitor_is_a_console_404(viewer_user: Any) -> None:
    response = client_for(viewer_user).get(reverse("monitors:detail", args=["nope"]))
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_forms_carry_csrf_tokens(admin_user: Any, monitor: Monitor) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    body = client.get(reverse("monitors:detail", args=["web"])).content.decode()
    assert body.count('name="csrfmiddlewaretoken"') >= 3  # check, pause, sign out
    refused = client.post(reverse("monitors:toggle", args=["web"]), {"active": "0"})
    assert refused.status_code == 403
    assert Monitor.objects.get(tag="web").is_active


# --- list: filters, sort, paging, empty states ----------------------------------


@pytest.fixture
def fleet() -> dict[str, Monitor]:
    now = timezone.now()
    up = make_monitor(name="Alpha API", tag="alpha", kind="tcp")
    down = make_monitor(name="Bravo DB", tag="bravo", kind="tcp")
    degraded = make_monitor(
        name="Charlie site", tag="charlie", kind="http", config={"url": "http://x.test/"}
    )
    pending = make_monitor(name="Delta DNS", tag="delta", kind="dns", config={"name": "x.test"})
    paused = make_monitor(name="Echo beat", tag="echo", kind="heartbeat", config={})
    services.record_results(
        [
            result(up, now - timedelta(minutes=3), "UP", 12.0),
            result(down, now - timedelta(minutes=2), "DOWN", None, message="refused"),
            result(degraded, now - timedelta(minutes=1), "DEGRADED", 900.0),
        ],
        now=now,
    )
    services.set_active(paused, False, now=now)
    return {"up": up, "down": down, "degraded": degraded, "pending": pending, "paused": paused}


def listed(response: Any) -> list[str]:
    return re.findall(r'<tr data-tag="([^"]+)">', response.content.decode())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UP", ["alpha"]),
        ("DOWN", ["bravo"]),
        ("DEGRADED", ["charlie"]),
        ("PENDING", ["delta", "echo"]),
        ("PAUSED", ["echo"]),
        ("", ["alpha", "bravo", "charlie", "delta", "echo"]),
        ("bogus", ["alpha", "bravo", "charlie", "delta", "echo"]),
    ],
)
def test_status_filter(
    viewer_user: Any, fleet: dict[str, Monitor], status: str, expected: list[str]
) -> None:
    response = client_for(viewer_user).get(reverse("monitors:list"), {"status": status})
    assert listed(response) == expected


def test_kind_and_text_filters(viewer_user: Any, fleet: dict[str, Monitor]) -> None:
    client = client_for(viewer_user)
    assert listed(client.get(reverse("monitors:list"), {"kind": "tcp"})) == ["alpha", "bravo"]
    assert listed(client.get(reverse("monitors:list"), {"q": "db"})) == ["bravo"]
    assert listed(client.get(reverse("monitors:list"), {"q": "CHAR"})) == ["charlie"]
    both = client.get(reverse("monitors:list"), {"kind": "tcp", "q": "alpha"})
    assert listed(both) == ["alpha"]


def test_filtered_empty_state_offers_to_clear(viewer_user: Any, fleet: dict[str, Monitor]) -> None:
    response = client_for(viewer_user).get(reverse("monitors:list"), {"q": "zzz"})
    body = response.content.decode()
    assert "No monitors match these filters." in body
    assert "Clear filters" in body


def test_sorts(viewer_user: Any, fleet: dict[str, Monitor]) -> None:
    client = client_for(viewer_user)
    by = {
        s: listed(client.get(reverse("monitors:list"), {"sort": s}))
        for s in ("-name", "status", "kind", "last", "latency")
    }
    assert by["-name"] == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert by["status"] == ["bravo", "charlie", "delta", "alpha", "echo"]
    assert by["kind"][:2] == ["delta", "echo"]  # dns, heartbeat, http, tcp
    assert by["last"][:3] == ["charlie", "bravo", "alpha"]
    assert by["latency"][:2] == ["charlie", "alpha"]


def test_list_shows_status_words_sparkline_and_uptime(
    viewer_user: Any, fleet: dict[str, Monitor]
) -> None:
    body = client_for(viewer_user).get(reverse("monitors:list")).content.decode()
    for word in ("Up", "Down", "Degraded", "Pending", "Paused"):
        assert f"</span> {word}</span>" in body
    assert '<svg class="spark"' in body
    assert "100.00%" in body  # alpha's 24 h uptime
    assert "0.00%" in body  # bravo's
    assert "12 ms" in body


def test_empty_state_for_admin_and_viewer(admin_user: Any, viewer_user: Any) -> None:
    admin_body = client_for(admin_user).get(reverse("monitors:list")).content.decode()
    assert "No monitors yet" in admin_body and "Create monitor" in admin_body
    viewer_body = client_for(viewer_user).get(reverse("monitors:list")).content.decode()
    assert "No monitors yet" in viewer_body and "Create monitor" not in viewer_body


def test_paging_keeps_filters(viewer_user: Any) -> None:
    for n in range(120):
        make_monitor(name=f"Bulk {n:03d}", tag=f"bulk-{n:03d}", kind="tcp")
    make_monitor(name="Other", tag="other", kind="dns", config={"name": "x.test"})
    client = client_for(viewer_user)
    first = client.get(reverse("monitors:list"), {"kind": "tcp"})
    assert len(listed(first)) == 50
    body = first.content.decode()
    assert "Page 1 of 3" in body
    assert "?kind=tcp&amp;page=2" in body
    third = client.get(reverse("monitors:list"), {"kind": "tcp", "page": "3"})
    assert listed(third) == [f"bulk-{n:03d}" for n in range(100, 120)]
    beyond = client.get(reverse("monitors:list"), {"kind": "tcp", "page": "99"})
    assert listed(beyond) == listed(third)
    junk = client.get(reverse("monitors:list"), {"page": "junk"})
    assert junk.status_code == 200 and len(listed(junk)) == 50


def test_list_queries_do_not_grow_with_monitors(
    viewer_user: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    monitors = [make_monitor(tag=f"m-{n:02d}") for n in range(30)]
    services.record_results(
        [result(m, now - timedelta(hours=h), "UP", 10.0 + h) for m in monitors for h in (1, 2)],
        now=now,
    )
    client = client_for(viewer_user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("monitors:list"))
    assert len(listed(response)) == 30
    assert response.content.decode().count("<polyline") == 30


# --- detail ------------------------------------------------------------------------


def test_detail_shows_state_results_chart_bars_and_events(
    viewer_user: Any, monitor: Monitor
) -> None:
    now = timezone.now()
    services.record_results(
        [
            result(monitor, now - timedelta(days=2), "DOWN", None, message="refused"),
            result(monitor, now - timedelta(hours=2), "UP", 40.0, message="port 9 open"),
            result(monitor, now - timedelta(minutes=1), "UP", 20.0, message="port 9 open"),
        ],
        now=now,
    )
    client = client_for(viewer_user)
    body = client.get(reverse("monitors:detail", args=["web"])).content.decode()
    assert "port 9 open" in body
    assert " UTC, " in body  # absolute time with a relative hint
    assert "2 \u00d7 up" in body
    assert body.count('<rect class="bar-') == 90
    assert body.count('class="bar-down"') == 1
    assert "no data</title>" in body
    assert '<svg class="chart"' in body and "ms</text>" in body
    assert "Status changed" in body and "Created" in body
    assert 'aria-current="true">24h' in body
    week = client.get(reverse("monitors:detail", args=["web"]), {"range": "7d"})
    week_body = week.content.decode()
    assert 'aria-current="true">7d' in week_body
    assert week_body.count('class="chart-hover"') == 168
    bogus = client.get(reverse("monitors:detail", args=["web"]), {"range": "1y"})
    assert bogus.content.decode().count('class="chart-hover"') == 24


def test_push_url_shown_to_admins_only(admin_user: Any, operator_user: Any) -> None:
    beat = make_monitor(name="Nightly", tag="nightly", kind="heartbeat", config={})
    url = reverse("monitors:detail", args=["nightly"])
    admin_body = client_for(admin_user).get(url).content.decode()
    assert f"/push/{beat.push_token}" in admin_body
    operator_body = client_for(operator_user).get(url).content.decode()
    assert beat.push_token not in operator_body


# --- actions -----------------------------------------------------------------------


def test_check_now_with_htmx_returns_the_live_partial(operator_user: Any) -> None:
    with listening_port() as port:
        make_monitor(name="Port", tag="port", config={"host": "127.0.0.1", "port": port})
        response = client_for(operator_user).post(
            reverse("monitors:check", args=["port"]), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="live"')
    assert 'data-result-status="UP"' in body
    assert f"port {port} open" in body
    assert "<html" not in body


def test_check_now_without_js_redirects_with_a_message(operator_user: Any) -> None:
    make_monitor(name="Closed", tag="closed", config={"host": "127.0.0.1", "port": closed_port()})
    client = client_for(operator_user)
    response = client.post(reverse("monitors:check", args=["closed"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("monitors:detail", args=["closed"])
    body = response.content.decode()
    assert "Checked now: Down" in body
    assert "connection refused" in body
    assert Monitor.objects.get(tag="closed").results.filter(source="manual").count() == 1


def test_pause_and_resume(admin_user: Any, monitor: Monitor) -> None:
    client = client_for(admin_user)
    paused = client.post(reverse("monitors:toggle", args=["web"]), {"active": "0"}, follow=True)
    monitor.refresh_from_db()
    assert not monitor.is_active and monitor.state.next_check_at is None
    assert "Resume" in paused.content.decode()
    client.post(reverse("monitors:toggle", args=["web"]), {"active": "1"})
    monitor.refresh_from_db()
    assert monitor.is_active and monitor.state.next_check_at is not None
    types = list(MonitorEvent.objects.filter(monitor=monitor).values_list("type", flat=True))
    assert types[:2] == ["resumed", "paused"]
    assert MonitorEvent.objects.filter(type="paused", actor=admin_user).exists()


def test_delete_needs_confirmation(admin_user: Any, monitor: Monitor) -> None:
    client = client_for(admin_user)
    confirm = client.get(reverse("monitors:delete", args=["web"])).content.decode()
    assert "cannot be undone" in confirm and 'class="btn btn-danger"' in confirm
    assert Monitor.objects.filter(tag="web").exists()
    response = client.post(reverse("monitors:delete", args=["web"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("monitors:list")
    assert "Monitor Web front deleted." in response.content.decode()
    assert not Monitor.objects.filter(tag="web").exists()
    assert MonitorEvent.objects.filter(type="deleted", monitor_tag="web").exists()


# --- create / edit form ----------------------------------------------------------


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Shop",
        "tag": "shop",
        "description": "",
        "kind": "tcp",
        "interval_seconds": "60",
        "timeout_seconds": "10",
        "is_active": "on",
        "is_public": "on",
        "tcp__host": "Example.COM",
        "tcp__port": "443",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_form_has_one_fieldset_per_kind_built_from_config(admin_user: Any) -> None:
    body = client_for(admin_user).get(reverse("monitors:create")).content.decode()
    for kind in ("http", "tcp", "dns", "ping", "tls", "heartbeat", "group"):
        assert f'data-kind-fieldset="{kind}"' in body
    assert 'name="http__url"' in body and 'type="text"' in body
    assert re.search(r'<input type="number" name="tcp__port"[^>]*max="65535"', body)
    assert re.search(r'<textarea name="http__headers"', body)
    assert re.search(r'<input type="checkbox" name="http__verify_tls"[^>]*checked', body)
    assert "Latency in milliseconds above which the check is DEGRADED." in body
    assert '<select name="kind"' in body and "data-kind-select" in body


def test_create_valid_monitor(admin_user: Any) -> None:
    response = client_for(admin_user).post(reverse("monitors:create"), form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("monitors:detail", args=["shop"])
    monitor = Monitor.objects.get(tag="shop")
    assert monitor.config == {"host": "example.com", "port": 443, "degraded_above_ms": None}
    assert monitor.state.next_check_at is not None
    assert MonitorEvent.objects.filter(monitor=monitor, type="created", actor=admin_user).exists()


def test_create_http_with_lists_and_headers(admin_user: Any) -> None:
    data = form_data(
        kind="http",
        tag="site",
        http__url="https://example.com/health",
        http__method="GET",
        http__headers="X-Token: abc\nAccept: application/json\n",
        http__expected_status="200\n301-302\n",
        http__follow_redirects="on",
        tcp__port="not used for http",
    )
    response = client_for(admin_user).post(reverse("monitors:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    config = Monitor.objects.get(tag="site").config
    assert config["headers"] == {"X-Token": "abc", "Accept": "application/json"}
    assert config["expected_status"] == ["200", "301-302"]
    assert config["follow_redirects"] is True
    assert config["verify_tls"] is False  # unchecked box


def test_errors_appear_next_to_their_fields(admin_user: Any) -> None:
    data = form_data(tag="Bad Tag!", tcp__port="70000", tcp__host="")
    response = client_for(admin_user).post(reverse("monitors:create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please fix the problems" in body
    assert "lowercase letters" in field_block(body, "tag").split('class="errors"')[1]
    assert 'class="errors"' in field_block(body, "tcp__port")
    assert "65535" in field_block(body, "tcp__port")
    assert "required" in field_block(body, "tcp__host")
    assert 'class="errors"' not in field_block(body, "name")
    # what was typed is kept
    assert 'value="Bad Tag!"' in body and 'value="70000"' in body
    assert not Monitor.objects.exists()


def test_timeout_must_be_shorter_than_interval(admin_user: Any) -> None:
    data = form_data(timeout_seconds="60")
    body = client_for(admin_user).post(reverse("monitors:create"), data).content.decode()
    assert "shorter than the interval" in field_block(body, "timeout_seconds")


def test_bad_url_error_is_next_to_the_url_field(admin_user: Any) -> None:
    data = form_data(kind="http", http__url="ftp://example.com")
    body = client_for(admin_user).post(reverse("monitors:create"), data).content.decode()
    block = field_block(body, "http__url")
    assert 'class="errors"' in block
    assert 'aria-invalid="true"' in block


def test_malformed_header_line_is_reported(admin_user: Any) -> None:
    data = form_data(kind="http", http__url="https://example.com", http__headers="no colon here")
    body = client_for(admin_user).post(reverse("monitors:create"), data).content.decode()
    assert "Line 1" in field_block(body, "http__headers")
    assert not Monitor.objects.exists()


def test_non_numeric_number_is_reported_by_the_serializer(admin_user: Any) -> None:
    body = (
        client_for(admin_user)
        .post(reverse("monitors:create"), form_data(tcp__port="eighty"))
        .content.decode()
    )
    assert "Must be an integer" in field_block(body, "tcp__port")


def test_duplicate_tag_and_unknown_kind(admin_user: Any, monitor: Monitor) -> None:
    client = client_for(admin_user)
    body = client.post(reverse("monitors:create"), form_data(tag="web")).content.decode()
    assert "already exists" in field_block(body, "tag")
    body = client.post(reverse("monitors:create"), form_data(kind="evil")).content.decode()
    assert 'class="errors"' in field_block(body, "kind")
    assert Monitor.objects.count() == 1


def test_reserved_tag_is_refused_inline(admin_user: Any) -> None:
    response = client_for(admin_user).post(reverse("monitors:create"), form_data(tag="new"))
    assert response.status_code == 400  # the form is shown again with its errors
    block = field_block(response.content.decode(), "tag")
    assert 'class="errors"' in block
    assert "is reserved" in block and "Choose another tag." in block
    assert not Monitor.objects.exists()


def test_group_members_errors_are_inline(admin_user: Any, monitor: Monitor) -> None:
    client = client_for(admin_user)
    body = client.post(
        reverse("monitors:create"), form_data(kind="group", tag="grp", group__members="ghost")
    ).content.decode()
    assert "ghost" in field_block(body, "group__members")
    ok = client.post(
        reverse("monitors:create"), form_data(kind="group", tag="grp", group__members="web\n")
    )
    assert ok.status_code == 302
    assert Monitor.objects.get(tag="grp").config["members"] == ["web"]


def test_edit_shows_current_values_and_saves(admin_user: Any) -> None:
    make_monitor(
        name="Site",
        tag="site",
        kind="http",
        config={"url": "https://example.com/", "headers": {"X-A": "1"}},
    )
    client = client_for(admin_user)
    body = client.get(reverse("monitors:edit", args=["site"])).content.decode()
    assert 'value="https://example.com/"' in body
    assert "X-A: 1</textarea>" in body
    assert re.search(r'<option value="http" selected>', body)
    data = form_data(
        name="Site renamed",
        tag="site",
        kind="http",
        http__url="https://example.org/",
        http__headers="",
        interval_seconds="120",
    )
    response = client.post(reverse("monitors:edit", args=["site"]), data)
    assert response.status_code == 302
    monitor = Monitor.objects.get(tag="site")
    assert monitor.name == "Site renamed" and monitor.interval_seconds == 120
    assert monitor.config["url"] == "https://example.org/"
    assert monitor.config["headers"] == {}
    assert MonitorEvent.objects.filter(monitor=monitor, type="updated").exists()


# --- hostile input ----------------------------------------------------------------


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_html_in_names_is_escaped_everywhere(admin_user: Any) -> None:
    now = timezone.now()
    monitor = make_monitor(name=HOSTILE, tag="evil", description=HOSTILE)
    services.record_results([result(monitor, now, "DOWN", None, message=HOSTILE)], now=now)
    client = client_for(admin_user)
    for url in (
        reverse("monitors:list"),
        reverse("monitors:detail", args=["evil"]),
        reverse("monitors:edit", args=["evil"]),
        reverse("monitors:delete", args=["evil"]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
    htmx = client.post(reverse("monitors:check", args=["evil"]), HTTP_HX_REQUEST="true")
    assert "<script>alert(1)" not in htmx.content.decode()


def test_hostile_form_input_is_escaped_on_redisplay(admin_user: Any) -> None:
    data = form_data(name=HOSTILE, tag=HOSTILE, tcp__host=HOSTILE)
    body = client_for(admin_user).post(reverse("monitors:create"), data).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;" in body
    assert not Monitor.objects.exists()


def test_unicode_names_round_trip(admin_user: Any) -> None:
    name = "Ünïcødé ✓ 監視 🚀"
    response = client_for(admin_user).post(
        reverse("monitors:create"), form_data(name=name, tcp__host="bücher.example")
    )
    assert response.status_code == 302
    monitor = Monitor.objects.get(tag="shop")
    assert monitor.name == name
    assert monitor.config["host"] == "xn--bcher-kva.example"
    body = client_for(admin_user).get(reverse("monitors:list"), {"q": "監視"}).content.decode()
    assert name in body


def test_oversized_input_is_a_validation_error(admin_user: Any) -> None:
    client = client_for(admin_user)
    body = client.post(
        reverse("monitors:create"),
        form_data(
            name="n" * 10_000,
            description="d" * 6000,
            tcp__port="9" * 400,
            interval_seconds="1" * 100,
        ),
    ).content.decode()
    assert "no more than 200 characters" in field_block(body, "name")
    assert "no more than 5000 characters" in field_block(body, "description")
    assert 'class="errors"' in field_block(body, "tcp__port")
    assert 'class="errors"' in field_block(body, "interval_seconds")
    assert not Monitor.objects.exists()
    many_lines = "\n".join(f"H{n}: v" for n in range(500))
    body = client.post(
        reverse("monitors:create"),
        form_data(kind="http", http__url="https://example.com", http__headers=many_lines),
    ).content.decode()
    assert 'class="errors"' in field_block(body, "http__headers")


def test_oversized_search_is_trimmed(viewer_user: Any, monitor: Monitor) -> None:
    response = client_for(viewer_user).get(reverse("monitors:list"), {"q": "x" * 5000})
    assert response.status_code == 200
