"""The three roles and the pure rule deciding what each may do.

Roles are ordered: an admin can do everything an operator can, an operator
everything a viewer can. Superusers count as admins.
"""

from __future__ import annotations

from typing import Any

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"

ROLE_CHOICES = [
    (VIEWER, "Viewer: reads everything"),
    (OPERATOR, "Operator: runs incidents and alerts"),
    (ADMIN, "Admin: configures monitors, rules, triggers, users, settings"),
]
RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}


def role_of(user: Any) -> str | None:
    """The user's effective role, or None for anonymous or inactive users."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    if getattr(user, "is_superuser", False):
        return ADMIN
    return getattr(user, "role", VIEWER)


def has_role(user: Any, needed: str) -> bool:
    """True when ``user`` holds ``needed`` or a higher role."""
    role = role_of(user)
    return role is not None and RANK[role] >= RANK[needed]
