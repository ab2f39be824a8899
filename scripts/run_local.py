"""`make run`: migrate, seed demo data on first run, then serve the web app and a Celery worker with beat.

Without DATABASE_URL the settings start an embedded PostgreSQL in .data/postgres (this process holds it
open, so it stays up while the children run and stops when everything exits); without REDIS_URL Celery
uses a filesystem broker in .data/celery. Ctrl-C stops everything this started; data persists in .data/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkwork.settings")
# A local demo signs in with the demo passwords alone, unless asked to try two-factor authentication too.
# (Production refuses to start with it off.)
os.environ.setdefault("LINKWORK_TWO_FACTOR_REQUIRED", "false")
HOST = os.environ.get("LINKWORK_HOST", "127.0.0.1")
PORT = os.environ.get("LINKWORK_PORT", "8000")


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from linkwork.celery import QUEUES
    from outcomes import demo

    call_command("migrate", interactive=False, verbosity=0)
    if demo.seed_demo():
        print("Demo data loaded (first run).")
    bin_dir = Path(sys.executable).parent
    children = [
        # Each child leads its own process group, so stopping it also stops what it forked (Celery's pool).
        subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], cwd=ROOT, start_new_session=True
        ),
        subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "linkwork",
                "worker",
                "--beat",
                # One worker for every queue here; production runs a worker per queue (docs/scaling.md).
                "-Q",
                ",".join(QUEUES),
                "--loglevel=INFO",
                "--concurrency=1",
            ],
            cwd=ROOT,
            start_new_session=True,
        ),
    ]
    db = settings.DATABASES["default"]
    print(f"\nLinkwork is running on http://{HOST}:{PORT}/  (Ctrl-C stops it)")
    print(f"Database: PostgreSQL at {db.get('HOST') or 'localhost'} / {db['NAME']}")
    print(f"Celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}")
    print(demo.describe_logins(), flush=True)
    if not settings.LINKWORK_TWO_FACTOR_REQUIRED:
        print("Two-factor authentication is off for this demo: LINKWORK_TWO_FACTOR_REQUIRED=true make run to try it.")

    def signal_all(sig: int) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)

    def stop(*_: object) -> None:
        signal_all(signal.SIGTERM)

    # Ctrl-C (also when started from a script, where SIGINT may arrive ignored) and SIGTERM stop everything.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(child.poll() is None for child in children):
            time.sleep(0.2)
        signal_all(signal.SIGKILL)  # whatever has not stopped by now, and any stray forked children
        for child in children:
            child.wait()
        if not os.environ.get("DATABASE_URL"):
            from linkwork.embedded_db import stop_embedded

            pgdata = settings.DATA_DIR / "postgres"
            for _ in range(60):  # a process that was still exiting may have rejoined the server: stop it again
                stop_embedded(pgdata)
                if not (pgdata / "postmaster.pid").exists():
                    break
                time.sleep(0.5)
            print("Stopped the embedded PostgreSQL; data kept in", settings.DATA_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
