"""Fixtures of the public-site tests: every test starts with an empty cache
(the public pages are cached in Django's cache, which outlives a test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
