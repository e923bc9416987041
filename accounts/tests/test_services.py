"""Account services: each change writes its AccountEvent row in the same
transaction, passwords never reach the log, and an admin cannot demote or
deactivate themself."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AccountEvent, FailedLogin, User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PASSWORD = "Quiet-harbour-lamp-42"


@pytest.fixture
def admin() -> User:
    return User.objects.create_user(username="boss", password=PASSWORD, role="admin")


@pytest.fixture
def viewer() -> User:
    return User.objects.create_user(username="reader", password=PASSWORD, role="viewer")


def assert_no_password(event: AccountEvent, *passwords: str) -> None:
    text = f"{event.changes} {event.message}"
    for password in passwords:
        assert password not in text
    assert "pbkdf2" not in text and "argon2" not in text and "password" not in event.changes


# --- create_user -----------------------------------------------------------------


def test_create_user_sets_everything_and_logs_created(admin: User) -> None:
    user = services.create_user(
        username="newbie",
        password=PASSWORD,
        email="Newbie@EXAMPLE.com",
        role="operator",
        now=NOW,
        actor=admin,
    )
    user.refresh_from_db()
    assert user.role == "operator" and user.is_active
    assert user.email == "Newbie@example.com"  # domain normalised, as Django does
    assert user.check_password(PASSWORD)
    assert user.date_joined == NOW
    event = AccountEvent.objects.get(user=user)
    assert event.type == AccountEvent.Type.CREATED
    assert event.username == "newbie"
    assert event.actor == admin
    assert event.at == NOW
    assert event.changes == {"email": "Newbie@example.com", "role": "operator", "is_active": True}
    assert_no_password(event, PASSWORD, user.password)


def test_create_user_rejects_unknown_role() -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(username="x", password=PASSWORD, role="root", now=NOW)
    assert "role" in exc.value.message_dict
    assert not User.objects.filter(username="x").exists()
    assert not AccountEvent.objects.exists()


def test_create_user_is_atomic_with_its_event() -> None:
    failing = mock.patch.object(AccountEvent.objects, "create", side_effect=DatabaseError("boom"))
    with failing, pytest.raises(DatabaseError):
        services.create_user(username="ghost", password=PASSWORD, now=NOW)
    assert not User.objects.filter(username="ghost").exists()


# --- update_user -----------------------------------------------------------------


def test_update_user_logs_before_and_after(admin: User, viewer: User) -> None:
    updated = services.update_user(
        viewer,
        {"email": "r@example.com", "role": "operator", "is_active": False},
        now=NOW,
        actor=admin,
    )
    assert (updated.email, updated.role, updated.is_active) == ("r@example.com", "operator", False)
    viewer.refresh_from_db()
    assert (viewer.email, viewer.role, viewer.is_active) == ("r@example.com", "operator", False)
    event = AccountEvent.objects.get(user=viewer)
    assert event.type == AccountEvent.Type.UPDATED
    assert event.actor == admin and event.at == NOW
    assert event.changes == {
        "email": ["", "r@example.com"],
        "role": ["viewer", "operator"],
        "is_active": [True, False],
    }
    assert (
        event.message == "e-mail: (none) → r@example.com; role: viewer → operator; active: yes → no"
    )


def test_update_user_without_changes_writes_no_event(admin: User, viewer: User) -> None:
    services.update_user(
        viewer, {"email": "", "role": "viewer", "is_active": True}, now=NOW, actor=admin
    )
    assert not AccountEvent.objects.exists()


def test_update_user_ignores_fields_it_does_not_own(admin: User, viewer: User) -> None:
    services.update_user(
        viewer,
        {"role": "operator", "is_superuser": True, "password": "x", "username": "other"},
        now=NOW,
        actor=admin,
    )
    viewer.refresh_from_db()
    assert viewer.role == "operator"
    assert not viewer.is_superuser and viewer.username == "reader"
    assert viewer.check_password(PASSWORD)
    assert AccountEvent.objects.get().changes == {"role": ["viewer", "operator"]}


def test_update_user_rejects_unknown_role(admin: User, viewer: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_user(viewer, {"role": "root"}, now=NOW, actor=admin)
    assert "role" in exc.value.message_dict
    viewer.refresh_from_db()
    assert viewer.role == "viewer"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "operator"}, "role", "You cannot remove your own admin role."),
        ({"role": "viewer"}, "role", "You cannot remove your own admin role."),
        ({"is_active": False}, "is_active", "You cannot deactivate your own account."),
    ],
)
def test_admin_cannot_demote_or_deactivate_themself(
    admin: User, data: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_user(admin, {"email": "boss@example.com", **data}, now=NOW, actor=admin)
    assert exc.value.message_dict == {field: [message]}
    admin.refresh_from_db()
    # Nothing is saved, not even the harmless part of the change.
    assert (admin.role, admin.is_active, admin.email) == ("admin", True, "")
    assert not AccountEvent.objects.exists()


def test_both_self_errors_are_reported_together(admin: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_user(admin, {"role": "viewer", "is_active": False}, now=NOW, actor=admin)
    assert set(exc.value.message_dict) == {"role", "is_active"}


def test_admin_may_change_own_email_and_demote_others(admin: User) -> None:
    services.update_user(
        admin, {"email": "boss@example.com", "role": "admin"}, now=NOW, actor=admin
    )
    other = User.objects.create_user(username="second", password=PASSWORD, role="admin")
    services.update_user(other, {"role": "viewer", "is_active": False}, now=NOW, actor=admin)
    admin.refresh_from_db()
    other.refresh_from_db()
    assert admin.email == "boss@example.com"
    assert (other.role, other.is_active) == ("viewer", False)


def test_superuser_may_change_own_role_field(admin: User) -> None:
    root = User.objects.create_superuser(username="root", password=PASSWORD, role="admin")
    services.update_user(root, {"role": "viewer"}, now=NOW, actor=root)
    root.refresh_from_db()
    assert root.role == "viewer" and root.is_superuser  # still an admin by superuser status
    with pytest.raises(ValidationError):
        services.update_user(root, {"is_active": False}, now=NOW, actor=root)


def test_self_change_errors_is_pure(admin: User, viewer: User) -> None:
    assert services.self_change_errors(viewer, {"role": ["viewer", "operator"]}, admin) == {}
    assert services.self_change_errors(admin, {}, admin) == {}
    assert services.self_change_errors(admin, {"is_active": [True, False]}, admin) == {
        "is_active": "You cannot deactivate your own account."
    }


# --- set_password ----------------------------------------------------------------


def test_set_password_changes_it_and_logs_without_it(admin: User, viewer: User) -> None:
    new = "Another-quiet-lamp-77"
    services.set_password(viewer, new, now=NOW, actor=admin)
    viewer.refresh_from_db()
    assert viewer.check_password(new) and not viewer.check_password(PASSWORD)
    event = AccountEvent.objects.get(user=viewer)
    assert event.type == AccountEvent.Type.PASSWORD_SET
    assert event.actor == admin and event.at == NOW
    assert event.message == "password reset"
    assert_no_password(event, new, PASSWORD, viewer.password)


def test_set_own_password_says_so(admin: User) -> None:
    services.set_password(admin, "Another-quiet-lamp-77", now=NOW, actor=admin)
    assert AccountEvent.objects.get().message == "changed own password"


# --- sign-in ---------------------------------------------------------------------


def test_record_sign_in_clears_failures_and_logs(viewer: User) -> None:
    services.record_sign_in_failure("reader", now=NOW, ip="192.0.2.1")
    services.record_sign_in(viewer, now=NOW, ip="192.0.2.1")
    assert not FailedLogin.objects.exists()
    types = list(AccountEvent.objects.filter(user=viewer).values_list("type", flat=True))
    assert sorted(types) == ["sign_in_failed", "signed_in"]
    signed_in = AccountEvent.objects.get(type=AccountEvent.Type.SIGNED_IN)
    assert signed_in.actor == viewer and signed_in.ip == "192.0.2.1"


def test_failure_for_unknown_name_is_counted_but_not_logged() -> None:
    assert services.record_sign_in_failure("nobody", now=NOW, ip="192.0.2.1") is None
    assert FailedLogin.objects.filter(username="nobody").count() == 1
    assert not AccountEvent.objects.exists()


# --- through the console and the sign-in page -----------------------------------


def test_console_actions_write_events_shown_on_the_edit_page(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    client.post(
        reverse("users:create"),
        {"username": "newbie", "role": "viewer", "password1": PASSWORD, "password2": PASSWORD},
    )
    user = User.objects.get(username="newbie")
    client.post(reverse("users:edit", args=[user.pk]), {"role": "operator", "is_active": "on"})
    new = "Another-quiet-lamp-77"
    client.post(
        reverse("users:password", args=[user.pk]), {"new_password1": new, "new_password2": new}
    )
    assert list(AccountEvent.objects.filter(user=user).values_list("type", "actor")) == [
        ("password_set", admin.pk),
        ("updated", admin.pk),
        ("created", admin.pk),
    ]
    body = client.get(reverse("users:edit", args=[user.pk])).content.decode()
    assert "Recent activity" in body
    assert "Password set" in body and "role: viewer → operator" in body and "Created" in body
    assert PASSWORD not in body and new not in body


def test_admin_resetting_own_password_stays_signed_in(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    new = "Another-quiet-lamp-77"
    response = client.post(
        reverse("users:password", args=[admin.pk]), {"new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert client.get(reverse("users:list")).status_code == 200


def test_sign_in_page_writes_events(viewer: User) -> None:
    client = Client()
    client.post(reverse("accounts:login"), {"username": "reader", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "reader", "password": PASSWORD})
    events = list(AccountEvent.objects.filter(user=viewer).values_list("type", flat=True))
    assert events == ["signed_in", "sign_in_failed"]  # newest first
    assert not AccountEvent.objects.filter(message__contains="wrong").exists()
