"""The pure roll-up (``public_site.status``): every mix of states, no database."""

from __future__ import annotations

import itertools

import pytest

from public_site import status as s

CHECKS = [None, "UP", "DEGRADED", "DOWN"]
IMPACTS = [None, "DEGRADED", "DOWN", "MAINTENANCE"]


@pytest.mark.parametrize(
    ("check", "maintenance", "impact", "expected"),
    [
        (None, False, None, s.OPERATIONAL),
        ("UP", False, None, s.OPERATIONAL),
        ("DEGRADED", False, None, s.DEGRADED),
        ("DOWN", False, None, s.MAJOR),
        ("UP", False, "DEGRADED", s.DEGRADED),
        ("UP", False, "DOWN", s.MAJOR),
        ("DOWN", False, "DEGRADED", s.MAJOR),
        ("DEGRADED", False, "DOWN", s.MAJOR),
        (None, False, "DOWN", s.MAJOR),
        ("DOWN", True, None, s.MAINTENANCE),
        ("UP", True, "DOWN", s.MAINTENANCE),
        ("DOWN", False, "MAINTENANCE", s.MAINTENANCE),
    ],
)
def test_component_status(check: str | None, maintenance: bool, impact: str | None, expected: str):
    assert s.component_status(check, in_maintenance=maintenance, incident_impact=impact) == expected


@pytest.mark.parametrize(
    ("check", "maintenance", "impact"), list(itertools.product(CHECKS, [False, True], IMPACTS))
)
def test_component_status_every_mix(check: str | None, maintenance: bool, impact: str | None):
    """Maintenance wins; otherwise the worse of check and declared impact."""
    got = s.component_status(check, in_maintenance=maintenance, incident_impact=impact)
    assert got in s.COMPONENT_STATUSES
    if maintenance or impact == "MAINTENANCE":
        assert got == s.MAINTENANCE
    elif "DOWN" in (check, impact):
        assert got == s.MAJOR
    elif "DEGRADED" in (check, impact):
        assert got == s.DEGRADED
    else:
        assert got == s.OPERATIONAL


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], s.OPERATIONAL),
        ([s.OPERATIONAL], s.OPERATIONAL),
        ([s.OPERATIONAL, s.DEGRADED], s.DEGRADED),
        ([s.MAJOR], s.MAJOR),
        ([s.MAJOR, s.MAJOR], s.MAJOR),
        ([s.MAJOR, s.OPERATIONAL], s.PARTIAL),
        ([s.MAJOR, s.MAINTENANCE], s.PARTIAL),
        ([s.MAINTENANCE, s.MAINTENANCE], s.MAINTENANCE),
        ([s.MAINTENANCE, s.OPERATIONAL], s.MAINTENANCE),
        ([s.MAINTENANCE, s.DEGRADED], s.DEGRADED),
        ([s.PARTIAL, s.OPERATIONAL], s.PARTIAL),
    ],
)
def test_group_status(statuses: list[str], expected: str):
    assert s.group_status(statuses) == expected


@pytest.mark.parametrize(
    ("statuses", "indicator", "words", "level"),
    [
        ([], "none", "All Systems Operational", "up"),
        ([s.OPERATIONAL] * 3, "none", "All Systems Operational", "up"),
        ([s.OPERATIONAL, s.DEGRADED], "minor", "Degraded Performance", "degraded"),
        ([s.OPERATIONAL, s.MAJOR], "major", "Partial Outage", "partial"),
        ([s.DEGRADED, s.MAJOR], "major", "Partial Outage", "partial"),
        ([s.MAINTENANCE, s.MAJOR], "major", "Partial Outage", "partial"),
        ([s.PARTIAL], "major", "Partial Outage", "partial"),
        ([s.MAJOR, s.MAJOR], "critical", "Major Outage", "down"),
        ([s.MAJOR], "critical", "Major Outage", "down"),
        ([s.OPERATIONAL, s.MAINTENANCE], "maintenance", "Under Maintenance", "maintenance"),
        ([s.DEGRADED, s.MAINTENANCE], "minor", "Degraded Performance", "degraded"),
        ([s.MAINTENANCE], "maintenance", "Under Maintenance", "maintenance"),
    ],
)
def test_banner(statuses: list[str], indicator: str, words: str, level: str):
    assert s.banner(statuses) == s.Banner(indicator, words, level)


@pytest.mark.parametrize("statuses", list(itertools.product(s.COMPONENT_STATUSES, repeat=3)))
def test_banner_every_mix_of_three(statuses: tuple[str, ...]):
    """The banner is never better than any component and always has words and an icon."""
    got = s.banner(statuses)
    assert got.indicator in s.INDICATORS
    assert got.level in s.LEVEL_ICON and got.description
    if s.MAJOR in statuses or s.PARTIAL in statuses:
        assert got.level in ("down", "partial")
        assert (got.level == "down") == all(x == s.MAJOR for x in statuses)
    elif s.DEGRADED in statuses:
        assert got.level == "degraded"
    elif s.MAINTENANCE in statuses:
        assert got.level == "maintenance"
    else:
        assert got.level == "up"


@pytest.mark.parametrize(
    ("counts", "maintenance", "impact", "expected"),
    [
        ((0, 0, 0), False, None, "nodata"),
        ((0, 0, 0), True, None, "maintenance"),
        ((5, 0, 0), False, None, "up"),
        ((5, 1, 0), False, None, "degraded"),
        ((5, 1, 1), False, None, "down"),
        ((0, 0, 1), False, None, "down"),
        ((5, 0, 0), True, None, "maintenance"),
        # A failure on a maintenance day is shown, not hidden.
        ((5, 0, 1), True, None, "down"),
        ((5, 2, 0), True, None, "degraded"),
        # Incidents weigh like checks.
        ((5, 0, 0), False, "DOWN", "down"),
        ((5, 0, 0), False, "DEGRADED", "degraded"),
        ((0, 0, 0), False, "DOWN", "down"),
        ((5, 0, 0), False, "MAINTENANCE", "maintenance"),
        ((0, 0, 0), False, "MAINTENANCE", "maintenance"),
        ((0, 0, 3), False, "DEGRADED", "down"),
    ],
)
def test_day_level(
    counts: tuple[int, int, int], maintenance: bool, impact: str | None, expected: str
):
    up, degraded, down = counts
    level = s.day_level(up, degraded, down, maintenance=maintenance, incident_impact=impact)
    assert level == expected
    assert level in s.LEVEL_ICON and level in s.LEVEL_LABEL


def test_uptime_percent():
    assert s.uptime_percent(0, 0, 0) is None
    assert s.uptime_percent(9, 0, 1) == 90.0
    assert s.uptime_percent(0, 4, 0) == 100.0  # degraded answered
    assert s.uptime_percent(0, 0, 4) == 0.0


def test_worst_impact():
    assert s.worst_impact([]) is None
    assert s.worst_impact([None, "MAINTENANCE"]) == "MAINTENANCE"
    assert s.worst_impact(["MAINTENANCE", "DEGRADED"]) == "DEGRADED"
    assert s.worst_impact(["DEGRADED", "DOWN", "MAINTENANCE"]) == "DOWN"
    assert s.worst_impact(["bogus"]) is None


def test_labels_cover_every_status():
    for status in s.COMPONENT_STATUSES:
        assert s.COMPONENT_LABEL[status]
        assert s.COMPONENT_LEVEL[status] in s.LEVEL_ICON


@pytest.mark.parametrize(
    "colour", ["#16a34a", "#d97706", "#dc2626", "#2563eb", "#ffff00", "#777777", "#000000"]
)
def test_readable_on_meets_aa(colour: str):
    assert s.contrast_ratio(colour, s.readable_on(colour)) >= 4.5


def test_readable_on_every_grey_and_hue():
    """No background colour leaves both black and white below AA."""
    for r, g, b in itertools.product(range(0, 256, 51), repeat=3):
        colour = f"#{r:02x}{g:02x}{b:02x}"
        assert s.contrast_ratio(colour, s.readable_on(colour)) >= 4.58 - 1e-9


def test_contrast_ratio_extremes():
    assert s.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert s.contrast_ratio("#123456", "#123456") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("#16a34a", True),
        ("#ABCDEF", True),
        ("16a34a", False),
        ("#16a34", False),
        ("#16a34g", False),
        ("#16a34a0", False),
        ("red", False),
        ("", False),
        ("#١٢٣٤٥٦", False),
    ],
)
def test_is_hex_colour(value: str, ok: bool):
    assert s.is_hex_colour(value) is ok
