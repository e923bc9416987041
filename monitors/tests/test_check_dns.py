"""The dns kind against a real local UDP DNS server, and its config validation."""

from __future__ import annotations

import time

import pytest
from rest_framework.exceptions import ValidationError

from monitors.checks import validate_config
from monitors.checks.dns import normalise_value
from monitors.models import Status
from monitors.tests.servers import run_check, serve_dns

RECORDS = {
    "example.test": {
        "A": ["192.0.2.1", "192.0.2.2"],
        "AAAA": ["2001:db8::1"],
        "MX": ["10 mail.example.test.", "20 backup.example.test."],
        "NS": ["ns1.example.test.", "NS2.Example.Test."],
        "TXT": ['"v=spf1 -all"', '"part one" "part two"'],
    },
    "www.example.test": {"CNAME": ["example.test."]},
    "empty.example.test": {"TXT": ['"only txt"']},
}


@pytest.fixture(scope="module")
def nameserver() -> tuple[str, int]:
    with serve_dns(RECORDS, silent=["silent.example.test"]) as address:
        yield address


def dns_check(nameserver: tuple[str, int], timeout: float = 3, **config: object):
    host, port = nameserver
    return run_check("dns", {"nameserver": host, "port": port, **config}, timeout=timeout)


@pytest.mark.parametrize(
    ("record_type", "message"),
    [
        ("A", "A example.test: 192.0.2.1, 192.0.2.2"),
        ("AAAA", "AAAA example.test: 2001:db8::1"),
        ("MX", "MX example.test: 10 mail.example.test, 20 backup.example.test"),
        ("NS", "NS example.test: ns1.example.test, ns2.example.test"),
        ("TXT", "TXT example.test: part onepart two, v=spf1 -all"),
    ],
)
def test_each_record_type_resolves(nameserver, record_type: str, message: str) -> None:
    outcome = dns_check(nameserver, name="example.test", record_type=record_type)
    assert outcome.status == Status.UP
    assert outcome.message == message
    assert isinstance(outcome.latency_ms, float)


def test_cname(nameserver) -> None:
    outcome = dns_check(
        nameserver, name="www.example.test", record_type="CNAME", expected=["Example.Test."]
    )
    assert (outcome.status, outcome.message) == (Status.UP, "CNAME www.example.test: example.test")
    # An A query for the alias follows it to the target's addresses.
    outcome = dns_check(nameserver, name="www.example.test", expected=["192.0.2.2"])
    assert outcome.status == Status.UP


@pytest.mark.parametrize(
    ("record_type", "expected", "match", "status"),
    [
        ("A", ["192.0.2.1"], "any", Status.UP),
        ("A", ["192.0.2.1", "192.0.2.9"], "any", Status.UP),
        ("A", ["192.0.2.1", "192.0.2.9"], "all", Status.DOWN),
        ("A", ["192.0.2.1", "192.0.2.2"], "all", Status.UP),
        ("A", ["192.0.2.9"], "any", Status.DOWN),
        ("AAAA", ["2001:0db8:0000::0001"], "any", Status.UP),
        ("MX", ["mail.example.test"], "all", Status.UP),
        ("MX", ["10 MAIL.example.test."], "all", Status.UP),
        ("MX", ["30 mail.example.test"], "any", Status.DOWN),
        ("NS", ["ns2.example.test"], "any", Status.UP),
        ("TXT", ['"v=spf1 -all"'], "any", Status.UP),
        ("TXT", ["v=spf1 -all", "part onepart two"], "all", Status.UP),
        ("TXT", ["V=SPF1 -ALL"], "any", Status.DOWN),
    ],
)
def test_expected_values(nameserver, record_type, expected, match, status) -> None:
    outcome = dns_check(
        nameserver, name="example.test", record_type=record_type, expected=expected, match=match
    )
    assert outcome.status == status, outcome.message
    if status == Status.DOWN:
        assert f"expected {match} of" in outcome.message


def test_nxdomain_is_down(nameserver) -> None:
    outcome = dns_check(nameserver, name="nope.example.test")
    assert outcome.status == Status.DOWN
    assert outcome.message == "NXDOMAIN: nope.example.test does not exist"


def test_no_answer_is_down(nameserver) -> None:
    outcome = dns_check(nameserver, name="empty.example.test", record_type="A")
    assert outcome.status == Status.DOWN
    assert outcome.message == "no A record for empty.example.test"


def test_timeout_is_down(nameserver) -> None:
    started = time.perf_counter()
    outcome = dns_check(nameserver, name="silent.example.test", timeout=0.5)
    assert outcome.status == Status.DOWN
    assert outcome.message == "timeout after 0.5s resolving A silent.example.test"
    assert time.perf_counter() - started < 3


def test_value_normalisation() -> None:
    assert normalise_value("A", " 192.0.2.1 ") == "192.0.2.1"
    assert normalise_value("AAAA", "2001:DB8::0:1") == "2001:db8::1"
    assert normalise_value("CNAME", "Target.Example.") == "target.example"
    assert normalise_value("MX", "05  Mail.Example.") == "5 mail.example"
    assert normalise_value("MX", "Mail.Example.") == "mail.example"
    assert normalise_value("TXT", '"a b" "c"') == "a bc"
    assert normalise_value("TXT", "Case Kept") == "Case Kept"


def test_defaults_and_normalised_config() -> None:
    assert validate_config(
        "dns",
        {"name": "Example.COM.", "record_type": "aaaa", "expected": ["::1", "0::1"]},
    ) == {
        "name": "example.com",
        "record_type": "AAAA",
        "nameserver": None,
        "port": 53,
        "expected": ["::1"],
        "match": "any",
    }
    config = validate_config("dns", {"name": "_dmarc.bücher.example", "nameserver": "::1"})
    assert config["name"] == "_dmarc.xn--bcher-kva.example"
    assert config["nameserver"] == "::1"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "a b.example"}, "name"),
        ({"name": "x" * 1_000_000}, "name"),
        ({"name": "a" * 64 + ".example"}, "name"),
        ({"name": "<script>alert(1)</script>.example"}, "name"),
        ({"name": "x.test", "record_type": "SOA"}, "record_type"),
        ({"name": "x.test", "record_type": 1}, "record_type"),
        ({"name": "x.test", "nameserver": "dns.google"}, "nameserver"),
        ({"name": "x.test", "nameserver": 8}, "nameserver"),
        ({"name": "x.test", "port": "53"}, "port"),
        ({"name": "x.test", "port": 0}, "port"),
        ({"name": "x.test", "port": 70000}, "port"),
        ({"name": "x.test", "expected": "192.0.2.1"}, "expected"),
        ({"name": "x.test", "expected": ["not-an-ip"]}, "expected"),
        ({"name": "x.test", "record_type": "AAAA", "expected": ["192.0.2.1"]}, "expected"),
        ({"name": "x.test", "record_type": "MX", "expected": ["a b c"]}, "expected"),
        ({"name": "x.test", "expected": [1]}, "expected"),
        ({"name": "x.test", "expected": ["192.0.2.1"] * 10_000}, "expected"),
        ({"name": "x.test", "record_type": "TXT", "expected": ["t" * 1_000_000]}, "expected"),
        ({"name": "x.test", "match": "some"}, "match"),
        ({"name": "x.test", "match": True}, "match"),
        ({"name": "x.test", "resolver": "1.1.1.1"}, "resolver"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("dns", config)
    assert field in info.value.detail
