"""Celery queues by urgency: every task of ours has a route, home visit alerts go to ``urgent`` and long scheduled
jobs to ``bulk``, and with a worker per queue (as production runs them) an alert is sent while the bulk worker is
busy with a long job."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from clients.models import HomeVisit
from linkwork.accounts import tasks as account_tasks
from linkwork.celery import BULK, DEFAULT, QUEUES, TASK_QUEUES, URGENT, app
from linkwork.notifications import tasks as notification_tasks
from linkwork.notifications.models import Reminder, Rule
from outcomes import tasks as outcome_tasks
from referrals import tasks as referral_tasks
from tests import factories
from tests.conftest import World
from tests.workers import worker_process

ROOT = Path(__file__).resolve().parent.parent


def queue_of(task_name: str) -> str:
    """The queue ``apply_async`` puts this task on (the route Celery itself works out)."""
    return app.amqp.router.route({}, task_name)["queue"].name


def our_tasks() -> set[str]:
    """Every task registered by this project's apps (not Celery's own, not a library's)."""
    app.loader.import_default_modules()  # as a worker does: autodiscovers every app's tasks.py
    packages = {c.name.split(".")[0] for c in apps.get_app_configs() if Path(c.path).is_relative_to(ROOT)}
    return {name for name in app.tasks if name.split(".")[0] in packages}


def test_every_task_has_an_explicit_route() -> None:
    ours = our_tasks()
    assert ours, "no tasks found: autodiscovery is broken"
    assert sorted(ours - set(TASK_QUEUES)) == [], "give each new task a queue in TASK_QUEUES (linkwork/celery.py)"
    assert sorted(set(TASK_QUEUES) - ours) == [], "TASK_QUEUES names a task that no longer exists"
    assert set(TASK_QUEUES.values()) <= set(QUEUES)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        # Lone-worker safety: within the minute, whatever else is running.
        (outcome_tasks.alert_overdue_home_visits, URGENT),
        (notification_tasks.send_urgent_alerts, URGENT),
        # Someone is waiting for these now.
        (referral_tasks.send_referrer_notice, DEFAULT),
        (referral_tasks.send_pending_referrer_notices, DEFAULT),
        (notification_tasks.notify_user, DEFAULT),
        # Set-based scheduled jobs that may take minutes at ICB scale.
        (notification_tasks.send_digests, BULK),
        (notification_tasks.purge_read_notifications, BULK),
        (outcome_tasks.scan_reminders, BULK),
        (outcome_tasks.apply_retention, BULK),
        (account_tasks.deactivate_unused_accounts, BULK),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_each_task_goes_to_the_queue_for_its_urgency(task, queue: str) -> None:
    assert queue_of(task.name) == queue


def test_scheduled_jobs_are_routed_like_queued_ones() -> None:
    """Beat sends through the same routes: the minute-by-minute alert scan is urgent, the scans and the digest
    are bulk."""
    schedule = app.conf.beat_schedule
    assert queue_of(schedule["home-visit-alerts"]["task"]) == URGENT
    for entry in ("scan-reminders", "send-digests", "apply-retention", "purge-read-notifications"):
        assert queue_of(schedule[entry]["task"]) == BULK, entry
    assert all(entry["task"] in TASK_QUEUES for entry in schedule.values())


def test_a_task_without_a_route_goes_to_default_and_a_worker_without_q_consumes_every_queue() -> None:
    assert queue_of("linkwork.some_future_task") == DEFAULT == app.conf.task_default_queue
    # What `celery -A linkwork worker` consumes when started without -Q (development).
    assert set(app.amqp.queues.consume_from) == {URGENT, DEFAULT, BULK} == set(QUEUES)


def test_make_run_starts_a_worker_on_every_queue() -> None:
    source = (ROOT / "scripts" / "run_local.py").read_text()
    assert '"-Q",\n                ",".join(QUEUES),' in source


def _overdue_home_visit(world: World) -> None:
    referral = factories.AcceptedReferralFactory(service=world.service, case__link_worker=world.link_worker)
    checked_in = timezone.now() - dt.timedelta(minutes=90)  # expected 60 minutes, 15 minutes' grace: overdue
    HomeVisit.objects.create(
        case=referral.case,
        link_worker=world.link_worker,
        planned_start=checked_in,
        expected_minutes=60,
        checked_in_at=checked_in,
    )


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_home_visit_alert_is_sent_while_the_bulk_worker_is_busy(world: World, tmp_path: Path) -> None:
    """Production's layout in miniature: worker-urgent consumes ``urgent`` alone, worker-bulk ``bulk``. A long
    bulk job is queued first and is running; the alert queued after it is sent within seconds, while the bulk
    job is still running. (On this test's own copies of the queues, so nothing else on the broker is touched.)"""
    _overdue_home_visit(world)
    run = uuid.uuid4().hex[:8]
    queues = {name: f"{name}-test-{run}" for name in QUEUES}
    job, outbox = tmp_path / "job", tmp_path / "mail"
    job.mkdir()
    outbox.mkdir()
    settings_env = {"DJANGO_SETTINGS_MODULE": "tests.queue_worker"}
    urgent_log, bulk_log = tmp_path / "urgent.log", tmp_path / "bulk.log"
    with (
        worker_process(
            urgent_log,
            queues[URGENT],
            EMAIL_URL=f"filemail:///{outbox}",
            LINKWORK_TEST_READY_FILE=str(tmp_path / "urgent-ready"),
            **settings_env,
        ),
        worker_process(bulk_log, queues[BULK], LINKWORK_TEST_READY_FILE=str(tmp_path / "bulk-ready"), **settings_env),
    ):
        try:
            assert _wait_for((tmp_path / "urgent-ready").exists, 60), urgent_log.read_text()
            assert _wait_for((tmp_path / "bulk-ready").exists, 60), bulk_log.read_text()
            bulk = queues[queue_of(outcome_tasks.scan_reminders.name)]
            app.send_task("tests.long_bulk_job", args=[str(job), 120], queue=bulk)
            assert _wait_for((job / "started").exists, 30), bulk_log.read_text()

            queued = time.monotonic()
            outcome_tasks.alert_overdue_home_visits.apply_async(
                queue=queues[queue_of(outcome_tasks.alert_overdue_home_visits.name)]
            )
            sent = _wait_for(
                lambda: Reminder.objects.filter(rule=Rule.HOME_VISIT_OVERDUE, emailed_at__isnull=False).count() == 2,
                30,
            )
            took = time.monotonic() - queued
            assert sent, urgent_log.read_text()
            assert took < 10, f"the alert took {took:.1f} s"
            assert not (job / "finished").exists(), "the bulk job should still be running"
            # The manager and the supervisor. Django's file backend writes one file per connection, which may
            # carry both messages: count the messages, not the files.
            mail = "".join(f.read_text() for f in outbox.iterdir())
            assert len(re.findall(r"^Subject: ", mail, re.MULTILINE)) == 2, mail
        finally:
            (job / "stop").touch()  # the bulk job ends, so its worker stops at once
