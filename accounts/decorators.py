"""View decorators enforcing roles on the server side.

``role_required(role)``: anonymous users are sent to the sign-in page, signed-in
users without ``role`` (or a higher one) get the console's 403 page. Every
console view is wrapped, so hiding a button is never the only protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .roles import has_role

View = Callable[..., HttpResponse]


def role_required(role: str) -> Callable[[View], View]:
    """Require a signed-in, active user holding ``role`` or better."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied("Your role does not allow this page or action.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
