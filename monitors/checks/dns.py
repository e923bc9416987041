"""DNS record check.

Config (normalised)::

    {
      "name": "example.com",        # ASCII (IDNA), lowercase, no trailing dot
      "record_type": "A",           # A AAAA CNAME MX NS TXT
      "nameserver": None,           # an IP address; None = the system resolver
      "port": 53,
      "expected": [],               # values, normalised as below (<= 20)
      "match": "any",               # "any" or "all"
    }

Values are compared normalised, both the expected ones (at validation) and
the answers (at run time):

* A / AAAA: the canonical IP address text (``"::0001"`` == ``"::1"``);
* CNAME / NS: lowercase host, no trailing dot;
* MX: ``"10 mail.example.com"`` (preference and host) or just
  ``"mail.example.com"`` (then only the host is compared);
* TXT: the record's strings joined without quotes; case-sensitive, since TXT
  carries verification tokens where case matters.

``match``: ``any`` is UP when at least one expected value is among the
answers, ``all`` when every expected value is (extra answers are fine). With no
expected values, any answer is UP. NXDOMAIN, no answer, SERVFAIL and timeouts
are DOWN. Queries go through ``dns.asyncresolver`` with lifetime = the timeout.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from rest_framework import serializers

from . import register
from .base import Check, CheckTarget, Outcome, RunContext
from .fields import StrictConfig, StrictInt, StrictList, StrictStr, optional_text, timeout_text

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT")
MATCH_MODES = ("any", "all")
_MAX_SHOWN = 5
_LABEL = re.compile(r"^(\*|[a-z0-9_-]{1,63})$")


def normalise_name(value: str) -> str:
    """A domain name as lowercase ASCII without the trailing dot; ValueError if invalid.
    Underscores are allowed (``_dmarc.example.com``); other characters DNS would
    allow in a label (``<``, spaces...) are refused as surely a mistake."""
    text = value.strip()
    if not text or any(char.isspace() for char in text):
        raise ValueError("Enter a domain name without spaces.")
    try:
        name = dns.name.from_text(text)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise ValueError(f"Not a valid domain name: {exc}") from None
    result = name.to_text(omit_final_dot=True).lower()
    if result in ("", "@", "."):
        raise ValueError("Enter a domain name.")
    if not all(_LABEL.match(label) for label in result.split(".")):
        raise ValueError("Use letters, digits, '-', '_' and '.' only (or '*' as a whole label).")
    return result


def _host(value: str) -> str:
    return value.strip().rstrip(".").lower()


def normalise_value(record_type: str, value: str) -> str:
    """Normalise one expected value; ValueError with a message if it cannot be
    a value of ``record_type``."""
    text = value.strip()
    if record_type == "A":
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise ValueError(f"{text[:60]!r} is not an IPv4 address.") from None
    if record_type == "AAAA":
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise ValueError(f"{text[:60]!r} is not an IPv6 address.") from None
    if record_type in ("CNAME", "NS"):
        return normalise_name(text)
    if record_type == "MX":
        parts = text.split()
        if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) <= 65535:
            return f"{int(parts[0])} {normalise_name(parts[1])}"
        if len(parts) == 1:
            return normalise_name(parts[0])
        raise ValueError('Use "10 mail.example.com" or "mail.example.com".')
    # TXT: accept the zone-file form with quotes, compare without.
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return "".join(text[1:-1].split('" "'))
    return value


def answer_values(record_type: str, answer: Any) -> list[str]:
    """The answers of a resolver response, normalised like expected values and
    sorted (MX by preference) so messages are stable."""
    values: list[str] = []
    for rdata in answer:
        if record_type in ("A", "AAAA"):
            values.append(str(ipaddress.ip_address(rdata.address)))
        elif record_type in ("CNAME", "NS"):
            values.append(_host(rdata.target.to_text()))
        elif record_type == "MX":
            values.append(f"{rdata.preference} {_host(rdata.exchange.to_text())}")
        else:
            values.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
    if record_type == "MX":
        return sorted(values, key=lambda value: (int(value.split(" ", 1)[0]), value))
    return sorted(values)


def value_present(record_type: str, expected: str, answers: list[str]) -> bool:
    if record_type == "MX" and " " not in expected:
        return any(answer.split(" ", 1)[-1] == expected for answer in answers)
    return expected in answers


def _shown(values: list[str]) -> str:
    shown = ", ".join(values[:_MAX_SHOWN])
    if len(values) > _MAX_SHOWN:
        shown += f" and {len(values) - _MAX_SHOWN} more"
    return shown


@register
class DnsCheck(Check):
    kind = "dns"
    label = "DNS record"

    class Config(StrictConfig):
        name = StrictStr(
            max_length=253,
            label="Record name",
            help_text="The domain name to query, e.g. example.com.",
        )
        record_type = StrictStr(
            max_length=8,
            required=False,
            default="A",
            label="Record type",
            help_text="A, AAAA, CNAME, MX, NS or TXT; default A.",
        )
        nameserver = optional_text(
            64,
            label="Nameserver",
            help_text="IP address of the DNS server to ask; empty: the system resolver.",
        )
        port = StrictInt(
            min_value=1,
            max_value=65535,
            required=False,
            default=53,
            label="Port",
            help_text="The nameserver's port; default 53.",
        )
        expected = StrictList(
            child=StrictStr(max_length=1024, trim_whitespace=False),
            max_length=20,
            required=False,
            default=list,
            label="Expected values",
            help_text="Answers to look for (at most 20), e.g. 192.0.2.10 or "
            "10 mail.example.com; TXT is case-sensitive. Empty: any answer is UP.",
        )
        match = StrictStr(
            max_length=8,
            required=False,
            default="any",
            label="Match",
            help_text="any: at least one expected value is answered; all: every one is. "
            "Default any.",
        )

        def validate_name(self, value: str) -> str:
            try:
                return normalise_name(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None

        def validate_record_type(self, value: str) -> str:
            record_type = value.upper()
            if record_type not in RECORD_TYPES:
                raise serializers.ValidationError(f"Use one of {', '.join(RECORD_TYPES)}.")
            return record_type

        def validate_nameserver(self, value: str | None) -> str | None:
            if not value:
                return None
            try:
                return str(ipaddress.ip_address(value.strip("[]")))
            except ValueError:
                raise serializers.ValidationError(
                    "Enter the nameserver's IP address (not a hostname)."
                ) from None

        def validate_match(self, value: str) -> str:
            if value.lower() not in MATCH_MODES:
                raise serializers.ValidationError('Use "any" or "all".')
            return value.lower()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            record_type = attrs.get("record_type", "A")
            normalised: list[str] = []
            for index, value in enumerate(attrs.get("expected", [])):
                try:
                    item = normalise_value(record_type, value)
                except ValueError as exc:
                    raise serializers.ValidationError(
                        {"expected": [f"Item {index + 1}: {exc}"]}
                    ) from None
                if item not in normalised:
                    normalised.append(item)
            attrs["expected"] = normalised
            return attrs

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        config = target.config
        name: str = config["name"]
        record_type: str = config.get("record_type", "A")
        timeout = target.timeout_seconds
        nameserver = config.get("nameserver")
        label = f"{record_type} {name}"
        started = time.perf_counter()
        try:
            if nameserver:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [nameserver]
            else:
                resolver = dns.asyncresolver.Resolver()  # reads /etc/resolv.conf
            resolver.port = config.get("port", 53)
            resolver.timeout = timeout
            resolver.lifetime = timeout
            answer = await resolver.resolve(
                name, dns.rdatatype.from_text(record_type), search=False, lifetime=timeout
            )
        except dns.resolver.NXDOMAIN:
            return Outcome.down(f"NXDOMAIN: {name} does not exist")
        except dns.resolver.NoAnswer:
            return Outcome.down(f"no {record_type} record for {name}")
        except dns.exception.Timeout:
            return Outcome.down(f"{timeout_text(timeout)} resolving {label}")
        except dns.resolver.NoNameservers:
            return Outcome.down(f"no nameserver answered {label} (SERVFAIL or refused)")
        except dns.resolver.NoResolverConfiguration:
            return Outcome.down("no nameserver configured on this host")
        except dns.exception.DNSException as exc:
            return Outcome.down(f"DNS error for {label}: {exc}")
        latency_ms = (time.perf_counter() - started) * 1000
        answers = answer_values(record_type, answer)
        if not answers:
            return Outcome.down(f"no {record_type} record for {name}", latency_ms)
        expected: list[str] = config.get("expected") or []
        if expected:
            missing = [
                value for value in expected if not value_present(record_type, value, answers)
            ]
            mode = config.get("match", "any")
            failed = len(missing) == len(expected) if mode == "any" else bool(missing)
            if failed:
                return Outcome.down(
                    f"{label}: expected {mode} of {_shown(expected)}, got {_shown(answers)}",
                    latency_ms,
                )
        return Outcome.up(latency_ms, f"{label}: {_shown(answers)}")


__all__ = ["DnsCheck", "normalise_name", "normalise_value"]
