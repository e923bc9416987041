"""Inbound alert sources: one parser module per vendor behind ``base.Source``.

Importing this package registers every module in ``REGISTRY`` (name, the URL
segment, -> class). ``get(name)`` returns a parser; ``parse(...)`` is pure
(no database, network or clock). See ``base`` for the contract and
``docs/integrations.md`` for what each vendor sends and how to point it here.
"""

from __future__ import annotations

from . import (  # noqa: F401  (imported for their @register side effect)
    alertmanager,
    bigpanda,
    cloudbees,
    datadog,
    dynatrace,
    generic,
    grafana,
    jenkins,
    netdata,
    pagerduty,
    splunk,
)
from .base import (
    REGISTRY,
    Deployment,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    Source,
    get,
    register,
)

__all__ = [
    "REGISTRY",
    "Deployment",
    "NormalizedAlert",
    "ParseResult",
    "PayloadError",
    "Source",
    "get",
    "register",
]
