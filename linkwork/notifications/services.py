from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from linkwork.notifications.models import Notification


@transaction.atomic
def notification_create(*, user: Any, title: str, link: str = "") -> Notification:
    """Add an in-app notification for ``user``. Titles carry no clinical detail."""
    return Notification.objects.create(user=user, title=title[:200], link=link[:300])


def notifications_purge_read(*, older_than_days: int = 90) -> int:
    """Delete notifications read more than ``older_than_days`` ago; returns how many. Idempotent."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Notification.objects.filter(read_at__lt=cutoff).delete()
    return deleted
