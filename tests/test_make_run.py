"""`make run` on a bare machine: embedded PostgreSQL, filesystem broker, demo data, the login page served,
and everything stopped again on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.status, response.read().decode()


def test_make_run_serves_the_login_page_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(LINKWORK_DATA_DIR=str(tmp_path / "data"), LINKWORK_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, status, body = time.monotonic() + 120, 0, ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, "the login page was never served"
        assert "Sign in to Linkwork" in body
        health = _get(f"http://127.0.0.1:{port}/healthz")[1]
        assert '"database": "ok"' in health and '"broker": "ok"' in health
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert "linkworker@demo.linkwork.test" in output  # the demo logins are printed
    assert "Stopped the embedded PostgreSQL" in output
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()  # data persists
