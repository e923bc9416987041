"""What the benchmarks share: a fresh database and data dir, the environment
of the processes they start, and the Celery command lines of ``make run``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.run_all import beat_command, worker_command  # noqa: E402

__all__ = ["ROOT", "beat_command", "fresh_environment", "percentile", "worker_command"]


def fresh_environment(name: str, postgres_url: str | None, **extra: str) -> tuple[Path, dict]:
    """Create a temporary data dir and a fresh, migrated database.

    ``postgres_url`` (its database is dropped and created) or, when None, a
    SQLite file ``<name>.sqlite3`` in the data dir. The returned environment
    is also applied to this process, ready for ``django.setup()``.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=f"beacon-{name}-"))
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="statuspage.settings",
        BEACON_DATA_DIR=str(data_dir),
        BEACON_SECRET_KEY="bench",  # noqa: S106 - throwaway benchmark database
        BEACON_LOG_LEVEL="WARNING",
        **extra,
    )
    if postgres_url:
        import psycopg

        dbname = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            c.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = postgres_url
    else:
        env["DATABASE_URL"] = f"sqlite:///{data_dir / (name + '.sqlite3')}"
    os.environ.clear()
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return data_dir, env


def percentile(values: list, q: float) -> float:
    """Linear-interpolated percentile ``q`` (0..1) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
