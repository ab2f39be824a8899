from __future__ import annotations

from typing import Any

from linkwork.notifications.models import Notification


def unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at=None).count()
