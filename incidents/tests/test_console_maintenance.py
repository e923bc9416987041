"""Console pages for maintenance windows through Django's test client: every view
for every role, list filters and paging, the form judged by the API's
serializer (errors inline, same messages as the API), changes through
``incidents.maintenance_services``, the active badge and hostile input."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from incidents import maintenance_services
from incidents.models import MaintenanceWindow
from incidents.views_maintenance import describe_rrule
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None, role=role)


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    return {
        "admin": _user("admin-user", ADMIN),
        "operator": _user("operator-user", OPERATOR),
        "viewer": _user("viewer-user", VIEWER),
    }


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _window(title: str = "DB upgrade", **fields: Any) -> MaintenanceWindow:
    now = timezone.now()
    data: dict[str, Any] = {
        "title": title,
        "description": "We upgrade **Postgres**.",
        "starts_at": now + timedelta(days=1),
        "ends_at": now + timedelta(days=1, hours=2),
        **fields,
    }
    return maintenance_services.create_window(data, now=now)


@pytest.fixture
def window() -> MaintenanceWindow:
    return _window()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records which maintenance service ran (the real one still runs)."""
    calls: list[str] = []
    for name in ("create_window", "update_window", "delete_window"):
        real = getattr(maintenance_services, name)

        def wrapper(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(maintenance_services, name, wrapper)
    return calls


def field_block(html: str, name: str) -> str:
    """The markup of the form field ``name`` (console/_field.html)."""
    match = re.search(
        rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', html, flags=re.DOTALL
    )
    assert match, f"no field {name}"
    return match.group(0)


def valid_post(**overrides: Any) -> dict[str, Any]:
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    data: dict[str, Any] = {
        "title": "Network switch swap",
        "description": "Short *blips* expected.",
        "starts_at": start.strftime(FMT),
        "ends_at": (start + timedelta(hours=1)).strftime(FMT),
        "rrule": "",
        "monitors": [],
    }
    data.update(overrides)
    return data


# --- access by role -----------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(window: MaintenanceWindow) -> None:
    for url in (
        reverse("maintenance:list"),
        reverse("maintenance:detail", args=[window.pk]),
        reverse("maintenance:create"),
        reverse("maintenance:edit", args=[window.pk]),
        reverse("maintenance:delete", args=[window.pk]),
    ):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))
    response = Client().post(reverse("maintenance:delete", args=[window.pk]))
    assert response.status_code == 302
    assert MaintenanceWindow.objects.filter(pk=window.pk).exists()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_read_but_cannot_change(
    users: dict[str, Any], window: MaintenanceWindow, spy: list[str], role: str
) -> None:
    client = client_for(users[role])
    listed = client.get(reverse("maintenance:list"))
    assert listed.status_code == 200
    html = listed.content.decode()
    assert "DB upgrade" in html
    assert reverse("maintenance:create") not in html
    page = client.get(reverse("maintenance:detail", args=[window.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>Postgres</strong>" in html
    assert reverse("maintenance:edit", args=[window.pk]) not in html
    assert reverse("maintenance:delete", args=[window.pk]) not in html
    for url in (
        reverse("maintenance:create"),
        reverse("maintenance:edit", args=[window.pk]),
        reverse("maintenance:delete", args=[window.pk]),
    ):
        assert client.get(url).status_code == 403, url
    posts = {
        reverse("maintenance:create"): valid_post(),
        reverse("maintenance:edit", args=[window.pk]): valid_post(title="Hijacked"),
        reverse("maintenance:delete", args=[window.pk]): {},
        reverse("maintenance:preview"): {"description": "x"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert spy == []
    assert MaintenanceWindow.objects.count() == 1
    window.refresh_from_db()
    assert window.title == "DB upgrade"


def test_nav_links_to_maintenance(users: dict[str, Any]) -> None:
    html = client_for(users["viewer"]).get(reverse("maintenance:list")).content.decode()
    assert f'<a href="{reverse("maintenance:list")}" aria-current="page">Maintenance</a>' in html
    other = client_for(users["viewer"]).get(reverse("incidents:list")).content.decode()
    assert f'<a href="{reverse("maintenance:list")}">Maintenance</a>' in other


# --- create, edit, delete by an admin ------------------------------------------------


def test_admin_creates_window(users: dict[str, Any], spy: list[str]) -> None:
    web = make_monitor(name="Web", tag="web")
    db = make_monitor(name="DB", tag="db")
    client = client_for(users["admin"])
    url = reverse("maintenance:create")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("title", "description", "starts_at", "ends_at", "rrule", "is_global", "monitors"):
        assert f'name="{name}"' in html
    assert 'type="datetime-local"' in html
    assert "Starts (UTC)" in html and "Ends (UTC)" in html
    assert "FREQ=WEEKLY;BYDAY=SU" in html and "FREQ=DAILY" in html
    assert f'hx-post="{reverse("maintenance:preview")}"' in html
    assert '<option value="web">Web (web)</option>' in html
    data = valid_post(monitors=["web", "db"], rrule="FREQ=WEEKLY;BYDAY=SU")
    response = client.post(url, data)
    assert response.status_code == 302
    assert spy == ["create_window"]
    window = MaintenanceWindow.objects.get()
    assert response["Location"] == reverse("maintenance:detail", args=[window.pk])
    assert window.title == "Network switch swap"
    assert window.rrule == "FREQ=WEEKLY;BYDAY=SU"
    assert window.starts_at.strftime(FMT) == data["starts_at"]
    assert window.ends_at - window.starts_at == timedelta(hours=1)
    assert "<em>blips</em>" in window.description_html
    assert set(window.monitors.all()) == {web, db}
    assert not window.is_global


def test_times_are_read_and_shown_in_utc(users: dict[str, Any], settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    client = client_for(users["admin"])
    response = client.post(
        reverse("maintenance:create"),
        valid_post(starts_at="2030-01-02T03:04", ends_at="2030-01-02T05:00"),
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.starts_at == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    assert window.ends_at == datetime(2030, 1, 2, 5, 0, tzinfo=UTC)
    html = client.get(reverse("maintenance:edit", args=[window.pk])).content.decode()
    assert 'value="2030-01-02T03:04"' in html


def test_admin_edits_window(users: dict[str, Any], spy: list[str]) -> None:
    web = make_monitor(name="Web", tag="web")
    db = make_monitor(name="DB", tag="db")
    window = _window(monitors=[web])
    client = client_for(users["admin"])
    url = reverse("maintenance:edit", args=[window.pk])
    page = client.get(url).content.decode()
    assert 'value="DB upgrade"' in page
    assert '<option value="web" selected>' in page
    assert "<strong>Postgres</strong>" in page  # the preview starts from the saved text
    start = window.starts_at.replace(second=0, microsecond=0)
    spy.clear()  # the window above was made through the service too
    response = client.post(
        url,
        {
            "title": "DB upgrade, take two",
            "description": "Now with _replicas_.",
            "starts_at": start.strftime(FMT),
            "ends_at": (start + timedelta(hours=3)).strftime(FMT),
            "rrule": "FREQ=DAILY;COUNT=3",
            "monitors": ["db"],
        },
    )
    assert response.status_code == 302
    assert spy == ["update_window"]
    window.refresh_from_db()
    assert window.title == "DB upgrade, take two"
    assert window.rrule == "FREQ=DAILY;COUNT=3"
    assert window.ends_at - window.starts_at == timedelta(hours=3)
    assert "<em>replicas</em>" in window.description_html
    assert list(window.monitors.all()) == [db]
    # Global: the box is enough, monitors may be empty.
    response = client.post(
        url,
        {
            "title": "Everything",
            "starts_at": start.strftime(FMT),
            "ends_at": (start + timedelta(hours=1)).strftime(FMT),
            "is_global": "on",
        },
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.is_global and window.rrule == "" and window.description == ""
    assert not window.monitors.exists()


def test_admin_deletes_with_confirmation(
    users: dict[str, Any], window: MaintenanceWindow, spy: list[str]
) -> None:
    client = client_for(users["admin"])
    url = reverse("maintenance:delete", args=[window.pk])
    detail = client.get(reverse("maintenance:detail", args=[window.pk])).content.decode()
    assert url in detail
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b"btn-danger" in confirm.content
    assert b"DB upgrade" in confirm.content
    assert MaintenanceWindow.objects.filter(pk=window.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("maintenance:list")
    assert spy == ["delete_window"]
    assert not MaintenanceWindow.objects.exists()
    assert client.get(reverse("maintenance:detail", args=[window.pk])).status_code == 404


# --- validation: the API's serializer, errors inline ---------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_at": "2030-01-01T00:00", "starts_at": "2030-01-01T01:00"}, "ends_at", "after"),
        ({"ends_at": "2030-01-01T01:00", "starts_at": "2030-01-01T01:00"}, "ends_at", "after"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule", "Not a valid RRULE"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule", "more often than hourly"),
        ({"rrule": "DTSTART:20300101T000000Z"}, "rrule", "Only the RRULE itself"),
        ({"monitors": ["ghost"]}, "monitors", "Unknown monitor tag(s): ghost."),
        ({"monitors": ["Bad Tag!"]}, "monitors", "Item 1:"),
        ({"title": "x" * 301}, "title", "no more than 300 characters"),
        ({"title": ""}, "title", "may not be blank"),
        ({"starts_at": ""}, "starts_at", "required"),
        ({"starts_at": "next tuesday"}, "starts_at", "Enter a valid date/time"),
        ({"description": "x" * 20001}, "description", "no more than 20000 characters"),
    ],
)
def test_validation_errors_inline(
    users: dict[str, Any], spy: list[str], overrides: dict[str, Any], field: str, message: str
) -> None:
    make_monitor(name="Web", tag="web")
    response = client_for(users["admin"]).post(
        reverse("maintenance:create"), valid_post(**overrides)
    )
    assert response.status_code == 400
    html = response.content.decode()
    block = field_block(html, field)
    assert "has-error" in block
    assert message in block.replace("&#x27;", "'")
    assert "Please fix the problems" in html
    assert spy == []
    assert not MaintenanceWindow.objects.exists()


def test_all_errors_show_at_once(users: dict[str, Any]) -> None:
    client = client_for(users["admin"])
    response = client.post(
        reverse("maintenance:create"), valid_post(title="", rrule="FREQ=X", monitors=["ghost"])
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"title", "rrule", "monitors"}
    assert "Not a valid RRULE" in errors["rrule"][0]
    response = client.post(
        reverse("maintenance:create"),
        valid_post(title="", starts_at="2030-01-01T02:00", ends_at="2030-01-01T01:00"),
    )
    assert set(response.context["form"].errors) == {"title", "ends_at"}


def test_console_and_api_give_the_same_messages(users: dict[str, Any], api_client_for: Any) -> None:
    api = api_client_for(users["admin"])
    console = client_for(users["admin"])
    cases = [
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"monitors": ["ghost"]}, "monitors"),
        ({"title": "x" * 301}, "title"),
        ({"ends_at": "2030-01-01T00:00", "starts_at": "2030-01-01T01:00"}, "ends_at"),
    ]
    for overrides, field in cases:
        data = valid_post(**overrides)
        payload = {**data}
        for name in ("starts_at", "ends_at"):
            payload[name] = data[name] + ":00Z"
        api_response = api.post("/api/v1/maintenance-windows", payload, format="json")
        assert api_response.status_code == 400, field
        api_messages = api_response.json()[field]
        form = console.post(reverse("maintenance:create"), data).context["form"]
        assert form.errors[field] == api_messages, field
    assert not MaintenanceWindow.objects.exists()


def test_edit_errors_keep_the_row(users: dict[str, Any], window: MaintenanceWindow) -> None:
    response = client_for(users["admin"]).post(
        reverse("maintenance:edit", args=[window.pk]), valid_post(title="New", rrule="FREQ=;")
    )
    assert response.status_code == 400
    assert "has-error" in field_block(response.content.decode(), "rrule")
    window.refresh_from_db()
    assert window.title == "DB upgrade"


def test_hostile_title_escaped_and_description_sanitised(users: dict[str, Any]) -> None:
    client = client_for(users["admin"])
    title = "<script>alert('t')</script>"
    description = (
        "<script>alert('d')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(2)) **fine**"
    )
    bad = client.post(
        reverse("maintenance:create"),
        valid_post(title=title, description=description, rrule="nope"),
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html  # escaped in the textarea, dropped in the preview
    response = client.post(
        reverse("maintenance:create"), valid_post(title=title, description=description)
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.title == title
    for url in (reverse("maintenance:detail", args=[window.pk]), reverse("maintenance:list")):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;" in html, url
    detail = client.get(reverse("maintenance:detail", args=[window.pk])).content.decode()
    assert "<strong>fine</strong>" in detail
    assert "onerror" not in window.description_html
    assert "javascript:alert" not in window.description_html
    assert "<img src=x onerror" not in detail


def test_preview_renders_sanitised_markdown(users: dict[str, Any]) -> None:
    client = client_for(users["admin"])
    response = client.post(
        reverse("maintenance:preview"),
        {"description": "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "onerror" not in html
    assert "Nothing to preview" in client.post(reverse("maintenance:preview")).content.decode()
    assert client.get(reverse("maintenance:preview")).status_code == 405


# --- list: state, filters, paging ---------------------------------------------------


def _states_fixture() -> dict[str, MaintenanceWindow]:
    now = timezone.now()
    web = make_monitor(name="Web", tag="web")
    db = make_monitor(name="DB", tag="db")
    hour = timedelta(hours=1)
    return {
        "now": _window("One-off now", starts_at=now - hour, ends_at=now + hour, monitors=[web]),
        "later": _window(
            "One-off later", starts_at=now + 5 * hour, ends_at=now + 6 * hour, monitors=[db]
        ),
        "before": _window(
            "One-off before", starts_at=now - 6 * hour, ends_at=now - 5 * hour, is_global=True
        ),
        # Daily, today's occurrence started 10 minutes ago and lasts an hour.
        "daily_now": _window(
            "Daily now",
            starts_at=now - timedelta(days=3, minutes=10),
            ends_at=now - timedelta(days=3, minutes=10) + hour,
            rrule="FREQ=DAILY",
        ),
        # Daily, started long ago, but the next occurrence is in two hours.
        "daily_later": _window(
            "Daily later",
            starts_at=now - timedelta(days=3) + 2 * hour,
            ends_at=now - timedelta(days=3) + 3 * hour,
            rrule="FREQ=DAILY",
            monitors=[db],
        ),
        # Two occurrences, both long over.
        "daily_done": _window(
            "Daily done",
            starts_at=now - timedelta(days=10),
            ends_at=now - timedelta(days=10) + hour,
            rrule="FREQ=DAILY;COUNT=2",
        ),
    }


def test_list_state_and_monitor_filters(users: dict[str, Any]) -> None:
    _states_fixture()
    client = client_for(users["viewer"])

    def titles(**params: str) -> set[str]:
        response = client.get(reverse("maintenance:list"), params)
        assert response.status_code == 200
        return {row.window.title for row in response.context["page"].object_list}

    everything = {
        "One-off now",
        "One-off later",
        "One-off before",
        "Daily now",
        "Daily later",
        "Daily done",
    }
    assert titles() == everything
    assert titles(state="all") == everything
    assert titles(state="bogus") == everything
    assert titles(state="active") == {"One-off now", "Daily now"}
    assert titles(state="upcoming") == {"One-off later", "Daily later"}
    assert titles(state="past") == {"One-off before", "Daily done"}
    # Windows covering a monitor include the global ones.
    assert titles(monitor="db") == {"One-off later", "Daily later", "One-off before"}
    assert titles(monitor="db", state="upcoming") == {"One-off later", "Daily later"}
    assert titles(monitor="web", state="active") == {"One-off now"}
    assert titles(monitor="nobody") == {"One-off before"}
    html = client.get(reverse("maintenance:list"), {"state": "active", "monitor": "db"})
    assert "No maintenance windows match these filters" in html.content.decode()


def test_list_shows_active_badge_next_occurrence_and_scope(users: dict[str, Any]) -> None:
    windows = _states_fixture()
    html = client_for(users["viewer"]).get(reverse("maintenance:list")).content.decode()
    rows = {
        key: re.search(rf'<tr data-window="{w.pk}">(.*?)</tr>', html, flags=re.DOTALL).group(1)
        for key, w in windows.items()
    }
    active = '<span class="badge badge-monitoring" data-window-state="active">'
    assert active in rows["now"] and "Active now</span>" in rows["now"]
    assert 'aria-hidden="true">⚒</span>' in rows["now"]
    assert active in rows["daily_now"]
    assert 'data-window-state="upcoming"' in rows["later"]
    assert 'data-window-state="upcoming"' in rows["daily_later"]
    assert 'data-window-state="past"' in rows["before"]
    assert 'data-window-state="past"' in rows["daily_done"]
    assert "Every day" in rows["daily_later"] and "FREQ=DAILY" in rows["daily_later"]
    assert "Next:" in rows["daily_later"]
    assert "Every day, 2 times" in rows["daily_done"]
    assert "No further occurrences" in rows["daily_done"]
    assert "This occurrence ends" in rows["daily_now"]
    assert 'data-scope="global"' in rows["before"] and "All monitors" in rows["before"]
    assert '<span class="chip" title="web">Web</span>' in rows["now"]


def test_list_paging_keeps_filters(users: dict[str, Any]) -> None:
    now = timezone.now()
    for n in range(30):
        start = now + timedelta(days=n + 1)
        _window(f"Window {n}", starts_at=start, ends_at=start + timedelta(hours=1))
    _window("Old", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    client = client_for(users["viewer"])
    first = client.get(reverse("maintenance:list"), {"state": "upcoming"})
    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 25
    assert "?state=upcoming&amp;page=2" in first.content.decode()
    second = client.get(reverse("maintenance:list"), {"state": "upcoming", "page": 2})
    assert len(second.context["page"].object_list) == 5
    oldest = client.get(reverse("maintenance:list"), {"sort": "oldest"})
    assert oldest.context["page"].object_list[0].window.title == "Old"
    newest = client.get(reverse("maintenance:list"))
    assert newest.context["page"].object_list[0].window.title == "Window 29"


def test_list_empty_state_says_what_to_do(users: dict[str, Any]) -> None:
    admin_html = client_for(users["admin"]).get(reverse("maintenance:list")).content.decode()
    assert "No maintenance windows yet" in admin_html
    assert reverse("maintenance:create") in admin_html
    viewer_html = client_for(users["viewer"]).get(reverse("maintenance:list")).content.decode()
    assert "No maintenance windows yet" in viewer_html
    assert "Ask an admin" in viewer_html
    assert reverse("maintenance:create") not in viewer_html


# --- window page --------------------------------------------------------------------


def test_detail_of_recurring_window_lists_next_five(users: dict[str, Any]) -> None:
    web = make_monitor(name="Web", tag="web")
    start = datetime(2024, 1, 7, 2, 0, tzinfo=UTC)  # a Sunday
    window = _window(
        "Sunday patching",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        rrule="FREQ=WEEKLY;BYDAY=SU",
        monitors=[web],
    )
    response = client_for(users["viewer"]).get(reverse("maintenance:detail", args=[window.pk]))
    assert response.status_code == 200
    occurrences = response.context["occurrences"]
    assert len(occurrences) == 5
    now = timezone.now()
    for first, end in occurrences:
        assert first > now and first.weekday() == 6 and (first.hour, first.minute) == (2, 0)
        assert end - first == timedelta(hours=2)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(occurrences)]
    assert gaps == [timedelta(days=7)] * 4
    html = response.content.decode()
    assert "Every week on Sunday" in html and "FREQ=WEEKLY;BYDAY=SU" in html
    assert html.count('<li><span class="event-time">') == 5
    assert "<strong>Postgres</strong>" in html
    assert f'href="{reverse("monitors:detail", args=["web"])}"' in html
    assert "2 h each" in html


def test_detail_of_active_one_off_window(users: dict[str, Any]) -> None:
    now = timezone.now()
    window = _window(
        "Now", starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=55)
    )
    response = client_for(users["viewer"]).get(reverse("maintenance:detail", args=[window.pk]))
    html = response.content.decode()
    assert 'data-window-state="active"' in html and "Active now" in html
    assert "Active until" in html
    assert response.context["occurrences"] == []
    assert "Next occurrences" not in html


def test_describe_rrule() -> None:
    assert describe_rrule("FREQ=DAILY") == "Every day"
    assert describe_rrule("RRULE:FREQ=WEEKLY;BYDAY=SU") == "Every week on Sunday"
    assert (
        describe_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;COUNT=4")
        == "Every 2 weeks on Saturday and Sunday, 4 times"
    )
    assert describe_rrule("FREQ=HOURLY;INTERVAL=6") == "Every 6 hours"
    assert describe_rrule("FREQ=MONTHLY;UNTIL=20301231T000000Z") == "Every month, until 2030-12-31"
    assert describe_rrule("FREQ=MONTHLY;BYMONTHDAY=1") == ""
    assert describe_rrule("FREQ=MONTHLY;BYDAY=1MO") == ""
    assert describe_rrule("nonsense") == ""
