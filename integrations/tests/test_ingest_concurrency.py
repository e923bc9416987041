"""Concurrent deliveries (real threads, real transactions, each with its own
database connection): identical deliveries store one delivery and one
alert; different deliveries of one new fingerprint store one alert with
every receipt counted; overlapping groups in opposite orders never deadlock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from alerting.models import Alert, AlertEvent, AlertOccurrence
from integrations.models import InboundDelivery

from .helpers import am_alert, am_group, make_integration, post

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def in_parallel(work: Callable[[int], Any], n: int = THREADS) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; re-raise any error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    return results


def test_identical_concurrent_deliveries_store_one_alert() -> None:
    integration = make_integration()
    body = am_group(am_alert("same"))

    def deliver(_: int) -> dict[str, Any]:
        response = post(Client(), "alertmanager", body, token=integration.token)
        assert response.status_code == 202, response.content
        return response.json()

    answers = in_parallel(deliver)
    assert sorted(a["replay"] for a in answers) == [False] + [True] * (THREADS - 1)
    alert = Alert.objects.get()
    assert {tuple(a["alerts"]) for a in answers} == {(alert.pk,)}
    assert alert.occurrence_count == 1
    assert InboundDelivery.objects.count() == 1
    assert AlertOccurrence.objects.count() == 1
    assert AlertEvent.objects.count() == 1


def test_concurrent_different_deliveries_of_one_new_alert_count_every_receipt() -> None:
    integration = make_integration()

    def deliver(i: int) -> int:
        # Different bodies (so not replays) naming the same new fingerprint.
        body = am_group(am_alert("shared", summary=f"copy {i}"))
        response = post(Client(), "alertmanager", body, token=integration.token)
        assert response.status_code == 202, response.content
        assert response.json()["replay"] is False
        return response.json()["alerts"][0]

    ids = in_parallel(deliver)
    alert = Alert.objects.get()
    assert set(ids) == {alert.pk}
    assert alert.occurrence_count == THREADS
    assert AlertOccurrence.objects.count() == THREADS
    assert InboundDelivery.objects.count() == THREADS
    assert AlertEvent.objects.filter(status="TRIGGERED").count() == 1  # one trigger only


def test_overlapping_groups_in_any_order_store_each_alert_once() -> None:
    integration = make_integration()
    fingerprints = [f"fp{i:02d}" for i in range(30)]
    # Half exist already, half are new: locks and inserts in every thread.
    post(
        Client(),
        "alertmanager",
        am_group(*[am_alert(fp) for fp in fingerprints[::2]]),
        token=integration.token,
    )

    def deliver(i: int) -> None:
        chosen = random.Random(i).sample(fingerprints, 20)
        body = am_group(*[am_alert(fp, summary=f"t{i}") for fp in chosen])
        response = post(Client(), "alertmanager", body, token=integration.token)
        assert response.status_code == 202, response.content

    in_parallel(deliver)
    counts = dict(Alert.objects.values_list("fingerprint", "occurrence_count"))
    assert len(counts) == len(
        {fp for i in range(THREADS) for fp in random.Random(i).sample(fingerprints, 20)}
        | set(fingerprints[::2])
    )
    expected = {fp: 0 for fp in counts}
    for fp in fingerprints[::2]:
        expected[fp] += 1
    for i in range(THREADS):
        for fp in random.Random(i).sample(fingerprints, 20):
            expected[fp] += 1
    assert counts == expected
    assert AlertOccurrence.objects.count() == sum(expected.values())
    assert AlertEvent.objects.count() == len(counts)
