"""Web and worker processes freeze their start-up objects (statuspage.heap)."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def test_freezing_moves_startup_objects_out_of_full_collections(unfrozen: None) -> None:
    from statuspage.heap import freeze_startup_objects

    assert gc.get_freeze_count() == 0
    frozen = freeze_startup_objects()
    # Django, the apps and every view module: far more than a few objects.
    assert frozen == gc.get_freeze_count() > 10_000
    # A full collection no longer walks them.
    tracked = len(gc.get_objects())
    assert tracked < frozen


def test_the_wsgi_module_freezes_after_loading_the_application(unfrozen: None) -> None:
    sys.modules.pop("statuspage.wsgi", None)
    wsgi = importlib.import_module("statuspage.wsgi")
    assert callable(wsgi.application)
    assert gc.get_freeze_count() > 10_000


def test_the_worker_freezes_when_ready(unfrozen: None) -> None:
    from celery.signals import worker_ready

    import statuspage.celery  # noqa: F401 - connects the handler

    worker_ready.send(sender=None)
    assert gc.get_freeze_count() > 10_000
