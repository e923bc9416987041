"""Sign-in throttling, written by hand on one small table.

django-axes is the usual library, but it brings its own authentication
backend, middleware and lock-out model for what is here a few lines: count
recent failures per username and per client address in the database (so all
web processes agree) and refuse further attempts until the window passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from .models import FailedLogin


def is_locked(username: str, ip: str | None, now: datetime) -> bool:
    """True when ``username`` or ``ip`` reached the failure limit inside the window."""
    since = now - timedelta(seconds=settings.BEACON_LOGIN_WINDOW_SECONDS)
    limit = settings.BEACON_LOGIN_MAX_FAILURES
    recent = FailedLogin.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An address gets more room than a name: several people may share a NAT.
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 4


def record_failure(username: str, ip: str | None, now: datetime) -> None:
    """Remember one failed attempt, and forget ones far outside the window."""
    FailedLogin.objects.create(username=username.lower()[:150], ip=ip or None, at=now)
    horizon = now - timedelta(seconds=settings.BEACON_LOGIN_WINDOW_SECONDS * 4)
    FailedLogin.objects.filter(at__lt=horizon).delete()


def clear_failures(username: str, ip: str | None) -> None:
    """Forget the failures of a user who has just signed in."""
    FailedLogin.objects.filter(Q(username=username.lower())).delete()
