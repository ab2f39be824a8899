"""Celery tasks: a thin interface over services. They take ids, never model instances."""

from __future__ import annotations

from smtplib import SMTPException
from uuid import UUID

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError

from linkwork.notifications import services

# Worth another try: the database or the mail relay was briefly unreachable.
TRANSIENT = (OperationalError, InterfaceError, SMTPException, ConnectionError, TimeoutError)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def notify_user(user_id: str | UUID, title: str, link: str = "") -> int:
    """At least once: a worker lost between the commit and the acknowledgement makes it run again, and the
    notification show twice. Where that matters, write an outbox row in the request's transaction instead (as
    ``referrals.models.ReferrerNotice`` does)."""
    user = get_user_model().objects.get(pk=user_id)
    return services.notification_create(user=user, title=title, link=link).pk


@shared_task
def purge_read_notifications() -> int:
    return services.notifications_purge_read()


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3, acks_late=True, soft_time_limit=240, time_limit=300
)
def send_digests() -> int:
    """Idempotent (a Digest row per person per day is the claim), so acks_late and retries are safe."""
    return services.digests_send()


@shared_task(
    autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3, acks_late=True, soft_time_limit=50, time_limit=58
)
def send_urgent_alerts() -> int:
    """Idempotent (each alert is claimed and marked emailed in one transaction)."""
    return services.urgent_alerts_send()
