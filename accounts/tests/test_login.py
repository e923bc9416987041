"""Sign-in with throttling, and sign-out by POST."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import FailedLogin, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def user() -> User:
    return User.objects.create_user(username="alice", password=PASSWORD, role="viewer")


def sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def test_sign_in_page_renders() -> None:
    response = Client().get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign in to Beacon" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="username"' in body and 'type="password"' in body


def test_sign_in_lands_on_monitors(user: User) -> None:
    client = Client()
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("monitors:list")
    assert client.get(reverse("monitors:list")).status_code == 200


def test_sign_in_follows_a_safe_next_only(user: User) -> None:
    client = Client()
    ok = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": PASSWORD, "next": "/console/users/"},
    )
    assert ok["Location"] == "/console/users/"
    evil = Client().post(
        reverse("accounts:login"),
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert evil["Location"] == reverse("monitors:list")


def test_wrong_password_is_refused_and_recorded(user: User) -> None:
    response = sign_in(Client(), "alice", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert FailedLogin.objects.filter(username="alice").count() == 1


def test_sixth_attempt_is_throttled_even_with_the_right_password(user: User) -> None:
    client = Client()
    for _ in range(5):
        assert sign_in(client, "alice", "wrong").status_code == 200
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins; try again in 15 minutes." in body
    assert "_auth_user_id" not in client.session
    # the username is locked from other addresses too
    other = sign_in(Client(), "ALICE", PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 429


@override_settings(BEACON_LOGIN_MAX_FAILURES=2, BEACON_LOGIN_WINDOW_SECONDS=60)
def test_throttle_message_counts_minutes(user: User) -> None:
    client = Client()
    sign_in(client, "alice", "wrong")
    sign_in(client, "alice", "wrong")
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "try again in 1 minute." in response.content.decode()


def test_an_address_is_throttled_across_usernames(user: User) -> None:
    client = Client()
    for n in range(20):
        sign_in(client, f"guess{n}", "wrong", REMOTE_ADDR="192.0.2.7")
    assert sign_in(client, "alice", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 429
    assert sign_in(Client(), "alice", PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302


def test_success_clears_failures(user: User) -> None:
    client = Client()
    for _ in range(3):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert not FailedLogin.objects.filter(username="alice").exists()


def test_inactive_user_cannot_sign_in(user: User) -> None:
    user.is_active = False
    user.save()
    assert sign_in(Client(), "alice", PASSWORD).status_code == 200


def test_hostile_username_is_escaped() -> None:
    response = sign_in(Client(), "<script>alert(1)</script>", "x")
    body = response.content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;" in body


def test_sign_out_needs_post(user: User) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("monitors:list")).status_code == 302


def test_console_pages_show_a_sign_out_form(user: User) -> None:
    client = Client()
    client.force_login(user)
    body = client.get(reverse("monitors:list")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in body
    assert "Sign out" in body
