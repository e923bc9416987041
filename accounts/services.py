"""Services of the accounts app: the only code that changes users.

Each function takes an explicit ``now`` (and the ``actor`` doing it, when a
person does it), runs in a transaction and writes an ``AccountEvent`` row with
the change it makes. Input is expected to be validated already (by the
console's forms); the rules that are about *who* changes *whom* live here.
Passwords, plain or hashed, never reach an event row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import AccountEvent, User
from .roles import ADMIN, RANK, VIEWER
from .throttle import clear_failures, record_failure

# What update_user may change. Anything else in ``data`` is ignored.
EDITABLE_FIELDS = ("email", "role", "is_active")
FIELD_NAMES = {"email": "e-mail", "role": "role", "is_active": "active"}
MESSAGE_LIMIT = 500


def _actor(actor: Any) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _event(
    user: User | None,
    type_: str,
    now: datetime,
    actor: Any = None,
    *,
    username: str | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    ip: str | None = None,
) -> AccountEvent:
    return AccountEvent.objects.create(
        user=user,
        username=(username if username is not None else user.get_username() if user else "")[:150],
        type=type_,
        changes=changes or {},
        message=message[:MESSAGE_LIMIT],
        ip=ip or None,
        actor=_actor(actor),
        at=now,
    )


def _shown(field: str, value: Any) -> str:
    if field == "is_active":
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "(none)"


def describe_changes(changes: dict[str, list[Any]]) -> str:
    """``{"role": ["viewer", "operator"]}`` -> ``"role: viewer → operator"``."""
    return "; ".join(
        f"{FIELD_NAMES.get(field, field)}: {_shown(field, old)} → {_shown(field, new)}"
        for field, (old, new) in changes.items()
    )


def self_change_errors(user: User, changes: dict[str, list[Any]], actor: Any) -> dict[str, str]:
    """Pure rule: an admin cannot demote or deactivate themself (someone must be
    left to administer). Returns field -> message for the changes that break it."""
    if not user.pk or user.pk != getattr(actor, "pk", None):
        return {}
    errors: dict[str, str] = {}
    if "role" in changes and changes["role"][1] != ADMIN and not user.is_superuser:
        errors["role"] = "You cannot remove your own admin role."
    if "is_active" in changes and not changes["is_active"][1]:
        errors["is_active"] = "You cannot deactivate your own account."
    return errors


def create_user(
    *,
    username: str,
    password: str,
    email: str = "",
    role: str = VIEWER,
    is_active: bool = True,
    now: datetime,
    actor: Any = None,
) -> User:
    """Create a user with a (validated) password; writes a ``created`` event."""
    if role not in RANK:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    with transaction.atomic():
        user = User(
            username=User.normalize_username(username),
            email=User.objects.normalize_email(email or ""),
            role=role,
            is_active=is_active,
            date_joined=now,
        )
        user.set_password(password)
        user.save()
        _event(
            user,
            AccountEvent.Type.CREATED,
            now,
            actor,
            changes={"email": user.email, "role": user.role, "is_active": user.is_active},
            message=f"role {user.role}" + ("" if user.is_active else ", inactive"),
        )
    return user


def update_user(user: User, data: dict[str, Any], *, now: datetime, actor: Any = None) -> User:
    """Change e-mail, role and/or active flag; writes an ``updated`` event with
    the before/after of each changed field (nothing when nothing changed).

    Raises ``ValidationError`` (keyed by field) when an admin would demote or
    deactivate themself, or for an unknown role.
    """
    if "role" in data and data["role"] not in RANK:
        raise ValidationError({"role": f"Unknown role {data['role']!r}."})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changes: dict[str, list[Any]] = {}
        for field in EDITABLE_FIELDS:
            if field not in data:
                continue
            new = data[field]
            if field == "email":
                new = User.objects.normalize_email(new or "")
            old = getattr(locked, field)
            if new != old:
                changes[field] = [old, new]
        errors = self_change_errors(locked, changes, actor)
        if errors:
            raise ValidationError(errors)
        if changes:
            for field, (_old, new) in changes.items():
                setattr(locked, field, new)
            locked.save(update_fields=list(changes))
            _event(
                locked,
                AccountEvent.Type.UPDATED,
                now,
                actor,
                changes=changes,
                message=describe_changes(changes),
            )
    return locked


def set_password(user: User, password: str, *, now: datetime, actor: Any = None) -> User:
    """Set a new (validated) password; writes a ``password_set`` event without it."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        own = getattr(actor, "pk", None) == locked.pk
        _event(
            locked,
            AccountEvent.Type.PASSWORD_SET,
            now,
            actor,
            message="changed own password" if own else "password reset",
        )
    return locked


def ensure_admin(username: str, password: str, *, now: datetime) -> tuple[User, bool]:
    """Create ``username`` or promote it to an active superuser with role admin,
    and set its password (used by ``manage.py ensureadmin``). Returns the user
    and whether it was created; writes a ``created`` or ``updated`` event and a
    ``password_set`` event, never the password."""
    from .roles import ADMIN

    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        created = user is None
        if user is None:
            user = User(username=User.normalize_username(username), date_joined=now)
        before = {"role": user.role, "is_active": user.is_active, "is_superuser": user.is_superuser}
        user.is_active = user.is_staff = user.is_superuser = True
        user.role = ADMIN
        user.set_password(password)
        user.save()
        after = {"role": user.role, "is_active": True, "is_superuser": True}
        changes = {k: [before[k], after[k]] for k in after if created or before[k] != after[k]}
        _event(
            user,
            AccountEvent.Type.CREATED if created else AccountEvent.Type.UPDATED,
            now,
            changes=changes,
            message="admin ensured at start-up",
        )
        _event(user, AccountEvent.Type.PASSWORD_SET, now, message="password set at start-up")
    return user, created


def record_sign_in(user: User, *, now: datetime, ip: str | None = None) -> AccountEvent:
    """A successful sign-in: forget the user's failures and write a ``signed_in`` event."""
    with transaction.atomic():
        clear_failures(user.get_username(), ip)
        return _event(user, AccountEvent.Type.SIGNED_IN, now, user, ip=ip)


def record_sign_in_failure(
    username: str, *, now: datetime, ip: str | None = None
) -> AccountEvent | None:
    """A failed sign-in: count it for throttling and, when ``username`` names a
    real user, write a ``sign_in_failed`` event on them. Guesses at names that
    do not exist are only counted, so they cannot fill the event log."""
    username = username[:150]
    with transaction.atomic():
        record_failure(username, ip, now)
        user = User.objects.filter(username=username).first()
        if user is None:
            return None
        return _event(user, AccountEvent.Type.SIGN_IN_FAILED, now, ip=ip)
