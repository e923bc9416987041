"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker (no REDIS_URL): see statuspage/fsbroker.py.
TRANSPORT_ALIASES.setdefault("beaconfs", "statuspage.fsbroker:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "statuspage.settings")

app = Celery("beacon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
