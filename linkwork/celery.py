"""The Celery app. Tasks live in each domain app's tasks.py; the beat schedule is defined here, once.

Web requests queue work with ``enqueue`` (or ``enqueue_on_commit``), which never raises: if the broker is down
the request still succeeds and the failure is logged. Work that must not be lost is written to the database in
the request's transaction first (the referrer's notices: ``referrals.models.ReferrerNotice``) and a scheduled
sweep does whatever the queued task did not. Scheduled jobs are set-based and idempotent, so a run missed while
the broker or a worker was down is simply done by the next one.

Tasks are acknowledged after they finish (``task_acks_late``), and a task whose worker process died is put back
on the queue (``task_reject_on_worker_lost``); a worker that dies outright has its tasks redelivered after the
broker's visibility timeout. So every task may run more than once, and each is written to be safe to.

Tasks go to one of three queues by urgency (``TASK_QUEUES``, below), so a home visit alert never waits behind a
digest run: production runs a worker for each (docs/scaling.md); ``celery -A linkwork worker`` without ``-Q``
consumes all three.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkwork.settings")

logger = logging.getLogger(__name__)

app = Celery("linkwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Queues by urgency. ``urgent``: lone-worker safety, which must go out within the minute; ``default``: what a
# person is waiting for now (notices of a decision, in-app notifications); ``bulk``: scheduled set-based jobs
# that may take minutes (scans, digests, retention, imports, reports). Every task of ours is named here: a task
# without a route would go to ``default``, and tests/test_queues.py fails until it has one.
URGENT, DEFAULT, BULK = "urgent", "default", "bulk"
QUEUES = (URGENT, DEFAULT, BULK)
TASK_QUEUES = {
    "outcomes.tasks.alert_overdue_home_visits": URGENT,
    "linkwork.notifications.tasks.send_urgent_alerts": URGENT,
    "referrals.tasks.send_referrer_notice": DEFAULT,
    "referrals.tasks.send_pending_referrer_notices": DEFAULT,
    "linkwork.notifications.tasks.notify_user": DEFAULT,
    "linkwork.notifications.tasks.send_digests": BULK,
    "linkwork.notifications.tasks.purge_read_notifications": BULK,
    "outcomes.tasks.scan_reminders": BULK,
    "outcomes.tasks.apply_retention": BULK,
    "linkwork.accounts.tasks.deactivate_unused_accounts": BULK,
    "linkwork.accounts.tasks.clear_expired_sessions": BULK,
}
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.conf.task_default_queue = DEFAULT
app.conf.task_routes = {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}

# Scheduled work: set-based and idempotent (see STYLE.md). Times are Europe/London (CELERY_TIMEZONE).
# ``expires`` drops a run that could not start in time (the next one does the same work), so a backlog built up
# while workers were away does not run the same scan many times over.
app.conf.beat_schedule = {
    # Accounts unused for 90 days are deactivated, and their service managers told.
    "deactivate-unused-accounts": {
        "task": "linkwork.accounts.tasks.deactivate_unused_accounts",
        "schedule": crontab(hour=2, minute=30),
    },
    "clear-expired-sessions": {
        "task": "linkwork.accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=45),
    },
    # People whose cases are all closed and whose last contact is past LINKWORK_RETENTION_YEARS are anonymised.
    "apply-retention": {
        "task": "outcomes.tasks.apply_retention",
        "schedule": crontab(hour=1, minute=45),
    },
    "purge-read-notifications": {
        "task": "linkwork.notifications.tasks.purge_read_notifications",
        "schedule": crontab(hour=3, minute=15),
    },
    # Lone-worker safety: a home visit not checked out in time is alerted within a minute.
    "home-visit-alerts": {
        "task": "outcomes.tasks.alert_overdue_home_visits",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every reminder rule. Reminders are by the day, so every 15 minutes is plenty; a contact logged clears its
    # reminder at once on the reminders page and everywhere else at the next scan.
    "scan-reminders": {
        "task": "outcomes.tasks.scan_reminders",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Referrers are told of decisions through an outbox: a notice whose task was lost (the broker was down when
    # it was queued, a worker died) is sent by this sweep.
    "send-referrer-notices": {
        "task": "referrals.tasks.send_pending_referrer_notices",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # The daily digest goes at LINKWORK_DIGEST_TIME; checking every 15 minutes (offset from the scan) means a
    # digest missed while the broker was down goes out as soon as it is back, and never twice.
    "send-digests": {
        "task": "linkwork.notifications.tasks.send_digests",
        "schedule": crontab(minute="5,20,35,50"),
        "options": {"expires": 14 * 60},
    },
}


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Queue ``task`` with these arguments (ids, not model instances). Never raises: a broker that is down
    must not fail the request that asked for the work. Returns whether the message was queued."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy={"max_retries": 1})
    except Exception:
        logger.exception("Could not queue %s: is the broker (REDIS_URL) down?", getattr(task, "name", task))
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (nothing is queued if it rolls back)."""
    from django.db import transaction

    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
