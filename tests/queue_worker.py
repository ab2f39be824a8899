"""Settings for the Celery workers started by tests/test_queues.py: the real settings, plus a task that stands in
for a long bulk job (a digest run or a retention pass over a whole ICB), and a ``ready`` file the worker writes
once it is consuming (``$LINKWORK_TEST_READY_FILE``), so the test times only the queue, not the start-up."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from linkwork.settings import *  # noqa: F403

CELERY_IMPORTS = ["tests.queue_worker"]


@shared_task(name="tests.long_bulk_job")
def long_bulk_job(folder: str, seconds: float) -> None:
    """Writes ``started`` in ``folder``, runs until a ``stop`` file appears there (or ``seconds`` pass), then
    writes ``finished``."""
    path = Path(folder)
    (path / "started").touch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (path / "stop").exists():
        time.sleep(0.1)
    (path / "finished").touch()


@worker_ready.connect
def _say_ready(**kwargs: Any) -> None:
    if os.environ.get("LINKWORK_TEST_READY_FILE"):
        Path(os.environ["LINKWORK_TEST_READY_FILE"]).touch()
