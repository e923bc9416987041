"""The one place outgoing HTTP clients are built (checks, webhooks, ...).

Every client sends ``settings.BEACON_USER_AGENT``, has bounded connection
pools and an explicit timeout, follows at most ``MAX_REDIRECTS`` redirects
when asked to, and takes either a ready ``ssl.SSLContext`` (preferred: pass a
process-wide one, e.g. ``monitors.checks.base.ssl_context``, since building
one loads the CA store, ~20 ms) or a bool, in which case a context cached in
this module is used. Proxy environment variables (``HTTPS_PROXY``,
``NO_PROXY``...) are honoured as httpx does by default.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx
from django.conf import settings

MAX_REDIRECTS = 10
LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30)


@cache
def _context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _verify(verify: bool | ssl.SSLContext) -> ssl.SSLContext:
    return verify if isinstance(verify, ssl.SSLContext) else _context(bool(verify))


def _headers() -> dict[str, str]:
    return {"User-Agent": settings.BEACON_USER_AGENT}


def async_client(
    *, verify: bool | ssl.SSLContext, follow_redirects: bool, timeout: float
) -> httpx.AsyncClient:
    """A pooled async client; the caller closes it (``await client.aclose()``)."""
    return httpx.AsyncClient(
        verify=_verify(verify),
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        limits=LIMITS,
        headers=_headers(),
    )


def sync_client(
    *, verify: bool | ssl.SSLContext, follow_redirects: bool, timeout: float
) -> httpx.Client:
    """A pooled blocking client; use it as a context manager."""
    return httpx.Client(
        verify=_verify(verify),
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        limits=LIMITS,
        headers=_headers(),
    )
