"""Jenkins deployments: builds reported to ``/api/jenkins/deployment``.

Jenkins sends deployments, not alerts. Three bodies are understood:

1. The **Notification plugin** (``jenkinsci/notification-plugin``: the
   ``JobState``/``BuildState``/``ScmState`` models, JSON format)::

       {"name": "deploy-checkout", "display_name": "...", "url": "job/deploy-checkout/",
        "build": {"full_url": "https://ci/job/deploy-checkout/42/", "number": 42,
                  "queue_id": 7, "phase": "QUEUED|STARTED|COMPLETED|FINALIZED",
                  "status": "SUCCESS|FAILURE|UNSTABLE|ABORTED|NOT_BUILT",
                  "url": "job/deploy-checkout/42/", "timestamp": 1700000000000,
                  "duration": 81234,
                  "scm": {"url": "...", "branch": "origin/main", "commit": "<sha>"},
                  "parameters": {"ENVIRONMENT": "production", "VERSION": "1.4.2"},
                  "log": "...", "notes": "...", "artifacts": {...}}}

   ``timestamp`` is epoch milliseconds (older plugin versions: a date
   string): the start for STARTED, start + duration for COMPLETED.
2. A **pipeline step** posting the deployment JSON documented in
   ``docs/integrations.md`` (``httpRequest`` or ``curl`` in a ``post`` block)::

       {"service": "checkout", "environment": "production", "version": "1.4.2",
        "result": "SUCCESS", "build_number": 42, "build_url": "https://ci/...",
        "job_name": "deploy-checkout", "git": {"commit_sha": "...", "branch": "main"},
        "started_at": "<iso8601>", "finished_at": "<iso8601>", "duration_ms": 81234}

3. The **Outbound WebHook plugin** (``jenkinsci/outbound-webhook-plugin``,
   also listed for CloudBees CI): ``{"projectName", "buildName",
   "buildNumber", "buildUrl", "buildVars", "event":
   "start|success|failure|unstable"}``.

What Beacon reads: external id ``<job>#<number>`` (one deployment, updated
by each phase); service from a ``SERVICE``/``SERVICE_NAME``/``APP``/
``APPLICATION`` build parameter, else the job name; environment from
``ENVIRONMENT``/``ENV``/``DEPLOY_ENV``/``TARGET_ENV``/``STAGE``; version from
``VERSION``/``APP_VERSION``/``RELEASE``/``IMAGE_TAG``/``TAG``, else the short
commit, else ``#<number>``; result ``running`` while QUEUED/STARTED, then
SUCCESS -> success, FAILURE -> failure, UNSTABLE -> unstable,
ABORTED/NOT_BUILT -> aborted; URL ``full_url``; start and finish times.

``deployment_alert`` turns a failed deployment into an alert (and a later
successful one into its resolve), for integrations set to open alerts on
failed deployments. Jenkins does not sign; the Notification plugin cannot
set headers, so the token goes in the URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .base import (
    Deployment,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    Source,
    fingerprint_of,
    first_str,
    flatten_labels,
    make_alert,
    make_deployment,
    opt_number,
    opt_object,
    opt_str,
    parse_time,
    pick_label,
    register,
    require_object,
)

SERVICE_PARAMS = ("service", "service_name", "app", "application", "app_name")
ENVIRONMENT_PARAMS = ("environment", "env", "deploy_env", "target_env", "stage")
VERSION_PARAMS = ("version", "app_version", "release", "image_tag", "tag")

PHASES = ("QUEUED", "STARTED", "COMPLETED", "FINALIZED", "NONE")
STATUS_RESULTS = {
    "success": "success",
    "succeeded": "success",
    "successful": "success",
    "passed": "success",
    "failure": "failure",
    "failed": "failure",
    "error": "failure",
    "unstable": "unstable",
    "aborted": "aborted",
    "not_built": "aborted",
    "cancelled": "aborted",
    "canceled": "aborted",
    "running": "running",
    "started": "running",
    "in_progress": "running",
    "pending": "running",
    "queued": "running",
}
OUTBOUND_EVENTS = {
    "start": "running",
    "pipeline": "running",
    "success": "success",
    "failure": "failure",
    "unstable": "unstable",
}


def map_result(value: str, path: str) -> str:
    """A CI status word as a deployment result; PayloadError for unknown words."""
    result = STATUS_RESULTS.get(value.strip().lower().replace(" ", "_"))
    if result is None:
        raise PayloadError(
            path, "must be SUCCESS, FAILURE, UNSTABLE, ABORTED or NOT_BUILT (or RUNNING)"
        )
    return result


def job_path(url: str) -> str:
    """``folder/job`` from a Jenkins job URL (``job/folder/job/name/...``)."""
    return "/".join(re.findall(r"(?:^|/)job/([^/]+)", url))


def parse_build_vars(text: str) -> dict[str, str]:
    """The Outbound WebHook plugin's ``buildVars`` (a Java map's ``{K=V, ...}``)."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    pairs: dict[str, str] = {}
    for part in re.split(r",\s*(?=[A-Za-z_][A-Za-z0-9_.]*=)", text):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def _deployment_fields(params: Mapping[str, str]) -> tuple[str, str, str]:
    return (
        pick_label(params, SERVICE_PARAMS),
        pick_label(params, ENVIRONMENT_PARAMS),
        pick_label(params, VERSION_PARAMS),
    )


def _notification_plugin(payload: Mapping[str, Any], source: str) -> Deployment:
    build = require_object(payload.get("build"), "build")
    name = first_str(payload, ("name", "display_name"), "")
    if not name:
        raise PayloadError("name", "is required")
    number = opt_str(build, "number", "build").strip()
    if not number:
        raise PayloadError("build.number", "is required")
    phase = opt_str(build, "phase", "build").strip().upper() or "NONE"
    if phase not in PHASES:
        raise PayloadError("build.phase", "must be QUEUED, STARTED, COMPLETED or FINALIZED")
    status = opt_str(build, "status", "build").strip()
    if phase in ("QUEUED", "STARTED"):
        result = "running"
    elif status:
        result = map_result(status, "build.status")
    elif phase == "NONE":
        result = "running"
    else:
        raise PayloadError("build.status", f"is required when build.phase is {phase}")
    params = flatten_labels(build.get("parameters"), "build.parameters")
    scm = opt_object(build, "scm", "build")
    commit = opt_str(scm, "commit", "build.scm").strip()
    service, environment, version = _deployment_fields(params)
    moment = parse_time(build.get("timestamp"), "build.timestamp", lenient=True)
    duration = opt_number(build, "duration", "build") or 0
    started = finished = None
    if phase in ("QUEUED", "STARTED"):
        started = moment
    else:
        finished = moment
        if moment is not None and 0 < duration < 1e12:
            started = moment - timedelta(milliseconds=duration)
    job = job_path(opt_str(payload, "url", "")) or name
    return make_deployment(
        source=source,
        external_id=f"{job}#{number}",
        service=service or name,
        environment=environment,
        version=version or commit[:12] or f"#{number}",
        result=result,
        url=opt_str(build, "full_url", "build"),
        started_at=started,
        finished_at=finished,
        raw=payload,
    )


def _outbound_webhook(payload: Mapping[str, Any], source: str) -> Deployment:
    project = opt_str(payload, "projectName", "").strip()
    if not project:
        raise PayloadError("projectName", "is required")
    number = opt_str(payload, "buildNumber", "").strip()
    event = opt_str(payload, "event", "").strip().lower()
    if event not in OUTBOUND_EVENTS:
        raise PayloadError("event", "must be start, success, failure or unstable")
    params = parse_build_vars(opt_str(payload, "buildVars", ""))
    service, environment, version = _deployment_fields(params)
    return make_deployment(
        source=source,
        external_id=f"{project}#{number}" if number else fingerprint_of(project, payload),
        service=service or project,
        environment=environment,
        version=version or (f"#{number}" if number else ""),
        result=OUTBOUND_EVENTS[event],
        url=opt_str(payload, "buildUrl", ""),
        raw=payload,
    )


def _pipeline_step(payload: Mapping[str, Any], source: str, now: datetime) -> Deployment:
    service = opt_str(payload, "service", "").strip()
    job = opt_str(payload, "job_name", "").strip()
    if not service and not job:
        raise PayloadError("service", "is required")
    result_text = opt_str(payload, "result", "").strip()
    if not result_text:
        raise PayloadError("result", "is required")
    result = map_result(result_text, "result")
    git = opt_object(payload, "git", "")
    number = opt_str(payload, "build_number", "").strip()
    explicit_id = first_str(payload, ("deployment_id", "id"), "")
    finished = parse_time(payload.get("finished_at"), "finished_at")
    started = parse_time(payload.get("started_at"), "started_at")
    duration = opt_number(payload, "duration_ms", "")
    if result != "running" and finished is None:
        finished = now
    if started is None and finished is not None and duration and 0 < duration < 1e12:
        started = finished - timedelta(milliseconds=duration)
    if explicit_id:
        external_id = explicit_id
    elif number:
        external_id = f"{job or service}#{number}"
    else:
        external_id = fingerprint_of(service, job, opt_str(payload, "environment", ""), payload)
    commit = opt_str(git, "commit_sha", "git").strip() or opt_str(git, "commit", "git").strip()
    return make_deployment(
        source=source,
        external_id=external_id,
        service=service or job,
        environment=opt_str(payload, "environment", ""),
        version=opt_str(payload, "version", "").strip()
        or commit[:12]
        or (f"#{number}" if number else ""),
        result=result,
        url=first_str(payload, ("build_url", "url"), ""),
        started_at=started,
        finished_at=finished if result != "running" else None,
        raw=payload,
    )


def parse_deployment(payload: Mapping[str, Any], source: str, now: datetime) -> Deployment:
    """The deployment in any of the three bodies."""
    if "build" in payload:
        return _notification_plugin(payload, source)
    if "projectName" in payload:
        return _outbound_webhook(payload, source)
    if any(key in payload for key in ("result", "service", "job_name", "build_number")):
        return _pipeline_step(payload, source, now)
    raise PayloadError(
        "build", "is required (Notification plugin body), or send the deployment JSON"
    )


def deployment_alert(deployment: Deployment) -> NormalizedAlert | None:
    """The alert a deployment stands for when the integration opens alerts on
    failed deployments: firing (critical) for a failure, resolved for a
    success of the same service and environment, None otherwise. The
    fingerprint is per service and environment, so the next good deployment
    closes the alert the bad one opened."""
    if deployment.result not in ("failure", "success"):
        return None
    failed = deployment.result == "failure"
    where = deployment.service + (f" ({deployment.environment})" if deployment.environment else "")
    return make_alert(
        source=deployment.source,
        fingerprint=fingerprint_of("deployment", deployment.service, deployment.environment),
        title=f"Deployment of {where} failed" if failed else f"Deployment of {where} succeeded",
        description=f"Version {deployment.version}" if deployment.version else "",
        severity="critical",
        status="firing" if failed else "resolved",
        service=deployment.service,
        environment=deployment.environment,
        started_at=(deployment.finished_at or deployment.started_at) if failed else None,
        ended_at=deployment.finished_at if not failed else None,
        link=deployment.url,
        labels={
            "deployment": deployment.external_id,
            "version": deployment.version,
            "result": deployment.result,
        },
        raw=deployment.raw,
    )


@register
class JenkinsSource(Source):
    name = "jenkins"
    label = "Jenkins"
    endpoint = "/api/jenkins/deployment"
    sends_resolve = True
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        deployment = parse_deployment(payload, self.name, now)
        phase = ""
        build = payload.get("build")
        if isinstance(build, Mapping):
            phase = opt_str(build, "phase", "build").strip().upper()
        # Each phase of a build is its own delivery; the same phase again is a replay.
        delivery = f"{deployment.external_id}:{phase or deployment.result}"
        return ParseResult(alerts=[], deployments=[deployment], delivery_id=delivery)
