"""A real Celery worker for integration tests: on its own queue, on the real broker, writing to the test
database (the worker is another process, so the tests using it need transaction=True)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database, as a URL the worker's settings can read."""
    s = connection.settings_dict
    host = s["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{s['USER']}@/{s['NAME']}?host={host}"
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def celery_worker(log: Path, **extra_env: str) -> Iterator[str]:
    """Start ``celery worker`` on a fresh queue and yield the queue's name; stop it afterwards. Its output
    goes to ``log`` (read it when a test fails)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with worker_process(log, queue, **extra_env):
        yield queue


@contextlib.contextmanager
def worker_process(log: Path, queue: str, *, pool: str = "solo", **extra_env: str) -> Iterator[subprocess.Popen]:
    """A ``celery worker`` process consuming ``queue`` (``pool="prefork"`` runs tasks in one child process);
    stopped afterwards unless the test has already killed it."""
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "linkwork.settings", **extra_env}
    pool_args = ["--pool=prefork", "--concurrency=1"] if pool == "prefork" else [f"--pool={pool}"]
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "linkwork",
                "worker",
                *pool_args,
                "-Q",
                queue,
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's Celery app at a port nobody listens on, as when Redis is down."""
    import socket

    from linkwork.celery import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_transport_options = {}
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        app._pool = None
        app.amqp._producer_pool = None
