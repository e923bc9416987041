"""Template context: the signed-in user's role flags for showing or hiding actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .roles import ADMIN, OPERATOR, VIEWER, has_role, role_of


def roles(request: HttpRequest) -> dict[str, Any]:
    """``user_role``, ``is_viewer``, ``is_operator``, ``is_admin`` for templates."""
    user = getattr(request, "user", None)
    return {
        "user_role": role_of(user),
        "is_viewer": has_role(user, VIEWER),
        "is_operator": has_role(user, OPERATOR),
        "is_admin": has_role(user, ADMIN),
    }
