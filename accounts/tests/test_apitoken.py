"""The ``apitoken`` and ``ensureadmin`` management commands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import ADMIN, VIEWER

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- apitoken -------------------------------------------------------------------------


def test_apitoken_creates_then_repeats_a_working_token() -> None:
    user = User.objects.create_user("ana", password=None, role=VIEWER)

    first, _ = run("apitoken", "ana")
    again, _ = run("apitoken", "ana")

    key = first.strip()
    assert key == again.strip()
    assert Token.objects.get(user=user).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/monitors").status_code == 200


def test_apitoken_rotate_replaces_the_token() -> None:
    User.objects.create_user("ana", password=None, role=VIEWER)
    old = run("apitoken", "ana")[0].strip()

    new = run("apitoken", "ana", "--rotate")[0].strip()

    assert new and new != old
    assert Token.objects.count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    assert client.get("/api/v1/monitors").status_code == 401


def test_apitoken_unknown_user_fails() -> None:
    with pytest.raises(CommandError, match="nobody"):
        run("apitoken", "nobody")
    assert not Token.objects.exists()


def test_apitoken_warns_about_inactive_users() -> None:
    User.objects.create_user("gone", password=None, is_active=False)

    out, err = run("apitoken", "gone")

    assert out.strip()
    assert "inactive" in err


# --- ensureadmin ----------------------------------------------------------------------


@pytest.fixture
def no_admin_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("BEACON_ADMIN_USER", raising=False)
    monkeypatch.delenv("BEACON_ADMIN_PASSWORD", raising=False)
    return monkeypatch


def test_ensureadmin_from_environment_creates_a_superuser(no_admin_env) -> None:
    no_admin_env.setenv("BEACON_ADMIN_USER", "boss")
    no_admin_env.setenv("BEACON_ADMIN_PASSWORD", "s3cret-Passphrase")

    out, _ = run("ensureadmin")

    user = User.objects.get(username="boss")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.role == ADMIN
    assert user.check_password("s3cret-Passphrase")
    assert "s3cret" not in out  # the operator chose it; never echo it


def test_ensureadmin_from_environment_updates_an_existing_user(no_admin_env) -> None:
    User.objects.create_user("boss", password="old-password-1", role=VIEWER, is_active=False)
    User.objects.create_user("other", password=None)
    no_admin_env.setenv("BEACON_ADMIN_USER", "boss")
    no_admin_env.setenv("BEACON_ADMIN_PASSWORD", "new-password-2")

    run("ensureadmin")

    user = User.objects.get(username="boss")
    assert user.is_active and user.is_superuser
    assert user.role == ADMIN
    assert user.check_password("new-password-2")
    assert User.objects.count() == 2


def test_ensureadmin_writes_account_events_without_the_password(no_admin_env) -> None:
    from accounts.models import AccountEvent

    User.objects.create_user("boss", password="old-password-1", role=VIEWER)
    no_admin_env.setenv("BEACON_ADMIN_USER", "boss")
    no_admin_env.setenv("BEACON_ADMIN_PASSWORD", "new-password-2")

    run("ensureadmin")

    events = list(AccountEvent.objects.filter(username="boss").order_by("id"))
    assert [e.type for e in events] == ["updated", "password_set"]
    assert events[0].changes["role"] == [VIEWER, ADMIN]
    for event in events:
        assert "new-password-2" not in f"{event.changes} {event.message}"


@pytest.mark.parametrize("only", ["BEACON_ADMIN_USER", "BEACON_ADMIN_PASSWORD"])
def test_ensureadmin_with_half_the_environment_fails(no_admin_env, only: str) -> None:
    no_admin_env.setenv(only, "value")
    missing = {"BEACON_ADMIN_USER", "BEACON_ADMIN_PASSWORD"} - {only}

    with pytest.raises(CommandError, match=missing.pop()):
        run("ensureadmin")
    assert not User.objects.exists()


def test_ensureadmin_on_an_empty_database_generates_a_password_once(no_admin_env) -> None:
    out, _ = run("ensureadmin")

    prefix = "Created admin user 'admin' with password: "
    assert out.startswith(prefix)
    password = out.strip()[len(prefix) :]
    assert len(password) >= 16
    user = User.objects.get(username="admin")
    assert user.is_superuser and user.role == ADMIN
    assert user.check_password(password)

    again, _ = run("ensureadmin")

    assert again == ""
    assert User.objects.count() == 1
    assert User.objects.get().check_password(password)


def test_ensureadmin_does_nothing_when_users_exist(no_admin_env) -> None:
    User.objects.create_user("someone", password=None, role=VIEWER)

    out, _ = run("ensureadmin")

    assert out == ""
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
