"""Hostile input to the monitors API: every bad body is a 4xx naming the field
(or explaining the body), never a 500, and never writes a row."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import override_settings

from monitors.api.serializers import RESERVED_TAGS
from monitors.models import Monitor, MonitorEvent
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db

VALID: dict[str, Any] = {
    "name": "Website",
    "tag": "website",
    "kind": "http",
    "config": {"url": "https://example.com/"},
}
URL = "/api/v1/monitors"


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


def post_raw(client, body: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", URL, body, content_type=content_type)


def assert_rejected(response, field: str | None, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    if field is not None:
        assert field in body, body
        assert body[field], body
    else:
        assert "detail" in body, body
    assert not Monitor.objects.exists()
    assert not MonitorEvent.objects.exists()
    return body


def test_valid_payload_is_accepted(admin) -> None:
    """The baseline every hostile variant below differs from by one thing."""
    assert admin.post(URL, VALID, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b'{"name": NaN}', "application/json"),
        (b'{"interval_seconds": Infinity}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"name": "x"}', "application/json; charset=utf-16"),
    ],
    ids=["broken", "empty", "nan", "infinity", "not-utf8", "deep-nesting", "wrong-charset"],
)
def test_unparseable_bodies_are_400(admin, body: bytes, content_type: str) -> None:
    response = post_raw(admin, body, content_type)
    if body == b"":
        # An empty body is an empty object: the required fields are named.
        body_json = assert_rejected(response, "name")
        assert {"tag", "kind"} <= set(body_json)
    else:
        assert_rejected(response, None)


def test_unknown_charset_is_read_as_utf8(admin) -> None:
    response = post_raw(admin, b'{"name": "x"}', "application/json; charset=no-such-charset")
    body = assert_rejected(response, "tag")
    assert "name" not in body


def test_form_bodies_are_415(admin) -> None:
    response = post_raw(admin, "name=x&tag=y", "application/x-www-form-urlencoded")
    assert_rejected(response, None, status=415)


@pytest.mark.parametrize(
    "body", [[VALID], "a string", 42, None], ids=["array", "str", "int", "null"]
)
def test_body_must_be_an_object(admin, body: Any) -> None:
    response = post_raw(admin, json.dumps(body))
    assert_rejected(response, "non_field_errors")


def test_unknown_fields_are_rejected_by_name(admin) -> None:
    response = admin.post(URL, {**VALID, "intervall_seconds": 30, "owner": "x"}, format="json")
    body = assert_rejected(response, "intervall_seconds")
    assert "owner" in body
    assert "interval_seconds" in body["owner"][0]  # the message lists the real fields


def test_read_only_fields_are_ignored(admin) -> None:
    response = admin.post(URL, {**VALID, "id": 999, "state": {"status": "UP"}}, format="json")
    assert response.status_code == 201, response.json()
    monitor = Monitor.objects.get()
    assert monitor.pk != 999
    assert monitor.state.status is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("config", "https://example.com/"),
        ("config", ["https://example.com/"]),
        ("config", None),
        ("config", {}),  # http needs a url
        ("config", {"url": "https://example.com/", "colour": "red"}),
        ("config", {"url": "https://exa\x00mple.com/"}),
        ("config", {"url": "https://example.com/", "headers": {"X\x00": "v"}}),
        ("config", {"url": "https://example.com/", "degraded_above_ms": float("inf")}),
        ("config", {"url": "x" * 300_000}),
        ("config", {"url": "https://example.com/", "body": "\ud800"}),
        ("interval_seconds", "sixty"),
        ("interval_seconds", True),
        ("interval_seconds", float("inf")),
        ("interval_seconds", 60.5),
        ("interval_seconds", -60),
        ("interval_seconds", 9),
        ("interval_seconds", 86401),
        ("interval_seconds", 10**30),
        ("interval_seconds", None),
        ("interval_seconds", [60]),
        ("timeout_seconds", 0),
        ("timeout_seconds", 121),
        ("timeout_seconds", "ten"),
        ("is_active", "sometimes"),
        ("is_public", {"yes": True}),
        ("kind", "smtp"),
        ("kind", None),
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 10_000),
        ("name", "null\x00byte"),
        ("name", "lone \ud83d surrogate"),
        ("name", ["list"]),
        ("name", {"a": 1}),
        ("description", "d" * 5001),
        ("description", "d" * (1024 * 1024)),
        ("description", "nul \x00 here"),
        ("tag", "Website"),
        ("tag", "WEBSITE"),
        ("tag", "web site"),
        ("tag", "-website"),
        ("tag", "x"),
        ("tag", "w" * 65),
        ("tag", "web\x00site"),
        ("tag", "wébsite"),
        ("tag", ""),
        ("tag", ["website"]),
    ],
)
def test_bad_field_values_are_400_naming_the_field(admin, field: str, value: Any) -> None:
    # Encoded by hand: an infinite float is written as the overflowing literal
    # 1e999 (valid JSON that parses to inf), and lone surrogates as \u escapes.
    text = json.dumps({**VALID, field: value}, allow_nan=True).replace("Infinity", "1e999")
    response = post_raw(admin, text)
    assert_rejected(response, field)


def test_huge_integer_literal_is_400(admin) -> None:
    body = json.dumps(VALID)[:-1] + ', "interval_seconds": ' + "9" * 5000 + "}"
    response = post_raw(admin, body)
    assert response.status_code == 400
    assert not Monitor.objects.exists()


def test_timeout_must_be_shorter_than_interval(admin) -> None:
    response = admin.post(
        URL, {**VALID, "interval_seconds": 30, "timeout_seconds": 30}, format="json"
    )
    body = assert_rejected(response, "timeout_seconds")
    assert "30s" in body["timeout_seconds"][0]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_body_over_the_upload_limit_is_413(admin) -> None:
    response = admin.post(URL, {**VALID, "description": "d" * 100_000}, format="json")
    body = assert_rejected(response, None, status=413)
    assert "65536" in body["detail"]


def test_duplicate_tag_and_replayed_post(admin) -> None:
    first = admin.post(URL, VALID, format="json")
    replay = admin.post(URL, VALID, format="json")

    assert first.status_code == 201
    assert replay.status_code == 400
    assert "tag" in replay.json()
    assert Monitor.objects.count() == 1
    assert MonitorEvent.objects.count() == 1


def test_renaming_onto_a_used_tag_is_400(admin) -> None:
    make_monitor(tag="one")
    make_monitor(tag="two")

    response = admin.patch("/api/v1/monitors/two", {"tag": "one"}, format="json")

    assert response.status_code == 400
    assert "tag" in response.json()
    assert sorted(Monitor.objects.values_list("tag", flat=True)) == ["one", "two"]


def test_patch_to_same_tag_is_fine(admin) -> None:
    make_monitor(tag="one")
    response = admin.patch("/api/v1/monitors/one", {"tag": "one", "name": "Same"}, format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("tag", sorted(RESERVED_TAGS))
def test_reserved_tags_are_400(admin, tag: str) -> None:
    body = assert_rejected(admin.post(URL, {**VALID, "tag": tag}, format="json"), "tag")
    assert body["tag"] == [
        f"“{tag}” is reserved: it is a word in the console's or the API's monitor URLs. "
        "Choose another tag."
    ]


def test_renaming_onto_a_reserved_tag_is_400_but_keeping_one_is_fine(admin) -> None:
    make_monitor(tag="db")
    response = admin.patch("/api/v1/monitors/db", {"tag": "new"}, format="json")
    assert response.status_code == 400
    assert "reserved" in response.json()["tag"][0]
    assert Monitor.objects.filter(tag="db").exists()
    # A monitor given such a tag before the rule existed can still be edited.
    make_monitor(tag="pause")
    kept = admin.patch("/api/v1/monitors/pause", {"tag": "pause", "name": "Old"}, format="json")
    assert kept.status_code == 200, kept.json()


def _path_words(patterns: list[Any]) -> set[str]:
    """Literal words after ``monitors/`` in a list of URL patterns."""
    words: set[str] = set()
    for pattern in patterns:
        text = re.sub(r"\(\?P<\w+>[^)]*\)|<[^>]+>", "<>", str(pattern.pattern))
        parts = text.replace("/?", "/").strip("^$").split("/")
        if parts[0] == "monitors":
            words |= {part for part in parts[1:] if re.fullmatch(r"[a-z0-9_-]+", part)}
    return words


def test_reserved_tags_cover_every_monitor_url_word() -> None:
    from monitors import urls as console_urls
    from monitors.api import urls as api_urls

    words = _path_words(console_urls.urlpatterns) | _path_words(api_urls.urlpatterns)
    assert {"new", "edit", "check", "results", "pause"} <= words  # the parser works
    assert words <= RESERVED_TAGS


def test_patch_changing_kind_needs_a_config_for_the_new_kind(admin) -> None:
    monitor = make_monitor(tag="db", kind="tcp", config={"host": "db.internal", "port": 5432})

    response = admin.patch("/api/v1/monitors/db", {"kind": "http"}, format="json")

    assert response.status_code == 400
    assert "config" in response.json()
    monitor.refresh_from_db()
    assert monitor.kind == "tcp"
    assert monitor.config == {"host": "db.internal", "port": 5432}
    assert not MonitorEvent.objects.filter(type="updated").exists()

    ok = admin.patch(
        "/api/v1/monitors/db",
        {"kind": "http", "config": {"url": "https://db.internal/"}},
        format="json",
    )
    assert ok.status_code == 200, ok.json()
    monitor.refresh_from_db()
    assert monitor.kind == "http"


def test_patch_timeout_against_stored_interval(admin) -> None:
    monitor = make_monitor(tag="db", interval_seconds=20, timeout_seconds=5)

    response = admin.patch("/api/v1/monitors/db", {"timeout_seconds": 25}, format="json")

    assert response.status_code == 400
    assert "timeout_seconds" in response.json()
    monitor.refresh_from_db()
    assert monitor.timeout_seconds == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "a\x00b"), ("interval_seconds", "sixty"), ("config", "nope"), ("bogus", 1)],
)
def test_bad_patch_writes_nothing(admin, field: str, value: Any) -> None:
    monitor = make_monitor(tag="db", name="Before")

    response = admin.patch("/api/v1/monitors/db", {field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    monitor.refresh_from_db()
    assert monitor.name == "Before"
    assert not MonitorEvent.objects.filter(type="updated").exists()


@pytest.mark.parametrize("path", ["/api/v1/monitors/DB", "/api/v1/monitors/d%00b"])
def test_lookup_of_impossible_tags_is_404(admin, path: str) -> None:
    make_monitor(tag="db")
    assert admin.get(path).status_code == 404


def test_a_tag_race_lost_at_the_database_is_still_a_400(admin, monkeypatch) -> None:
    """Two requests can both pass the uniqueness check; the database decides."""
    from monitors.api.serializers import MonitorSerializer

    make_monitor(tag="website")
    monkeypatch.setattr(MonitorSerializer, "validate_tag", lambda self, value: value)

    response = admin.post(URL, VALID, format="json")

    assert response.status_code == 400
    assert "tag" in response.json()
    assert Monitor.objects.count() == 1
    assert MonitorEvent.objects.filter(type="created").count() == 1
