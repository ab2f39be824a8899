"""A real Celery worker, on the real broker (Redis when REDIS_URL is set, the filesystem broker otherwise),
writing to the real test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from linkwork.notifications import tasks
from linkwork.notifications.models import Notification
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    host = s["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{s['USER']}@/{s['NAME']}?host={host}"
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "linkwork.settings"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "linkwork",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_queued_task_is_run_by_a_real_worker(worker_queue: str) -> None:
    user = factories.UserFactory()
    tasks.notify_user.apply_async(args=[str(user.pk), "Referral SP-2026-000001 accepted"], queue=worker_queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Notification.objects.filter(user=user).exists():
            break
        time.sleep(0.25)
    notification = Notification.objects.get(user=user)
    assert notification.title == "Referral SP-2026-000001 accepted"


def test_tasks_run_eagerly_when_configured(settings, db) -> None:
    from linkwork.celery import app

    user = factories.UserFactory()
    app.conf.task_always_eager = True
    try:
        tasks.notify_user.delay(str(user.pk), "Hello")
    finally:
        app.conf.task_always_eager = False
    assert Notification.objects.filter(user=user, title="Hello").exists()


def test_purging_read_notifications_is_idempotent(db) -> None:
    import datetime as dt

    from django.utils import timezone

    user = factories.UserFactory()
    old = Notification.objects.create(user=user, title="old", read_at=timezone.now() - dt.timedelta(days=91))
    keep = Notification.objects.create(user=user, title="unread")
    assert tasks.purge_read_notifications() == 1
    assert tasks.purge_read_notifications() == 0
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert Notification.objects.filter(pk=keep.pk).exists()
