"""Reads of notifications and reminders: always the requesting user's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from linkwork.accounts.access import SERVICE_ROLES, access_for
from linkwork.accounts.models import Organisation, Role
from linkwork.notifications.models import (
    Notification,
    NotificationPreference,
    Reminder,
    ReminderSettings,
    ReminderStatus,
)


def _count(queryset: Any) -> Coalesce:
    """SELECT count(*) of a correlated queryset, as an expression (no GROUP BY)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# Stand-ins for the user and the day while the header count's SQL is compiled (once a process, below).
_SOMEONE = UUID(int=0)
_SOME_DAY = dt.date(1, 1, 1)


def _unread_query(user_id: UUID, today: dt.date) -> Any:
    notes = Notification.objects.filter(user=OuterRef("pk"), read_at=None)
    reminders = Reminder.objects.active(today).filter(recipient=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .annotate(n=_count(notes) + _count(reminders))
        .values_list("n", flat=True)
        .order_by()[:1]
    )


@lru_cache(maxsize=1)
def _unread_sql() -> tuple[str, tuple[Any, ...]]:
    """The header count's SQL, compiled from the ORM query once a process: building and compiling its two
    correlated subqueries cost more than running them (~1.2 ms of every page), and every page shows the count."""
    sql, params = _unread_query(_SOMEONE, _SOME_DAY).query.sql_with_params()
    if _SOMEONE not in params or _SOME_DAY not in params:
        raise RuntimeError("The unread count's parameters are no longer the user and the day")
    return sql, tuple(params)


def unread_count(*, user: Any) -> int:
    """Unread notifications plus reminders due, for the header: one query."""
    today = timezone.localdate()
    sql, params = _unread_sql()
    values = [user.pk if p == _SOMEONE else today if p == _SOME_DAY else p for p in params]
    with connections[router.db_for_read(Notification)].cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return row[0] if row else 0


NOTIFICATIONS_PER_PAGE = 20


def notifications_for(*, user: Any) -> QuerySet[Notification]:
    """The user's own notifications, newest first, for the page to show a page at a time
    (``linkwork.pagination``): a hundred at once, each with its form, was half of the page's time."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


@dataclass
class ReminderLists:
    urgent: list[Reminder]
    due: list[Reminder]
    snoozed: list[Reminder]


def reminders_for(*, user: Any, today: dt.date | None = None, limit: int = 300) -> ReminderLists:
    """The user's outstanding reminders: urgent alerts first, then what is due (oldest first), then what is
    snoozed to a later day. One query."""
    today = today or timezone.localdate()
    rows = list(
        Reminder.objects.filter(recipient=user, status__in=[ReminderStatus.OPEN, ReminderStatus.SNOOZED]).order_by(
            "-urgent", "due_on", "pk"
        )[:limit]
    )
    lists = ReminderLists([], [], [])
    for r in rows:
        if r.is_snoozed_on(today):
            lists.snoozed.append(r)
        elif r.urgent:
            lists.urgent.append(r)
        else:
            lists.due.append(r)
    return lists


def reminder_for_user(user: Any, reminder_id: int) -> Reminder:
    """One of the user's own reminders; anyone else's is a 404 (its existence is not leaked)."""
    reminder = Reminder.objects.filter(pk=reminder_id, recipient=user).first()
    if reminder is None:
        raise Http404
    return reminder


def preference_for(*, user: Any) -> NotificationPreference:
    """The user's email preference (the default, unsaved, if they never chose)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def managed_services(*, user: Any) -> list[Organisation]:
    """Services whose reminder rules the user may change (as their service manager)."""
    return access_for(user).services(Role.SERVICE_MANAGER)


def service_for_manager(user: Any, service_id: UUID) -> Organisation:
    """A service the user works in (404 otherwise); changing its rules needs its service manager (403)."""
    access = access_for(user)
    if service_id not in access.service_ids(*SERVICE_ROLES):
        raise Http404
    if service_id not in access.service_ids(Role.SERVICE_MANAGER):
        raise PermissionDenied
    return Organisation.objects.get(pk=service_id)


def settings_for(*, service: Organisation) -> ReminderSettings:
    """The service's reminder rules (the defaults, unsaved, if it never changed them)."""
    return ReminderSettings.objects.filter(service=service).first() or ReminderSettings(service=service)
