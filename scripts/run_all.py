"""Run the web server, one Celery worker and Celery beat together (``make run``).

Hand-written rather than honcho/supervisord: three processes, one policy
(Ctrl-C or any one exiting stops them all), no extra dependency. Each
child's output is prefixed with its name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def worker_command(concurrency: str, loglevel: str) -> list[str]:
    """A Celery worker on both queues with a thread pool (one process, shared by
    ``make run``, the benchmarks and the operations docs)."""
    return [
        str(BIN / "celery"),
        "-A",
        "statuspage",
        "worker",
        "--queues",
        "celery,checks,notifications,ingest",
        "--pool",
        "threads",
        "--concurrency",
        concurrency,
        "--loglevel",
        loglevel,
    ]


def beat_command(schedule: Path, loglevel: str) -> list[str]:
    """Celery beat keeping its schedule file at ``schedule``."""
    return [
        str(BIN / "celery"),
        "-A",
        "statuspage",
        "beat",
        "--schedule",
        str(schedule),
        "--loglevel",
        loglevel,
    ]


def commands() -> dict[str, list[str]]:
    """The three processes and their command lines."""
    port = os.environ.get("PORT", "8000")
    data_dir = Path(os.environ.get("BEACON_DATA_DIR", ROOT / "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    web_workers = os.environ.get("BEACON_WEB_WORKERS", "2")
    concurrency = os.environ.get("BEACON_WORKER_CONCURRENCY", "4")
    # Celery logs every task at INFO; a tick every 2 s would drown the console.
    celery_level = os.environ.get("BEACON_CELERY_LOG_LEVEL", "WARNING")
    return {
        "web": [
            str(BIN / "gunicorn"),
            "statuspage.wsgi",
            "--bind",
            f"{os.environ.get('BEACON_BIND', '127.0.0.1')}:{port}",
            "--workers",
            web_workers,
            "--access-logfile",
            "-",
        ],
        "worker": worker_command(concurrency, celery_level),
        "beat": beat_command(data_dir / "celerybeat-schedule", celery_level),
    }


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:>6} | {line}")
        sys.stdout.flush()


def main() -> int:
    """Start everything; stop everything on Ctrl-C or when one process exits."""
    children: dict[str, subprocess.Popen[str]] = {}
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, cmd in commands().items():
        child = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        children[name] = child
        threading.Thread(target=_pump, args=(name, child.stdout), daemon=True).start()
    port = os.environ.get("PORT", "8000")
    print(f"Beacon is starting on http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
    exit_code = 0
    while not stopping.is_set():
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with code {child.returncode}; stopping the others")
                exit_code = child.returncode or 1
                stopping.set()
                break
        stopping.wait(0.5)
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
