"""Users with a role, the record of failed sign-ins used for throttling, and the
account event log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import ROLE_CHOICES, VIEWER


class User(AbstractUser):
    """A console / API user. ``role`` decides what they may do (see roles.py)."""

    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default=VIEWER)


class FailedLogin(models.Model):
    """One failed sign-in. Kept in the database so throttling holds across
    every web process, not just the one that saw the attempt."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.username} from {self.ip} @ {self.at}"


class AccountEvent(models.Model):
    """The audit log of accounts: users created or changed, passwords set, sign-ins.

    Written by ``accounts.services`` in the same transaction as the change it
    records. The username is copied so the log still reads after a user is
    deleted. Passwords (plain or hashed) are never stored here.
    """

    class Type(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        PASSWORD_SET = "password_set", "Password set"
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="account_events"
    )
    username = models.CharField(max_length=150)
    type = models.CharField(max_length=20, choices=Type.choices)
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="account_event_user_time")]

    def __str__(self) -> str:
        return f"{self.username} {self.type} @ {self.at}"
