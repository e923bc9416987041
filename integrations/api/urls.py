"""URLs (filled in by the feature that owns them)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
