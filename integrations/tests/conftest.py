"""Fixtures of the integrations tests.

``eager_tasks`` (autouse): Celery runs tasks queued with ``.delay()`` at once
in the calling thread (its documented eager mode), so the after-commit
``process_alerts`` really runs in these tests without putting messages on the
checkout's broker. End-to-end tests that start a real worker opt out by
requesting the ``real_broker`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from statuspage.celery import app


@pytest.fixture(autouse=True)
def eager_tasks(request: pytest.FixtureRequest) -> Iterator[None]:
    if "real_broker" in request.fixturenames:
        yield
        return
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def real_broker() -> None:
    """Requested by end-to-end tests: tasks go through the broker to a real worker."""
