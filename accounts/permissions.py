"""Role enforcement for the API.

Reads need ``viewer``. Writes need the role a view declares in
``write_role`` (default ``admin``: configuration); a view can name a
different role per action in ``action_roles`` (e.g. ``{"check": "operator"}``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import ADMIN, VIEWER, has_role


def required_role(request: Any, view: Any) -> str:
    """The role a request to ``view`` needs."""
    action = getattr(view, "action", None)
    action_roles: dict[str, str] = getattr(view, "action_roles", {})
    if action in action_roles:
        return action_roles[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_role", VIEWER)
    return getattr(view, "write_role", ADMIN)


class RolePermission(BasePermission):
    """Allow the request when the user holds the role the view requires."""

    message = "Your role does not allow this action."

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, required_role(request, view))
