"""Celery tasks for referrals: a thin interface over services, taking ids.

Telling the referrer goes through an outbox (``ReferrerNotice``): each task claims a notice and marks it sent in
the transaction that sends it, so both are safe to run twice, acknowledged late and retried.
"""

from __future__ import annotations

from celery import shared_task

from linkwork.notifications.tasks import TRANSIENT
from referrals import services


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5, acks_late=True, soft_time_limit=50, time_limit=60
)
def send_referrer_notice(notice_id: int) -> bool:
    """Queued after the decision commits. If it never runs (broker down) or fails for good, the sweep sends it."""
    return services.referrer_notice_send(notice_id=notice_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def send_pending_referrer_notices() -> int:
    """The sweep: every notice not yet sent, whatever lost it."""
    return services.referrer_notices_send_pending()
