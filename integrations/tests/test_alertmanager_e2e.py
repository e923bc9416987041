"""End to end with a real Prometheus Alertmanager (Debian package
``prometheus-alertmanager``): alerts posted to Alertmanager's API v2 reach
Beacon's real web server (gunicorn) through a ``webhook_configs`` receiver
authenticated with ``http_config.authorization`` (Bearer), are stored once
per Alertmanager fingerprint, correlated by a real Celery worker into an
incident, and resolved when Alertmanager sends the resolve."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerting.models import Alert, AlertOccurrence
from catalog.models import Service
from integrations.models import InboundDelivery, Integration
from monitors.tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def answers(url: str) -> bool:
    """True once something answers HTTP at ``url`` (Beacon's /healthz says 503
    without a beat process, which is still an answer)."""
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def alertmanager_config(beacon: str, token: str) -> str:
    return json.dumps(  # JSON is YAML
        {
            "route": {
                "receiver": "beacon",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "beacon",
                    "webhook_configs": [
                        {
                            "url": f"{beacon}/api/alertmanager/alerts",
                            "send_resolved": True,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": token}
                            },
                        }
                    ],
                }
            ],
        }
    )


def am_alert(name: str, service: str, ends_at: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": "CheckoutErrors",
            "instance": name,
            "service": service,
            "severity": "critical",
        },
        "annotations": {"summary": f"5xx ratio above 5% on {name}"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=errors",
        "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    return alert


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_real_alertmanager_to_beacon(
    real_broker: None,
    celery_env: dict[str, str],
    start_celery: Callable[..., subprocess.Popen],
    processes: list[subprocess.Popen],
    tmp_path: Path,
) -> None:
    Service.objects.create(name="Checkout", slug="checkout")
    integration = Integration.objects.create(name="Prometheus", source="alertmanager")
    web_port, am_port = free_port(), free_port()
    beacon = f"http://127.0.0.1:{web_port}"
    env = {**celery_env, "BEACON_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    processes.append(
        spawn(
            [gunicorn, "statuspage.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "2"],
            env,
            tmp_path / "web.log",
        )
    )
    worker = start_celery("worker")
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(beacon, integration.token))
    processes.append(
        spawn(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            env,
            tmp_path / "alertmanager.log",
        )
    )
    procs = [*processes, worker]
    am_api = f"http://127.0.0.1:{am_port}"
    wait_for(lambda: answers(f"{beacon}/healthz"), procs, timeout=60)
    wait_for(lambda: answers(f"{am_api}/-/ready"), procs, timeout=60)

    firing = [am_alert("web-1", "checkout"), am_alert("web-2", "checkout")]
    assert httpx.post(f"{am_api}/api/v2/alerts", json=firing, timeout=5).status_code == 200

    def stored(status: str) -> bool:
        return Alert.objects.filter(integration=integration, status=status).count() == 2

    wait_for(lambda: stored("TRIGGERED"), procs, timeout=60)
    fingerprints = {a["fingerprint"] for a in httpx.get(f"{am_api}/api/v2/alerts").json()}
    alerts = list(Alert.objects.filter(integration=integration).select_related("service"))
    assert {a.fingerprint for a in alerts} == fingerprints  # Alertmanager's own ids
    for alert in alerts:
        assert alert.source == "alertmanager" and alert.severity == "CRITICAL"
        assert alert.title.startswith("5xx ratio above 5% on web-")
        assert alert.service is not None and alert.service.slug == "checkout"
    # The worker correlated both alerts (same service) into one incident.
    wait_for(
        lambda: Alert.objects.filter(integration=integration, incident__isnull=False).count() == 2,
        procs,
        timeout=60,
    )
    assert len(set(Alert.objects.values_list("incident", flat=True))) == 1

    # Resolve: the same alerts with an end in the past.
    resolved = [
        am_alert(name, "checkout", ends_at=datetime.now(UTC) - timedelta(seconds=5))
        for name in ("web-1", "web-2")
    ]
    assert httpx.post(f"{am_api}/api/v2/alerts", json=resolved, timeout=5).status_code == 200
    wait_for(lambda: stored("RESOLVED"), procs, timeout=60)
    assert Alert.objects.filter(integration=integration).count() == 2  # no duplicates
    assert AlertOccurrence.objects.filter(status="RESOLVED").count() >= 2
    assert InboundDelivery.objects.filter(integration=integration).count() >= 2
    integration.refresh_from_db()
    assert integration.last_received_at is not None
