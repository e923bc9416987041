"""The http kind against a real local HTTP(S) server, and its config validation."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from rest_framework.exceptions import ValidationError

from monitors.checks import CheckTarget, RunContext, get_check, validate_config
from monitors.checks.http import parse_json_path, resolve_json_path
from monitors.models import Status
from monitors.tests.servers import (
    Reply,
    Request,
    closed_port,
    echo,
    issue_cert,
    new_ca,
    run_check,
    serve_http,
    trust_ca,
)

JSON_BODY = json.dumps(
    {"data": {"items": [{"status": "ok", "count": 3, "live": True}], "none": None}}
)

ROUTES = {
    "/ok": Reply(200, "all good"),
    "/503": Reply(503, "unavailable"),
    "/404": Reply(404, "missing"),
    "/slow": Reply(200, "late", delay=10),
    "/sluggish": Reply(200, "a bit late", delay=0.15),
    "/text": Reply(200, "hello <b>world</b> status=healthy"),
    "/json": Reply(200, JSON_BODY, {"Content-Type": "application/json"}),
    "/bad-json": Reply(200, "{not json", {"Content-Type": "application/json"}),
    "/redirect": Reply(302, "", {"Location": "/ok"}),
    "/loop": Reply(302, "", {"Location": "/loop"}),
    "/echo": echo,
    "/big": Reply(200, b"a" * (2 * 1024 * 1024) + b"needle"),
}


@pytest.fixture(scope="module")
def base_url() -> str:
    with serve_http(ROUTES) as url:
        yield url


def http(config: dict, timeout: float = 5):
    return run_check("http", config, timeout=timeout)


# --- runs -----------------------------------------------------------------------------


def test_ok_is_up_with_latency_and_status_text(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/ok"})
    assert outcome.status == Status.UP
    assert outcome.message == "200 OK"
    assert isinstance(outcome.latency_ms, float)
    assert 0 < outcome.latency_ms < 5000


def test_unexpected_status_is_down(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/503"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "expected status 200-399, got 503 Service Unavailable"


def test_expected_status_list_and_ranges(base_url: str) -> None:
    assert http({"url": f"{base_url}/404", "expected_status": [404]}).status == Status.UP
    assert http({"url": f"{base_url}/503", "expected_status": ["500-599"]}).status == Status.UP
    outcome = http({"url": f"{base_url}/ok", "expected_status": ["201", "300-302"]})
    assert outcome.status == Status.DOWN
    assert "expected status 201, 300-302, got 200" in outcome.message


def test_timeout_is_down(base_url: str) -> None:
    started = time.perf_counter()
    outcome = http({"url": f"{base_url}/slow"}, timeout=0.5)
    assert outcome.status == Status.DOWN
    assert outcome.message == "timeout after 0.5s"
    assert time.perf_counter() - started < 3


def test_slow_response_is_degraded(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/sluggish", "degraded_above_ms": 50})
    assert outcome.status == Status.DEGRADED
    assert outcome.latency_ms >= 100
    assert outcome.message.startswith("200 OK (slow:")
    assert http({"url": f"{base_url}/ok", "degraded_above_ms": 4000}).status == Status.UP


def test_connection_refused_is_down() -> None:
    outcome = http({"url": f"http://127.0.0.1:{closed_port()}/"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "connection refused"


def test_keyword_present_and_missing(base_url: str) -> None:
    assert http({"url": f"{base_url}/text", "keyword": "status=healthy"}).status == Status.UP
    outcome = http({"url": f"{base_url}/text", "keyword": "foo"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "keyword 'foo' not found"
    # case-sensitive
    assert http({"url": f"{base_url}/text", "keyword": "HELLO"}).status == Status.DOWN


def test_forbidden_keyword(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/text", "forbidden_keyword": "<b>world</b>"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "forbidden keyword '<b>world</b>' found"
    assert http({"url": f"{base_url}/text", "forbidden_keyword": "error"}).status == Status.UP


def test_body_read_is_capped_at_one_megabyte(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/big", "keyword": "needle"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "keyword 'needle' not found (in the first 1 MB)"
    assert http({"url": f"{base_url}/big", "keyword": "aaaa"}).status == Status.UP


@pytest.mark.parametrize(
    ("path", "expected", "status"),
    [
        ("data.items[0].status", "ok", Status.UP),
        ("data.items[0].count", "3", Status.UP),
        ("data.items[0].live", "true", Status.UP),
        ("data.none", "null", Status.UP),
        ("data.items[0].status", "fail", Status.DOWN),
    ],
)
def test_json_path(base_url: str, path: str, expected: str, status: str) -> None:
    outcome = http({"url": f"{base_url}/json", "json_path": path, "json_expected": expected})
    assert outcome.status == status
    if status == Status.DOWN:
        assert outcome.message == "JSON path data.items[0].status is 'ok', expected 'fail'"


def test_json_path_missing_and_invalid_json(base_url: str) -> None:
    outcome = http({"url": f"{base_url}/json", "json_path": "data.items[5]", "json_expected": "x"})
    assert (outcome.status, outcome.message) == (Status.DOWN, "JSON path data.items[5] not found")
    outcome = http({"url": f"{base_url}/bad-json", "json_path": "a", "json_expected": "x"})
    assert (outcome.status, outcome.message) == (Status.DOWN, "response is not valid JSON")


def test_redirects_followed_or_not(base_url: str) -> None:
    assert http({"url": f"{base_url}/redirect"}).message == "200 OK"
    outcome = http({"url": f"{base_url}/redirect", "follow_redirects": False})
    assert (outcome.status, outcome.message) == (Status.UP, "302 Found")
    outcome = http(
        {"url": f"{base_url}/redirect", "follow_redirects": False, "expected_status": [200]}
    )
    assert outcome.status == Status.DOWN
    outcome = http({"url": f"{base_url}/loop"})
    assert (outcome.status, outcome.message) == (Status.DOWN, "too many redirects")


def test_method_headers_body_and_user_agent_are_sent(base_url: str) -> None:
    record: list[Request] = []
    with serve_http({"/echo": echo}, record=record) as url:
        outcome = http(
            {
                "url": f"{url}/echo",
                "method": "post",
                "headers": {"X-Check": "yes"},
                "body": '{"ping": 1}',
                "json_path": "body",
                "json_expected": '{"ping": 1}',
            }
        )
        assert outcome.status == Status.UP, outcome.message
        assert http({"url": f"{url}/echo", "method": "HEAD"}).status == Status.UP
    assert record[0].method == "POST"
    assert record[0].headers["x-check"] == "yes"
    assert record[0].headers["user-agent"] == settings.BEACON_USER_AGENT
    assert record[1].method == "HEAD"


def test_environment_variables_are_substituted_at_run_time(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECK_TEST_TOKEN", "s3cret-value")
    monkeypatch.setenv("CHECK_TEST_PATH", "echo")
    config = {
        "url": f"{base_url}/$CHECK_TEST_PATH?token=${{CHECK_TEST_TOKEN}}&cost=$$5",
        "headers": {"Authorization": "Bearer $CHECK_TEST_TOKEN"},
        "body": "token=${CHECK_TEST_TOKEN}",
        "json_path": "headers.authorization",
        "json_expected": "Bearer s3cret-value",
    }
    # Not substituted when validated: the database keeps the placeholders.
    stored = validate_config("http", config)
    assert stored["headers"]["Authorization"] == "Bearer $CHECK_TEST_TOKEN"
    assert stored["url"].endswith("/$CHECK_TEST_PATH?token=${CHECK_TEST_TOKEN}&cost=$$5")
    assert http(config).status == Status.UP
    for path, expected in [("body", "token=s3cret-value"), ("query", "token=s3cret-value&cost=$5")]:
        outcome = http({**config, "json_path": path, "json_expected": expected})
        assert outcome.status == Status.UP, outcome.message
    # A failure message never shows the secret itself.
    outcome = http({**config, "json_path": "query", "json_expected": "nope"})
    assert outcome.status == Status.DOWN
    assert "s3cret-value" not in outcome.message
    assert "$CHECK_TEST_TOKEN" in outcome.message


def test_missing_environment_variable_is_down(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHECK_TEST_MISSING", raising=False)
    outcome = http({"url": f"{base_url}/ok", "headers": {"X-Key": "${CHECK_TEST_MISSING}"}})
    assert outcome.status == Status.DOWN
    assert outcome.message == "environment variable CHECK_TEST_MISSING is not set"


def test_invalid_url_after_substitution_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECK_TEST_PORT", "not-a-port")
    outcome = http({"url": "http://127.0.0.1:${CHECK_TEST_PORT}/"})
    assert outcome.status == Status.DOWN
    assert outcome.message == "invalid URL: Invalid port: '$CHECK_TEST_PORT'"


def test_https_verified_untrusted_and_unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    ca = new_ca()
    with serve_http({"/ok": Reply(200, "secure")}, tls=issue_cert(ca)) as url:
        assert url.startswith("https://")
        # The system store does not know the test CA.
        outcome = http({"url": f"{url}/ok"})
        assert outcome.status == Status.DOWN
        assert outcome.message.startswith("TLS certificate verification failed")
        assert http({"url": f"{url}/ok", "verify_tls": False}).status == Status.UP
        trust_ca(monkeypatch, ca)
        outcome = http({"url": f"{url}/ok", "keyword": "secure"})
        assert (outcome.status, outcome.message) == (Status.UP, "200 OK")


def test_clients_are_pooled_per_batch_and_closed(base_url: str) -> None:
    check = get_check("http")

    def target(monitor_id: int, **extra: object) -> CheckTarget:
        return CheckTarget(
            monitor_id=monitor_id,
            tag=f"m{monitor_id}",
            name="m",
            kind="http",
            config=validate_config("http", {"url": f"{base_url}/ok", **extra}),
            timeout_seconds=5,
            interval_seconds=60,
        )

    async def main() -> tuple[list, int, list]:
        ctx = RunContext(now=datetime.now(UTC))
        targets = [target(1), target(2), target(3, verify_tls=False), target(4)]
        outcomes = await asyncio.gather(*(check.run(t, ctx) for t in targets))
        clients = list(ctx.http.values())
        count = len(ctx.http)
        await ctx.aclose()
        return outcomes, count, clients

    outcomes, count, clients = asyncio.run(main())
    assert [o.status for o in outcomes] == [Status.UP] * 4
    assert count == 2
    assert all(client.is_closed for client in clients)


# --- JSON path parser -------------------------------------------------------------------


def test_json_path_parser() -> None:
    assert parse_json_path("data.items[0].status") == ["data", "items", 0, "status"]
    assert parse_json_path("[1][2].x") == [1, 2, "x"]
    assert resolve_json_path({"a": [{"b": 1}]}, ["a", 0, "b"]) == 1
    for bad in ["a..b", "a.", ".a", "a[x]", "a[0", "a]", ""]:
        with pytest.raises(ValueError):
            parse_json_path(bad)


# --- validation -------------------------------------------------------------------------


def errors(config: object) -> dict:
    with pytest.raises(ValidationError) as info:
        validate_config("http", config)
    return info.value.detail


def test_defaults_are_filled_in() -> None:
    assert validate_config("http", {"url": "https://example.com/health"}) == {
        "url": "https://example.com/health",
        "method": "GET",
        "headers": {},
        "body": "",
        "expected_status": ["200-399"],
        "keyword": None,
        "forbidden_keyword": None,
        "json_path": None,
        "json_expected": None,
        "follow_redirects": True,
        "verify_tls": True,
        "degraded_above_ms": None,
    }


def test_expected_status_is_normalised() -> None:
    config = validate_config(
        "http", {"url": "http://x.test", "expected_status": [204, "301", " 200 - 299 "]}
    )
    assert config["expected_status"] == ["204", "301", "200-299"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "url"),
        ({"url": None}, "url"),
        ({"url": 42}, "url"),
        ({"url": "ftp://example.com"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://exa mple.com"}, "url"),
        ({"url": "http://x.test/" + "a" * 1_000_000}, "url"),
        ({"url": "http://x.test", "method": "TRACE"}, "method"),
        ({"url": "http://x.test", "method": ["GET"]}, "method"),
        ({"url": "http://x.test", "method": "HEAD", "keyword": "ok"}, "method"),
        ({"url": "http://x.test", "headers": ["X-A: b"]}, "headers"),
        ({"url": "http://x.test", "headers": {"X-A": 1}}, "headers"),
        ({"url": "http://x.test", "headers": {"Bad Name": "x"}}, "headers"),
        ({"url": "http://x.test", "headers": {"X-A": "a\r\nX-Injected: 1"}}, "headers"),
        ({"url": "http://x.test", "headers": {f"X-{i}": "v" for i in range(10_000)}}, "headers"),
        ({"url": "http://x.test", "body": "x" * 1_000_000}, "body"),
        ({"url": "http://x.test", "body": {"a": 1}}, "body"),
        ({"url": "http://x.test", "expected_status": []}, "expected_status"),
        ({"url": "http://x.test", "expected_status": 200}, "expected_status"),
        ({"url": "http://x.test", "expected_status": [True]}, "expected_status"),
        ({"url": "http://x.test", "expected_status": [99]}, "expected_status"),
        ({"url": "http://x.test", "expected_status": [600]}, "expected_status"),
        ({"url": "http://x.test", "expected_status": ["299-200"]}, "expected_status"),
        ({"url": "http://x.test", "expected_status": ["2xx"]}, "expected_status"),
        ({"url": "http://x.test", "expected_status": [200] * 10_000}, "expected_status"),
        ({"url": "http://x.test", "keyword": "k" * 1_000_000}, "keyword"),
        ({"url": "http://x.test", "keyword": 5}, "keyword"),
        ({"url": "http://x.test", "json_path": "a..b", "json_expected": "1"}, "json_path"),
        ({"url": "http://x.test", "json_path": "a.b"}, "json_expected"),
        ({"url": "http://x.test", "json_expected": "1"}, "json_path"),
        ({"url": "http://x.test", "json_path": "a", "json_expected": 1}, "json_expected"),
        ({"url": "http://x.test", "follow_redirects": "false"}, "follow_redirects"),
        ({"url": "http://x.test", "verify_tls": 0}, "verify_tls"),
        ({"url": "http://x.test", "degraded_above_ms": 0}, "degraded_above_ms"),
        ({"url": "http://x.test", "degraded_above_ms": -5}, "degraded_above_ms"),
        ({"url": "http://x.test", "degraded_above_ms": 10**400}, "degraded_above_ms"),
        ({"url": "http://x.test", "degraded_above_ms": "100"}, "degraded_above_ms"),
        ({"url": "http://x.test", "degraded_above_ms": 1.5}, "degraded_above_ms"),
        ({"url": "http://x.test", "degraded_above_ms": True}, "degraded_above_ms"),
        ({"url": "http://x.test", "timeout": 5}, "timeout"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    assert field in errors(config)


def test_unknown_keys_are_named_and_bounded() -> None:
    detail = errors({"url": "http://x.test", "verify": False, "<script>": 1})
    assert "Unknown field 'verify'" in str(detail["verify"][0])
    assert "<script>" in detail
    detail = errors({"url": "http://x.test", **{f"k{i}": i for i in range(10_000)}})
    assert len(detail) == 11
    assert "10000 unknown fields" in str(detail["non_field_errors"][0])
    detail = errors({"url": "http://x.test", "k" * 1_000_000: 1})
    assert all(len(key) <= 60 for key in detail)


def test_config_must_be_an_object() -> None:
    for config in ([], "url", None, 5):
        with pytest.raises(ValidationError):
            validate_config("http", config)


def test_unicode_and_html_are_kept_verbatim() -> None:
    config = validate_config(
        "http",
        {
            "url": "https://bücher.example/straße?q=<script>",
            "keyword": "<script>alert('x')</script> ✓",
            "headers": {"X-Note": "héllo ☃"},
        },
    )
    assert config["keyword"] == "<script>alert('x')</script> ✓"
    assert config["headers"]["X-Note"] == "héllo ☃"


def test_only_prefixed_environment_variables_are_available(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD_FOR_TEST", "do-not-leak")
    outcome = http({"url": f"{base_url}/ok", "headers": {"X-Key": "$DATABASE_PASSWORD_FOR_TEST"}})
    assert outcome.status == Status.DOWN
    assert outcome.message == (
        "environment variable DATABASE_PASSWORD_FOR_TEST is not available to checks "
        "(only CHECK_* variables are)"
    )
