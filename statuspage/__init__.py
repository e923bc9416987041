"""The Beacon Django project: settings, URLs, the Celery app and (later) the public pages."""

from .celery import app as celery_app

__all__ = ["celery_app"]
