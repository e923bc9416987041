"""The public pages' response cache.

Contract:

- A view opts in with ``@cache_public``: its successful anonymous GET
  responses are stored, whole (status, headers, body and a gzip copy), in
  Django's cache (Redis when ``REDIS_URL`` is set, per-process memory
  otherwise) for ``BEACON_PUBLIC_CACHE_SECONDS`` (0 turns caching off).
- ``PublicCacheMiddleware`` (first in ``MIDDLEWARE``) answers a cached path
  before any other middleware, session or URL work runs: one cache read per
  request. It never answers a request carrying a session cookie (a signed-in
  user) or any method but GET/HEAD, and never stores a response that sets a
  cookie.
- Freshness: an entry is fresh for the TTL. After that, one request per
  process re-renders it (a short lock) while the others keep getting the
  stale copy for at most ``STALE_GRACE`` more seconds, so a burst of traffic
  at expiry does not render the page fifty times, and a change is visible
  within TTL + grace + one render. On a cold start (nothing cached) the
  requests arriving while one renders wait for its copy (polling the cache,
  at most ``LOCK_SECONDS``) instead of rendering it too.
- Changes made through ``save()`` (incidents, updates, maintenance, site
  settings, pages) also bump a version key (``bump``), which retires every
  entry at once; check results are written in bulk and rely on the TTL.
- Responses carry ``Cache-Control: public, max-age=<TTL>``, an ``ETag`` (MD5
  of the body) and ``Vary: Accept-Encoding``; ``If-None-Match`` gets a 304.
- The key is the path plus only the query parameters the public views read
  (``CACHE_PARAMS``), so junk parameters cannot fill the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

#: Query parameters that change what a public page shows.
CACHE_PARAMS = ("page", "range")
#: Seconds a stale entry may still be served while one request re-renders it.
STALE_GRACE = 2
#: Seconds an entry is kept after it went stale (the grace, with margin).
KEEP_SECONDS = 30
#: Longest a render may hold its lock (a slow render under load; a dead one).
LOCK_SECONDS = 10
#: Seconds between looks for a copy another request is rendering.
WAIT_STEP = 0.01
#: Longest path cached (anything longer is rendered every time).
MAX_PATH = 300
#: Responses smaller than this are not gzipped.
MIN_GZIP = 512

VERSION_KEY = "public:version"
_PREFIX = "public:page:"
_LOCK_PREFIX = "public:lock:"
_PLAIN = ":plain"
_FLAG = "_beacon_public_cache"
# Paths the middleware never looks up (console, API, sign-in, static files...).
_SKIP = ("/console/", "/api/", "/accounts/", "/static/", "/push/", "/healthz", "/admin/")


def ttl() -> int:
    return settings.BEACON_PUBLIC_CACHE_SECONDS


def cache_public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view's responses as cacheable public pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        seconds = ttl()
        if response.status_code == 200 and not response.has_header("Cache-Control"):
            if seconds:
                response["Cache-Control"] = f"public, max-age={seconds}"
            else:
                response["Cache-Control"] = "no-cache"
        setattr(response, _FLAG, True)
        return response

    return wrapped


def cache_key(request: HttpRequest) -> str | None:
    """The entry key of ``request``, or None when it must not use the cache."""
    if request.method not in ("GET", "HEAD"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    path = request.path
    if len(path) > MAX_PATH or path.startswith(_SKIP):
        return None
    params = [(k, request.GET.get(k, "")[:20]) for k in CACHE_PARAMS if k in request.GET]
    query = urlencode(params)
    digest = hashlib.md5(f"{path}?{query}".encode(), usedforsecurity=False).hexdigest()
    return _PREFIX + digest


def current_version() -> int:
    return cache.get(VERSION_KEY) or 0


def bump() -> None:
    """Retire every cached public page (called after public data changed)."""
    if not ttl():
        return
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 1, timeout=None)


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")


def _replay(request: HttpRequest, entry: dict[str, Any], key: str) -> HttpResponse | None:
    """A response from a stored entry (304 when the client has it already);
    None when the plain body it needs has gone from the cache meanwhile."""
    etag = entry["etag"]
    seconds = ttl()
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response: HttpResponse = HttpResponseNotModified()
        response["ETag"] = etag
        response["Cache-Control"] = f"public, max-age={seconds}"
        return response
    use_gzip = entry["gzip"] is not None and _accepts_gzip(request)
    if use_gzip:
        body = entry["gzip"]
    else:
        # The plain body lives under its own key: gzip clients (browsers) never
        # fetch it, which matters when the cache is Redis.
        body = cache.get(key + _PLAIN)
        if body is None or entry.get("length") != len(body):
            return None
    response = HttpResponse(b"" if request.method == "HEAD" else body, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(body))
    response["Age"] = str(max(0, int(time.time() - entry["at"])))
    return response


def _store(key: str, response: HttpResponse, version: int) -> dict[str, Any] | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    body = response.content
    etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
    response["ETag"] = etag
    vary = response.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    skip = {"content-length", "content-encoding", "set-cookie", "age"}
    entry = {
        "status": response.status_code,
        "headers": [(k, v) for k, v in response.items() if k.lower() not in skip],
        "gzip": gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= MIN_GZIP else None,
        "length": len(body),
        "etag": etag,
        "at": time.time(),
        "version": version,
    }
    timeout = ttl() + KEEP_SECONDS
    cache.set_many({key: entry, key + _PLAIN: body}, timeout=timeout)
    return entry


class PublicCacheMiddleware:
    """Serve cached public pages before anything else runs; store new ones."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = ttl()
        key = cache_key(request) if seconds else None
        if key is None:
            return self.get_response(request)
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY) or 0
        entry = found.get(key)
        locked = False
        if entry is not None:
            age = time.time() - entry["at"]
            fresh = entry["version"] == version and age < seconds
            if not fresh and age < seconds + STALE_GRACE:
                locked = _lock(key)
            # Expired or retired: one request re-renders, the others get this
            # copy meanwhile, for at most STALE_GRACE past its expiry.
            if fresh or (age < seconds + STALE_GRACE and not locked):
                replayed = _replay(request, entry, key)
                if replayed is not None:
                    return replayed
        else:
            locked = _lock(key)
            if not locked:
                # Nothing cached and another request is rendering it (a cold
                # start under load): wait for its copy rather than render it too.
                replayed, locked = _wait(request, key)
                if replayed is not None:
                    return replayed
        try:
            response = self.get_response(request)
            stored = None
            if getattr(response, _FLAG, False):
                stored = _store(key, response, version)
        finally:
            if locked:
                cache.delete(_LOCK_PREFIX + key)
        if stored is not None and request.method == "GET":
            if stored["etag"] in request.META.get("HTTP_IF_NONE_MATCH", ""):
                return _replay(request, stored, key) or response
            if stored["gzip"] is not None and _accepts_gzip(request):
                return _replay(request, stored, key) or response
        return response


def _lock(key: str) -> bool:
    """Take the right to render ``key`` (False: another request has it)."""
    return cache.add(_LOCK_PREFIX + key, 1, timeout=LOCK_SECONDS)


def _wait(request: HttpRequest, key: str) -> tuple[HttpResponse | None, bool]:
    """The copy another request is rendering, once it is stored; or (None,
    True) when the lock went away without a copy (the renderer failed or
    died) and this request took it; or (None, False) after ``LOCK_SECONDS``.
    In both last cases this request renders the page itself."""
    deadline = time.monotonic() + LOCK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP)
        entry = cache.get(key)
        if entry is not None:
            replayed = _replay(request, entry, key)
            if replayed is not None:
                return replayed, False
        if _lock(key):
            return None, True
    return None, False
