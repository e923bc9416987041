"""Users with a role, and the record of failed sign-ins used for throttling."""

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
