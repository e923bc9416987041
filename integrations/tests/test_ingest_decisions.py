"""The pure decisions of ingestion (no database): dedup transitions, times,
replay keys and token extraction from a request."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from integrations.dedup import (
    MAX_KEY,
    TRANSITIONS,
    Change,
    decide,
    delivery_key,
    presented_token,
    quiet_cutoff,
    resolve_time,
    trigger_time,
)

NOW = datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "incoming", "change"),
    [
        (None, "firing", Change.NEW_TRIGGERED),
        ("TRIGGERED", "firing", Change.REPEAT),
        ("RESOLVED", "firing", Change.REFIRE),
        ("TRIGGERED", "resolved", Change.RESOLVE),
        ("RESOLVED", "resolved", Change.DUPLICATE_RESOLVE),
        (None, "resolved", Change.NEW_RESOLVED),
    ],
)
def test_decide_covers_every_pair(stored: str | None, incoming: str, change: Change) -> None:
    assert decide(stored, incoming) is change


def test_only_status_moves_are_transitions() -> None:
    assert {Change.NEW_TRIGGERED, Change.REFIRE, Change.RESOLVE} == TRANSITIONS


def test_decide_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="unknown alert status"):
        decide("TRIGGERED", "acknowledged")


def test_trigger_time_is_the_vendor_start_but_never_in_the_future() -> None:
    start = NOW - timedelta(minutes=3)
    assert trigger_time(start, NOW) == start
    assert trigger_time(None, NOW) == NOW
    assert trigger_time(NOW + timedelta(hours=1), NOW) == NOW
    # A re-fire never starts before the previous episode ended.
    ended = NOW - timedelta(minutes=1)
    assert trigger_time(NOW - timedelta(hours=1), NOW, ended) == ended
    assert trigger_time(NOW - timedelta(seconds=5), NOW, ended) == NOW - timedelta(seconds=5)


def test_resolve_time_stays_between_trigger_and_now() -> None:
    triggered = NOW - timedelta(minutes=10)
    assert resolve_time(NOW - timedelta(minutes=2), triggered, NOW) == NOW - timedelta(minutes=2)
    assert resolve_time(None, triggered, NOW) == NOW
    assert resolve_time(NOW + timedelta(days=1), triggered, NOW) == NOW
    assert resolve_time(triggered - timedelta(days=1), triggered, NOW) == triggered


def test_a_vendor_delivery_id_is_the_key_however_late() -> None:
    later = NOW + timedelta(days=3)
    assert delivery_key("Q1ZAA2BC7W", NOW, 60) == delivery_key("Q1ZAA2BC7W", later, 60)
    assert delivery_key("Q1ZAA2BC7W", NOW, 60) == "Q1ZAA2BC7W"


def test_a_body_digest_is_a_replay_only_within_its_window() -> None:
    digest = "sha256:" + "ab" * 32
    same_minute = NOW.replace(second=59)
    next_minute = NOW.replace(second=0) + timedelta(minutes=1)
    assert delivery_key(digest, NOW, 60) == delivery_key(digest, same_minute, 60)
    assert delivery_key(digest, NOW, 60) != delivery_key(digest, next_minute, 60)
    # Window 0: the digest alone, a replay forever.
    assert delivery_key(digest, NOW, 0) == delivery_key(digest, NOW + timedelta(days=9), 0)


def test_keys_fit_the_column() -> None:
    assert len(delivery_key("sha256:" + "f" * 64, NOW, 60)) <= MAX_KEY
    long_id = "x" * 500
    key = delivery_key(long_id, NOW, 60)
    assert len(key) <= MAX_KEY and key == delivery_key(long_id, NOW, 60)
    with pytest.raises(ValueError):
        delivery_key("", NOW, 60)


def test_quiet_cutoff() -> None:
    assert quiet_cutoff(NOW, 60) == NOW - timedelta(hours=1)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("tok", None, "tok"),
        ("tok", "Bearer other", "tok"),  # the query wins: it is what the URL says
        (None, "Bearer tok", "tok"),
        (None, "bearer   tok  ", "tok"),
        (None, _basic("grafana", "tok"), "tok"),
        (None, _basic("", "tok"), "tok"),
        (None, _basic("tok", ""), ""),  # the token goes in the password
        (None, "Basic !!!notbase64", ""),
        (None, "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), ""),
        (None, "Basic " + base64.b64encode(b"no-colon").decode(), ""),
        (None, "Token tok", None),
        (None, "", None),
        (None, None, None),
        ("", None, None),
        ("x" * 65, None, ""),
        ("tok\x00", None, ""),
        ("a b", None, ""),
        (None, "Bearer tok\u00e9", ""),
        (None, "Bearer " + "x" * 65, ""),
        (None, "Basic " + "A" * 5000, ""),
    ],
)
def test_presented_token(query: str | None, header: str | None, expected: str | None) -> None:
    assert presented_token(query, header) == expected
