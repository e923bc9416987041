"""CloudBees CI deployment parser (``cloudbees.py``): the Jenkins formats under
a source of its own, plus the Outbound WebHook plugin body.

Payloads: ``payloads/cloudbees_outbound.json`` (``jenkinsci/outbound-webhook-plugin``)
and the Jenkins fixtures (see payloads/README.md).
"""

from __future__ import annotations

import pytest

from integrations.sources import PayloadError, get

from .payloads import NOW, load

cloudbees = get("cloudbees")


def test_outbound_webhook_failure() -> None:
    result = cloudbees.parse(load("cloudbees_outbound"), headers={}, now=NOW)
    (dep,) = result.deployments
    assert dep.source == "cloudbees"
    assert dep.external_id == "deploy-payments#118"
    assert (dep.service, dep.environment, dep.version, dep.result) == (
        "payments",
        "staging",
        "2.0.0-rc.1",
        "failure",
    )
    assert dep.url == "https://cloudbees.example.com/job/deploy-payments/118/"
    assert result.delivery_id == "deploy-payments#118:failure"


@pytest.mark.parametrize(
    ("event", "result"),
    [
        ("start", "running"),
        ("success", "success"),
        ("unstable", "unstable"),
        ("failure", "failure"),
    ],
)
def test_outbound_events(event: str, result: str) -> None:
    payload = load("cloudbees_outbound")
    payload["event"] = event
    assert cloudbees.parse(payload, headers={}, now=NOW).deployments[0].result == result


def test_notification_plugin_body_is_a_cloudbees_deployment() -> None:
    dep = cloudbees.parse(load("jenkins_failed"), headers={}, now=NOW).deployments[0]
    assert (dep.source, dep.result, dep.external_id) == (
        "cloudbees",
        "failure",
        "shop/deploy-checkout#42",
    )


def test_pipeline_json_is_a_cloudbees_deployment() -> None:
    dep = cloudbees.parse(load("jenkins_pipeline"), headers={}, now=NOW).deployments[0]
    assert (dep.source, dep.service) == ("cloudbees", "checkout")


def test_build_vars_missing_falls_back_to_the_project() -> None:
    payload = load("cloudbees_outbound")
    del payload["buildVars"]
    dep = cloudbees.parse(payload, headers={}, now=NOW).deployments[0]
    assert (dep.service, dep.environment, dep.version) == ("deploy-payments", "", "#118")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"projectName": ""}, "projectName"),
        ({"event": "exploded"}, "event"),
        ({"event": None}, "event"),
        ({"buildVars": {"ENV": "x"}}, "buildVars"),
        ({"buildNumber": [118]}, "buildNumber"),
    ],
)
def test_malformed_fields_are_named(change: dict, field: str) -> None:
    payload = load("cloudbees_outbound")
    payload.update(change)
    with pytest.raises(PayloadError) as caught:
        cloudbees.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field
