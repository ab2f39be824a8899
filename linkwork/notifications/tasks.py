"""Celery tasks: a thin interface over services. They take ids, never model instances."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task
from django.contrib.auth import get_user_model

from linkwork.notifications import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def notify_user(user_id: str | UUID, title: str, link: str = "") -> int:
    user = get_user_model().objects.get(pk=user_id)
    return services.notification_create(user=user, title=title, link=link).pk


@shared_task
def purge_read_notifications() -> int:
    return services.notifications_purge_read()
