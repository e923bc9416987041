"""The public page cache (``public_site.cache``) through the test client:
hits answer without touching the database, ETag/304, gzip, Cache-Control,
signed-in users and console paths bypass it, junk query parameters share one
entry, saved incidents retire entries at once, and a check result (bulk
written, no signal) shows once the TTL and the stale grace have passed.

Time is moved by replacing ``public_site.cache.time.time``; nothing sleeps.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache as django_cache
from django.test import Client
from django.utils import timezone

from incidents import services as incident_services
from public_site import cache
from public_site.tests import pagedata

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Clock]:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 5
    fake = Clock(1_000_000.0)
    monkeypatch.setattr(cache.time, "time", fake)
    yield fake


@pytest.fixture
def api(db: None) -> Any:
    (monitor,) = pagedata.monitors(["api"])
    pagedata.history(monitor, timezone.now(), {0: ["UP"]})
    return monitor


def test_second_request_is_served_from_the_cache(
    client: Client, clock: Clock, api: Any, django_assert_num_queries: Any
) -> None:
    first = client.get("/")
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=5"
    assert first["ETag"].startswith('"')
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Cache-Control"] == "public, max-age=5"
    assert "Accept-Encoding" in second["Vary"]
    assert second["X-Content-Type-Options"] == "nosniff"  # headers replayed as rendered


def test_etag_gives_304_and_gzip_is_served_when_accepted(
    client: Client, clock: Clock, api: Any
) -> None:
    first = client.get("/")
    etag = first["ETag"]
    not_modified = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    zipped = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == first.content
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(first.content)
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""


def test_signed_in_users_and_non_public_paths_bypass_the_cache(
    client: Client, clock: Clock, api: Any, admin_user: Any, django_assert_max_num_queries: Any
) -> None:
    client.get("/")
    client.force_login(admin_user)
    with django_assert_max_num_queries(30) as queries:
        response = client.get("/")
    assert response.status_code == 200
    assert len(queries.captured_queries) > 0  # rendered, not replayed
    request = type("R", (), {})()
    for path in ("/console/", "/api/v1/monitors/", "/accounts/login/", "/static/x.css"):
        request.method, request.path, request.COOKIES, request.GET = "GET", path, {}, {}
        assert cache.cache_key(request) is None, path
    request.path, request.method = "/", "POST"
    assert cache.cache_key(request) is None


def test_unknown_query_parameters_share_one_entry(
    client: Client, clock: Clock, api: Any, django_assert_num_queries: Any
) -> None:
    client.get("/history")
    with django_assert_num_queries(0):
        for n in range(5):
            assert client.get(f"/history?utm={n}&x=<script>").status_code == 200
    # A parameter the page reads is a different entry.
    response = client.get("/history?page=abc")
    assert response.status_code == 200


def test_errors_are_not_cached(client: Client, clock: Clock, api: Any) -> None:
    assert client.get("/monitors/nope").status_code == 404
    # ... and leave no render lock behind (the next request would wait on it).
    key = cache.cache_key(_request("/monitors/nope"))
    assert django_cache.get(f"{cache._LOCK_PREFIX}{key}") is None
    pagedata.monitors(["nope"])
    assert client.get("/monitors/nope").status_code == 200


def test_saved_incident_retires_cached_pages_at_once(
    client: Client, clock: Clock, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert "All Systems Operational" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        incident_services.create_incident(
            title="Declared outage", body="x", now=timezone.now(), monitors=[(api, "DOWN")]
        )
    html = client.get("/").content.decode()
    assert "Declared outage" in html and "Major Outage" in html


def test_check_result_shows_after_ttl_plus_grace(
    client: Client, clock: Clock, api: Any, django_assert_num_queries: Any
) -> None:
    assert "All Systems Operational" in client.get("/").content.decode()
    pagedata.history(api, timezone.now(), {0: ["DOWN"]})  # bulk write: no signal
    clock.now += 4.9
    assert "All Systems Operational" in client.get("/").content.decode()
    # Stale: while another request holds the re-render lock, the stale copy is served...
    clock.now += 0.2
    key = f"{cache._LOCK_PREFIX}{cache.cache_key(_request('/'))}"
    django_cache.set(key, 1, timeout=60)
    with django_assert_num_queries(0):
        assert "All Systems Operational" in client.get("/").content.decode()
    # ... for at most the grace; then the page is rendered whatever the lock.
    clock.now += cache.STALE_GRACE
    assert "Major Outage" in client.get("/").content.decode()


def test_stale_entry_is_rerendered_by_the_first_request(
    client: Client, clock: Clock, api: Any
) -> None:
    client.get("/")
    pagedata.history(api, timezone.now(), {0: ["DOWN"]})
    clock.now += 5.5
    assert "Major Outage" in client.get("/").content.decode()
    assert "Major Outage" in client.get("/").content.decode()


def test_ttl_zero_turns_the_cache_off(
    client: Client, settings: Any, api: Any, django_assert_max_num_queries: Any
) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0
    client.get("/")
    with django_assert_max_num_queries(30) as queries:
        response = client.get("/")
    assert len(queries.captured_queries) > 0
    assert response["Cache-Control"] == "no-cache"
    assert "ETag" not in response


def _request(path: str) -> Any:
    request = type("R", (), {})()
    request.method, request.path, request.COOKIES, request.GET = "GET", path, {}, {}
    return request


def test_version_bump_is_safe_without_a_version_yet(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 5
    django_cache.delete(cache.VERSION_KEY)
    cache.bump()
    assert cache.current_version() == 1
    cache.bump()
    assert cache.current_version() == 2


def test_past_incident_edit_also_retires(
    client: Client, clock: Clock, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_services.create_incident(
            title="Blip",
            body="x",
            now=timezone.now() - timedelta(days=2),
            started_at=timezone.now() - timedelta(days=2),
            monitors=[(api, "DOWN")],
        )
    assert "Blip" in client.get("/history").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        incident_services.edit_incident(incident, {"title": "Renamed blip"}, now=timezone.now())
    assert "Renamed blip" in client.get("/history").content.decode()


def test_cold_start_waits_for_the_request_already_rendering(
    client: Client, clock: Clock, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing cached and another request holds the render lock: this one waits
    for that copy instead of rendering the page a second time."""
    import threading

    from django.http import HttpResponse

    key = cache.cache_key(_request("/"))
    assert key is not None
    assert cache._lock(key)  # "another request" is rendering
    got: dict[str, Any] = {}
    started_waiting = threading.Event()
    original_wait = cache._wait

    def wait(*args: Any) -> Any:
        started_waiting.set()
        return original_wait(*args)

    monkeypatch.setattr(cache, "_wait", wait)
    waiting = threading.Thread(target=lambda: got.setdefault("response", Client().get("/")))
    waiting.start()
    assert started_waiting.wait(timeout=10)
    body = b"<p>rendered by the other request</p>" * 40
    cache._store(key, HttpResponse(body), cache.current_version())
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    assert got["response"].status_code == 200
    assert got["response"].content == body


@pytest.mark.django_db(transaction=True)
def test_cold_start_renders_when_the_renderer_went_away(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock disappears without a copy (the renderer failed): a waiting
    request takes the lock and renders the page itself."""
    import threading

    (monitor,) = pagedata.monitors(["api"])
    key = cache.cache_key(_request("/"))
    assert key is not None and cache._lock(key)
    got: dict[str, Any] = {}
    started_waiting = threading.Event()
    original_wait = cache._wait

    def wait(*args: Any) -> Any:
        started_waiting.set()
        return original_wait(*args)

    monkeypatch.setattr(cache, "_wait", wait)
    waiting = threading.Thread(target=lambda: got.setdefault("response", Client().get("/")))
    waiting.start()
    assert started_waiting.wait(timeout=10)
    django_cache.delete(f"{cache._LOCK_PREFIX}{key}")  # the renderer died
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    response = got["response"]
    assert response.status_code == 200
    assert f'data-monitor="{monitor.tag}"' in response.content.decode()
    assert django_cache.get(key) is not None  # and it stored its copy
