"""Jenkins deployment parser (``jenkins.py``) and failed-deployment alerts.

Payloads: ``payloads/jenkins_*.json``, from ``jenkinsci/notification-plugin``'s
JSON models and the pipeline deployment JSON of docs/integrations.md (see
payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.jenkins import deployment_alert, job_path, parse_build_vars

from .payloads import NOW, load

jenkins = get("jenkins")


def test_started_build_is_a_running_deployment() -> None:
    result = jenkins.parse(load("jenkins_started"), headers={}, now=NOW)
    assert result.alerts == []
    (dep,) = result.deployments
    assert dep.source == "jenkins"
    assert dep.external_id == "shop/deploy-checkout#42"
    assert dep.result == "running"
    assert (dep.service, dep.environment, dep.version) == ("deploy-checkout", "production", "1.4.2")
    assert dep.url == "https://ci.example.com/job/shop/job/deploy-checkout/42/"
    assert dep.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert dep.finished_at is None
    assert result.delivery_id == "shop/deploy-checkout#42:STARTED"


def test_completed_failure_updates_the_same_deployment() -> None:
    result = jenkins.parse(load("jenkins_failed"), headers={}, now=NOW)
    (dep,) = result.deployments
    assert dep.external_id == "shop/deploy-checkout#42"
    assert dep.result == "failure"
    assert dep.finished_at == datetime(2023, 11, 14, 22, 14, 41, 234000, tzinfo=UTC)
    assert dep.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert result.delivery_id == "shop/deploy-checkout#42:COMPLETED"


def test_service_parameter_and_commit_version() -> None:
    payload = load("jenkins_failed")
    payload["build"]["parameters"] = {"SERVICE": "checkout", "DEPLOY_ENV": "staging"}
    dep = jenkins.parse(payload, headers={}, now=NOW).deployments[0]
    assert (dep.service, dep.environment, dep.version) == ("checkout", "staging", "9f1c2ab7d3e4")


def test_older_plugin_timestamp_strings() -> None:
    dep = jenkins.parse(load("jenkins_old_timestamp"), headers={}, now=NOW).deployments[0]
    assert dep.result == "success"
    assert dep.finished_at == datetime(2023, 5, 1, 2, 0, 5, 700000, tzinfo=UTC)
    assert dep.started_at == dep.finished_at - timedelta(seconds=65)
    assert (dep.external_id, dep.version, dep.environment) == ("nightly-deploy#7", "#7", "")


@pytest.mark.parametrize(
    ("status", "result"),
    [
        ("SUCCESS", "success"),
        ("FAILURE", "failure"),
        ("UNSTABLE", "unstable"),
        ("ABORTED", "aborted"),
        ("NOT_BUILT", "aborted"),
    ],
)
def test_build_status_mapping(status: str, result: str) -> None:
    payload = load("jenkins_failed")
    payload["build"]["status"] = status
    payload["build"]["phase"] = "FINALIZED"
    assert jenkins.parse(payload, headers={}, now=NOW).deployments[0].result == result


def test_pipeline_step_deployment_json() -> None:
    dep = jenkins.parse(load("jenkins_pipeline"), headers={}, now=NOW).deployments[0]
    assert dep.external_id == "shop/deploy-checkout#43"
    assert (dep.service, dep.environment, dep.version, dep.result) == (
        "checkout",
        "production",
        "1.4.3",
        "success",
    )
    assert dep.started_at == datetime(2023, 11, 14, 22, 20, tzinfo=UTC)
    assert dep.finished_at == NOW  # not given: received now


def test_pipeline_step_minimal_and_running() -> None:
    payload = {"service": "api", "result": "running", "git": {"commit_sha": "abcdef1234567890"}}
    dep = jenkins.parse(payload, headers={}, now=NOW).deployments[0]
    assert (dep.result, dep.version, dep.finished_at) == ("running", "abcdef123456", None)
    assert dep.external_id.startswith("sha256:")


def test_failed_deployment_alert_and_its_resolve() -> None:
    failed = jenkins.parse(load("jenkins_failed"), headers={}, now=NOW).deployments[0]
    alert = deployment_alert(failed)
    assert alert is not None
    assert (alert.status, alert.severity) == ("firing", "critical")
    assert alert.title == "Deployment of deploy-checkout (production) failed"
    assert alert.link == failed.url
    assert alert.started_at == failed.finished_at
    good = load("jenkins_failed")
    good["build"].update(number=43, status="SUCCESS")
    fixed = deployment_alert(jenkins.parse(good, headers={}, now=NOW).deployments[0])
    assert fixed is not None
    assert (fixed.status, fixed.fingerprint) == ("resolved", alert.fingerprint)
    started = jenkins.parse(load("jenkins_started"), headers={}, now=NOW).deployments[0]
    assert deployment_alert(started) is None


def test_unicode_and_long_values() -> None:
    payload = load("jenkins_failed")
    payload["build"]["parameters"] = {"SERVICE": "paiements-€", "VERSION": "v" * 500}
    payload["name"] = "déployer " + "n" * 400
    dep = jenkins.parse(payload, headers={}, now=NOW).deployments[0]
    assert dep.service == "paiements-€"
    assert len(dep.version) == 200
    assert len(dep.external_id) <= 200


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(build="42"), "build"),
        (lambda p: [p.pop("name"), p.pop("display_name")], "name"),
        (lambda p: p["build"].pop("number"), "build.number"),
        (lambda p: p["build"].update(phase="DONE"), "build.phase"),
        (lambda p: p["build"].pop("status"), "build.status"),
        (lambda p: p["build"].update(status="EXPLODED"), "build.status"),
        (lambda p: p["build"].update(parameters=["ENV=prod"]), "build.parameters"),
        (lambda p: p["build"].update(scm="git"), "build.scm"),
        (lambda p: p["build"].update(duration="long"), "build.duration"),
    ],
)
def test_malformed_notification_fields_are_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    payload = load("jenkins_failed")
    mutate(payload)
    with pytest.raises(PayloadError) as caught:
        jenkins.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "build"),
        ({"result": "SUCCESS"}, "service"),
        ({"service": "api"}, "result"),
        ({"service": "api", "result": "meh"}, "result"),
        ({"service": "api", "result": "SUCCESS", "finished_at": "when it's done"}, "finished_at"),
        ({"service": "api", "result": "SUCCESS", "git": "main"}, "git"),
    ],
)
def test_malformed_pipeline_bodies_are_named(payload: dict, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        jenkins.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_helpers() -> None:
    assert job_path("job/a/job/b%20c/") == "a/b%20c"
    assert job_path("") == ""
    assert parse_build_vars("{ENVIRONMENT=prod, NOTE=a, b, VERSION=1}") == {
        "ENVIRONMENT": "prod",
        "NOTE": "a, b",
        "VERSION": "1",
    }
