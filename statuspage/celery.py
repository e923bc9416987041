"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker (no REDIS_URL): see statuspage/fsbroker.py.
TRANSPORT_ALIASES.setdefault("beaconfs", "statuspage.fsbroker:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

app = Celery("beacon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Any = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each request: close the
    thread's database connection only when it is older than ``CONN_MAX_AGE``
    or unusable. Celery's own Django fixup would close it after every task
    (a new PostgreSQL backend per task, a few ms each) unless
    ``CELERY_DB_REUSE_MAX`` is set, which settings does; this keeps the
    health checks and the age limit that setting alone would skip."""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inline by the caller (tests): its connection is not ours
    close_old_connections()


@worker_ready.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """Short full garbage collections in the worker (``statuspage.heap``)."""
    from statuspage.heap import freeze_startup_objects

    freeze_startup_objects()
