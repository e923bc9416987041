"""The shared contract of every inbound source and the pure helpers in
``integrations.sources.base``: time parsing, labels, truncation, fingerprints,
the registry, and property tests (hypothesis) that no JSON at all, random or
a vendor sample with random parts swapped, makes any parser raise anything but
``PayloadError`` or return an alert outside the bounds."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.sources import REGISTRY, get
from integrations.sources.base import (
    DEPLOYMENT_RESULTS,
    MAX_DESCRIPTION,
    MAX_ENVIRONMENT,
    MAX_FINGERPRINT,
    MAX_LABEL_KEY,
    MAX_LABEL_VALUE,
    MAX_LABELS,
    MAX_LINK,
    MAX_SERVICE,
    MAX_TITLE,
    SEVERITIES,
    STATUSES,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    bounded_id,
    clean_text,
    digest,
    flatten_labels,
    make_alert,
    map_severity,
    one_line,
    parse_tags,
    parse_time,
    safe_url,
    truncate,
)

from .payloads import NOW, load

ENDPOINTS = {
    "grafana": "/api/grafana/alerts",
    "alertmanager": "/api/alertmanager/alerts",
    "datadog": "/api/datadog/webhook",
    "netdata": "/api/netdata/alerts",
    "pagerduty": "/api/pagerduty/webhook",
    "splunk": "/api/splunk/alerts",
    "jenkins": "/api/jenkins/deployment",
    "cloudbees": "/api/cloudbees/deployment",
    "dynatrace": "/api/dynatrace/problems",
    "bigpanda": "/api/bigpanda/webhook",
    "generic": "/api/generic/alerts",
}
SAMPLES = {
    "grafana": "grafana_firing",
    "alertmanager": "alertmanager_group",
    "datadog": "datadog_custom_warn",
    "netdata": "netdata_critical",
    "pagerduty": "pagerduty_triggered",
    "splunk": "splunk_alert",
    "jenkins": "jenkins_failed",
    "cloudbees": "cloudbees_outbound",
    "dynatrace": "dynatrace_open",
    "bigpanda": "bigpanda_active",
    "generic": "generic_batch",
}


def assert_valid(result: ParseResult) -> None:
    """Every invariant the storage layer relies on."""
    assert isinstance(result, ParseResult)
    assert 0 < len(result.delivery_id) <= 200
    if result.is_test:
        assert result.alerts == [] and result.deployments == []
    fingerprints = [alert.fingerprint for alert in result.alerts]
    assert len(fingerprints) == len(set(fingerprints))
    for alert in result.alerts:
        assert isinstance(alert, NormalizedAlert)
        assert alert.severity in SEVERITIES and alert.status in STATUSES
        assert 0 < len(alert.fingerprint) <= MAX_FINGERPRINT
        assert 0 < len(alert.title) <= MAX_TITLE
        assert len(alert.description) <= MAX_DESCRIPTION
        assert len(alert.service) <= MAX_SERVICE
        assert len(alert.environment) <= MAX_ENVIRONMENT
        assert alert.link == "" or alert.link.lower().startswith(("http://", "https://"))
        assert len(alert.link) <= MAX_LINK
        assert len(alert.labels) <= MAX_LABELS
        for key, value in alert.labels.items():
            assert isinstance(key, str) and isinstance(value, str)
            assert len(key) <= MAX_LABEL_KEY and len(value) <= MAX_LABEL_VALUE
        for moment in (alert.started_at, alert.ended_at):
            assert moment is None or moment.utcoffset() == timedelta(0)
        if alert.status == "firing":
            assert alert.ended_at is None
        assert isinstance(alert.raw, dict)
        text = json.dumps(alert.raw, ensure_ascii=False) + alert.title + alert.description
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: storable in PostgreSQL
    for deployment in result.deployments:
        assert deployment.result in DEPLOYMENT_RESULTS
        assert 0 < len(deployment.external_id) <= 200


# ------------------------------------------------------------------ registry


def test_every_source_is_registered_with_its_endpoint() -> None:
    assert {name: cls.endpoint for name, cls in REGISTRY.items()} == ENDPOINTS
    for name in ENDPOINTS:
        source = get(name)
        assert source.name == name
        assert source.label


def test_only_splunk_and_datadog_need_a_quiet_period() -> None:
    quiet = sorted(name for name, cls in REGISTRY.items() if not cls.sends_resolve)
    assert quiet == ["datadog", "splunk"]


def test_only_grafana_and_pagerduty_sign() -> None:
    assert sorted(name for name, cls in REGISTRY.items() if cls.signs) == ["grafana", "pagerduty"]


def test_unknown_source_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get("nagios")


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_unsigned_sources_always_verify(name: str) -> None:
    source = get(name)
    verified = source.verify_signature(b"{}", {}, "secret", NOW)
    assert verified is (not source.signs)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_sample_parses_within_bounds(name: str) -> None:
    result = get(name).parse(load(SAMPLES[name]), headers={}, now=NOW)
    assert_valid(result)
    assert result.alerts or result.deployments


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
@pytest.mark.parametrize("body", [[], "alerts", 42, None, True, 1.5])
def test_non_object_bodies_are_refused(name: str, body: Any) -> None:
    with pytest.raises(PayloadError) as caught:
        get(name).parse(body, headers={}, now=NOW)
    assert "body" in str(caught.value).lower()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_naive_now_is_a_programming_error(name: str) -> None:
    with pytest.raises(ValueError, match="aware"):
        get(name).parse(load(SAMPLES[name]), headers={}, now=datetime(2025, 1, 1))


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_same_body_twice_has_the_same_delivery_id(name: str) -> None:
    source = get(name)
    first = source.parse(load(SAMPLES[name]), headers={}, now=NOW)
    again = source.parse(load(SAMPLES[name]), headers={}, now=NOW + timedelta(hours=1))
    assert first.delivery_id == again.delivery_id


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_deeply_nested_bodies_are_refused_not_crashed(name: str) -> None:
    nested: Any = "x"
    for _ in range(200):
        nested = {"a": [nested]}
    payload = load(SAMPLES[name])
    payload["extra"] = nested
    with pytest.raises(PayloadError, match="nested"):
        get(name).parse(payload, headers={}, now=NOW)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_nul_and_lone_surrogates_never_reach_storage(name: str) -> None:
    payload = load(SAMPLES[name])
    # Grouped payloads keep each alert's own part as raw: poison that part.
    target = payload["alerts"][0] if name in ("grafana", "alertmanager", "generic") else payload
    target["junk\x00key"] = "bad\x00value \ud800 end"
    result = get(name).parse(payload, headers={}, now=NOW)
    assert_valid(result)
    first = [*result.alerts, *result.deployments][0]
    dumped = json.dumps(first.raw, ensure_ascii=False)
    assert "junk\ufffdkey" in dumped and "bad\ufffdvalue \ufffd end" in dumped
    assert "\x00" not in dumped


# ----------------------------------------------------------- property tests

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    container = value
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = new
    return value


@st.composite
def mutated_samples(draw: st.DrawFn, name: str) -> Any:
    """A vendor sample with one to three of its parts swapped for random JSON
    (and sometimes a field with a vendor-meaningful key added)."""
    payload = copy.deepcopy(load(SAMPLES[name]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        payload = _replace(payload, path, draw(json_values))
    if isinstance(payload, dict) and draw(st.booleans()):
        keys = sorted(
            {str(p[-1]) for p in _paths(load(SAMPLES[name])) if p and isinstance(p[-1], str)}
        )
        payload[draw(st.sampled_from(keys))] = draw(json_values)
    return payload


def _parse_or_payload_error(name: str, payload: Any) -> None:
    try:
        result = get(name).parse(payload, headers={}, now=NOW)
    except PayloadError as error:
        assert str(error)
        assert isinstance(error.as_dict(), dict)
        return
    assert_valid(result)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=json_values)
def test_any_json_parses_or_raises_payload_error(name: str, payload: Any) -> None:
    _parse_or_payload_error(name, payload)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_vendor_samples_parse_or_raise_payload_error(
    name: str, data: st.DataObject
) -> None:
    _parse_or_payload_error(name, data.draw(mutated_samples(name)))


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_parse_time_returns_utc_or_none_or_payload_error(value: Any) -> None:
    try:
        moment = parse_time(value, "t")
    except PayloadError:
        return
    assert moment is None or moment.utcoffset() == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_flatten_labels_is_flat_and_bounded(value: Any) -> None:
    try:
        labels = flatten_labels(value, "labels")
    except PayloadError as error:
        assert error.field == "labels"
        return
    assert len(labels) <= MAX_LABELS
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=500), limit=st.integers(min_value=1, max_value=400))
def test_truncate_never_exceeds_the_limit(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("\u2026") and text.startswith(cut[:-1])


# ------------------------------------------------------------------- time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-10-12T09:51:03.157076+02:00", datetime(2021, 10, 12, 7, 51, 3, 157076, UTC)),
        ("2023-02-06T13:08:45.828Z", datetime(2023, 2, 6, 13, 8, 45, 828000, UTC)),
        ("2024-06-01T08:00:00.123456789Z", datetime(2024, 6, 1, 8, 0, 0, 123456, UTC)),
        ("2023-05-01T02:00:05.7+00:00", datetime(2023, 5, 1, 2, 0, 5, 700000, UTC)),
        ("2023-05-01 02:00:05", datetime(2023, 5, 1, 2, 0, 5, tzinfo=UTC)),
        ("2023-05-01T02:00:05-0530", datetime(2023, 5, 1, 7, 30, 5, tzinfo=UTC)),
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700003600.000", datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
        (0, None),
        (-1, None),
        ("$DATE", None),
        ("{ProblemStartTime}", None),
    ],
)
def test_parse_time_accepts_vendor_formats(value: Any, expected: datetime | None) -> None:
    assert parse_time(value, "t") == expected


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z", "2024-01-01T00:00:00+25:00"],
)
def test_parse_time_refuses_garbage_naming_the_field(value: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_time(value, "alerts[0].startsAt")
    assert caught.value.field == "alerts[0].startsAt"
    assert parse_time(value, "t", lenient=True) is None


@pytest.mark.parametrize("value", [True, [1], {"a": 1}, 10**30, float("inf")])
def test_parse_time_refuses_wrong_types_even_when_lenient(value: Any) -> None:
    with pytest.raises(PayloadError):
        parse_time(value, "t", lenient=True)


def test_parse_time_always_returns_utc() -> None:
    moment = parse_time("2024-01-01T10:00:00+09:00", "t")
    assert moment is not None and moment.tzinfo == UTC and moment.hour == 1
    assert moment == datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=9)))


# ----------------------------------------------------------------- helpers


def test_flatten_labels_bounds_keys_values_and_count() -> None:
    raw = {f"k{i}": "v" * 5000 for i in range(150)}
    raw["nested"] = {"a": [1, 2]}
    labels = flatten_labels(raw, "labels")
    assert len(labels) == MAX_LABELS
    assert all(len(v) <= MAX_LABEL_VALUE for v in labels.values())
    long_key = flatten_labels({"x" * 500: True, "n": None, "f": 1.0}, "labels")
    assert list(long_key.values()) == ["true", "", "1"]
    assert len(next(iter(long_key))) == MAX_LABEL_KEY


def test_flatten_labels_names_the_field_on_wrong_type() -> None:
    with pytest.raises(PayloadError) as caught:
        flatten_labels(["a"], "alerts[3].labels")
    assert str(caught.value) == "alerts[3].labels must be an object, not a list"
    assert caught.value.as_dict() == {
        "alerts[3].labels": ["alerts[3].labels must be an object, not a list"]
    }


def test_parse_tags_reads_key_value_pairs_in_all_vendor_shapes() -> None:
    assert parse_tags("env:prod, service:api,team", "tags") == {
        "env": "prod",
        "service": "api",
        "team": "",
    }
    assert parse_tags(["env:prod", "[Kubernetes]app:web", "url:https://x/y"], "tags") == {
        "env": "prod",
        "app": "web",
        "url": "https://x/y",
    }
    assert parse_tags(
        [{"name": "host", "value": "db-1"}, {"tag_id": "svc", "tag_value": "a"}], "t"
    ) == {
        "host": "db-1",
        "svc": "a",
    }
    with pytest.raises(PayloadError):
        parse_tags(12, "tags")


def test_titles_are_one_line_and_truncated_with_an_ellipsis() -> None:
    title = one_line("  Disk\nfull\t on\r\n db-1 " + "x" * 1000, MAX_TITLE)
    assert title.startswith("Disk full on db-1 x")
    assert len(title) == MAX_TITLE and title.endswith("\u2026")


def test_long_vendor_ids_are_hashed_to_fit() -> None:
    short = bounded_id("c6eadffa33fcdf37")
    long = bounded_id("x" * 500)
    assert short == "c6eadffa33fcdf37"
    assert long.startswith("sha256:") and len(long) == len("sha256:") + 64
    assert long == bounded_id("x" * 500) != bounded_id("x" * 501)


def test_digest_is_canonical() -> None:
    assert digest({"a": 1, "b": [1, "é"]}) == digest({"b": [1, "é"], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def test_clean_text_replaces_what_postgres_cannot_store() -> None:
    assert clean_text("a\x00b\ud83dc") == "a\ufffdb\ufffdc"
    assert clean_text("\U0001f600 ok") == "\U0001f600 ok"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://grafana.example.com/d/x?a=1&b=2", True),
        ("HTTP://EXAMPLE.COM/", True),
        ("javascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("//evil.example.com/", False),
        ("https://example.com/" + "a" * 3000, False),
        ("https://exa mple.com/", False),
        ("", False),
    ],
)
def test_links_are_http_only(url: str, kept: bool) -> None:
    assert safe_url(url) == (url if kept else "")


def test_severity_tables() -> None:
    assert map_severity("prometheus", " CRITICAL ") == "critical"
    assert map_severity("prometheus", "page") == "critical"
    assert map_severity("prometheus", "warn") == "warning"
    assert map_severity("prometheus", "none") == "info"
    assert map_severity("prometheus", "bogus", "warning") == "warning"
    assert map_severity("dynatrace", "RESOURCE_CONTENTION") == "warning"
    assert map_severity("splunk", "5") == "critical"


def test_make_alert_applies_every_bound() -> None:
    alert = make_alert(
        source="generic",
        fingerprint="f" * 300,
        title="",
        description="d" * 20_000,
        severity="catastrophic",
        status="firing",
        service="s" * 500,
        environment="e" * 500,
        started_at=NOW,
        ended_at=NOW,
        link="javascript:alert(1)",
        labels={f"k{i}": "v" for i in range(300)},
        raw={"a": float("nan")},
    )
    assert alert.title == "(no title)"
    assert alert.severity == "warning"
    assert len(alert.fingerprint) <= MAX_FINGERPRINT
    assert len(alert.description) == MAX_DESCRIPTION
    assert len(alert.service) == MAX_SERVICE and len(alert.environment) == MAX_ENVIRONMENT
    assert alert.ended_at is None  # a firing alert has no end
    assert alert.link == ""
    assert len(alert.labels) == MAX_LABELS
    assert alert.raw == {"a": None}


def test_normalized_alert_refuses_invalid_values() -> None:
    good = make_alert(
        source="x", fingerprint="f", title="t", status="firing", severity="info", raw={}
    )
    fields = {name: getattr(good, name) for name in good.__dataclass_fields__}
    with pytest.raises(ValueError, match="severity"):
        NormalizedAlert(**{**fields, "severity": "sev1"})
    with pytest.raises(ValueError, match="status"):
        NormalizedAlert(**{**fields, "status": "acknowledged"})
    with pytest.raises(ValueError, match="UTC"):
        NormalizedAlert(
            **{**fields, "started_at": datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))}
        )
