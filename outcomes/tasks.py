"""Celery tasks for reminders and the retention schedule: a thin interface over ``outcomes.reminders``,
``outcomes.privacy`` and the notification services.

Every job is idempotent (a unique constraint and an advisory lock for reminders; claimed rows for retention), so
they are acknowledged late and time-limited, and the reminder jobs are retried with backoff on transient errors;
the beat schedule is in ``linkwork/celery.py``.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from linkwork.notifications import services as notification_services
from linkwork.notifications.tasks import TRANSIENT
from outcomes import privacy, reminders


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3, acks_late=True, soft_time_limit=240, time_limit=300
)
def scan_reminders() -> dict[str, Any]:
    result = reminders.reminders_scan()
    if result is None:
        return {"skipped": "another scan is running"}
    return {"created": result.created, "cleared": result.cleared, "reopened": result.reopened}


@shared_task(
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=20,
    max_retries=2,
    acks_late=True,
    soft_time_limit=45,
    time_limit=55,
)
def alert_overdue_home_visits() -> int:
    """Raise urgent alerts for home visits not checked out in time, then email them at once."""
    reminders.home_visit_alerts_scan()
    return notification_services.urgent_alerts_send()


@shared_task(acks_late=True, soft_time_limit=1700, time_limit=1800)
def apply_retention() -> dict[str, int]:
    """Anonymise everyone past the retention period (``outcomes.privacy.retention_apply``): nightly, idempotent,
    in batches, each its own transaction, so a run cut short keeps what it did and the next one carries on."""
    result = privacy.retention_apply()
    return {"due": result.due, "anonymised": result.anonymised}
