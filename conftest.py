"""Project-wide pytest fixtures: real Celery worker and beat processes for the
end-to-end tests, pointed at the test database and an isolated broker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent

# Users per role and signed-in API clients; the headless browser and its pages.
pytest_plugins = ["accounts.tests.fixtures", "statuspage.tests.browser"]


def _database_url() -> str:
    """A URL for the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_env(tmp_path: Path) -> dict[str, str]:
    """Environment for Celery subprocesses: the test database, an isolated
    broker (a fresh file-system broker, or the CI Redis database flushed), fast ticks."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url()
    env["BEACON_DATA_DIR"] = str(tmp_path / "data")
    env["BEACON_BROKER_DIR"] = str(tmp_path / "broker")
    env["BEACON_SECRET_KEY"] = "e2e-tests-only"
    env.setdefault("BEACON_TICK_SECONDS", "1")
    env["PYTHONUNBUFFERED"] = "1"
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        client.ping()  # unreachable Redis is a failure, not a skip
        client.flushdb()
    return env


@pytest.fixture
def start_celery(
    celery_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``celery worker`` / ``celery beat`` subprocesses; all are stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(role: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        name = f"{role}-{len(procs)}"
        cmd = [sys.executable, "-m", "celery", "-A", "statuspage", role, "--loglevel", "INFO"]
        if role == "worker":
            cmd += [
                "--queues",
                "celery,checks,notifications,ingest",
                "--pool",
                "threads",
                "--concurrency",
                "2",
            ]
            cmd += ["--hostname", f"{name}@%h", "--without-mingle", "--without-gossip"]
        else:
            cmd += ["--schedule", str(tmp_path / f"{name}-schedule")]
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [*cmd, *extra], cwd=ROOT, env=env or celery_env, stdout=log, stderr=subprocess.STDOUT
        )
        proc.log_path = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
