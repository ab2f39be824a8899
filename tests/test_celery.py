"""A real Celery worker, on the real broker (Redis when REDIS_URL is set, the filesystem broker otherwise),
writing to the real test database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkwork.notifications import tasks
from linkwork.notifications.models import Notification
from tests import factories
from tests.workers import celery_worker


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[str]:
    with celery_worker(tmp_path / "worker.log") as queue:
        yield queue


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
