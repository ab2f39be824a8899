"""Writes to notifications and reminders, and the emails that carry them.

Nothing here knows what a case or a referral is: ``outcomes/reminders.py`` works out what is due and hands it
down as ``ReminderSpec`` rows, which ``reminders_sync`` turns into reminders (once each, whatever happens).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone

from linkwork.accounts.models import Organisation, User
from linkwork.notifications.models import (
    Digest,
    Notification,
    NotificationPreference,
    Reminder,
    ReminderSettings,
    ReminderStatus,
    Rule,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_create(*, user: Any, title: str, link: str = "") -> Notification:
    """Add an in-app notification for ``user``. Titles carry no clinical detail."""
    return Notification.objects.create(user=user, title=title[:200], link=link[:300])


def notifications_purge_read(*, older_than_days: int = 90) -> int:
    """Delete notifications read, and reminders cleared, more than ``older_than_days`` ago; returns how many
    notifications. Idempotent. Done reminders are kept: they are what stops a rule firing twice."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Notification.objects.filter(read_at__lt=cutoff).delete()
    Reminder.objects.filter(status=ReminderStatus.CLEARED, status_changed_at__lt=cutoff).delete()
    return deleted


# --- Reminders: what the rules produce -------------------------------------------------------------------
Key = tuple[str, UUID, dt.date, UUID]


@dataclass(frozen=True)
class ReminderSpec:
    """One reminder a rule says is due now, for one recipient."""

    rule: str
    object_kind: str
    object_id: UUID
    service_id: UUID
    due_on: dt.date
    recipient_id: UUID
    title: str
    subject: str
    link: str
    detail: str = ""
    urgent: bool = False

    @property
    def key(self) -> Key:
        return (self.rule, self.object_id, self.due_on, self.recipient_id)


@dataclass
class SyncResult:
    created: int = 0
    cleared: int = 0
    reopened: int = 0
    created_ids: list[int] | None = None


def reminders_sync(
    *,
    specs: Iterable[ReminderSpec],
    rules: Iterable[str],
    object_ids: Iterable[UUID] | None = None,
    recipient: Any = None,
    create: bool = True,
) -> SyncResult:
    """Make the reminders of ``rules`` match ``specs``, which must be *everything* those rules find due within
    the scope (all objects, or only ``object_ids``; all recipients, or only ``recipient``):

    - a spec with no reminder yet gets one (``create``); the unique constraint means a concurrent or repeated
      run inserts nothing more;
    - an open or snoozed reminder no spec asks for any more is cleared (its condition no longer holds);
    - a cleared one that is due again is reopened; one marked done stays done.

    A few queries whatever the number of reminders. Call it inside the caller's transaction."""
    wanted = {s.key: s for s in specs}
    rules = list(rules)
    existing = Reminder.objects.filter(rule__in=rules)
    if object_ids is not None:
        existing = existing.filter(object_id__in=list(object_ids))
    if recipient is not None:
        existing = existing.filter(recipient=recipient)
    wanted_objects = {k[1] for k in wanted}
    outstanding = [ReminderStatus.OPEN, ReminderStatus.SNOOZED]
    rows = existing.filter(Q(status__in=outstanding) | Q(object_id__in=wanted_objects)).values_list(
        "pk", "rule", "object_id", "due_on", "recipient_id", "status", "title", "detail"
    )
    result = SyncResult()
    seen: set[Key] = set()
    to_clear: list[int] = []
    to_reopen: list[int] = []
    to_retitle: list[Reminder] = []
    for pk, rule, object_id, due_on, recipient_id, status, title, detail in rows:
        key = (rule, object_id, due_on, recipient_id)
        seen.add(key)
        spec = wanted.get(key)
        if spec is None:
            if status in outstanding:
                to_clear.append(pk)
            continue
        if status == ReminderStatus.CLEARED:
            to_reopen.append(pk)
        if status != ReminderStatus.DONE and (title, detail) != (spec.title, spec.detail):
            to_retitle.append(Reminder(pk=pk, title=spec.title, detail=spec.detail))
    now = timezone.now()
    if to_clear:
        result.cleared = Reminder.objects.filter(pk__in=to_clear, status__in=outstanding).update(
            status=ReminderStatus.CLEARED, snoozed_until=None, status_changed_at=now
        )
    if to_reopen:
        result.reopened = Reminder.objects.filter(pk__in=to_reopen, status=ReminderStatus.CLEARED).update(
            status=ReminderStatus.OPEN, status_changed_at=now, emailed_at=None
        )
    if to_retitle:
        Reminder.objects.bulk_update(to_retitle, ["title", "detail"])
    new = [
        Reminder(
            rule=s.rule,
            recipient_id=s.recipient_id,
            service_id=s.service_id,
            object_kind=s.object_kind,
            object_id=s.object_id,
            due_on=s.due_on,
            title=s.title[:200],
            subject=s.subject[:200],
            detail=s.detail[:200],
            link=s.link[:300],
            urgent=s.urgent,
        )
        for key, s in wanted.items()
        if key not in seen
    ]
    if create and new:
        Reminder.objects.bulk_create(new, ignore_conflicts=True)
        result.created = len(new)
    return result


# Rules live above this layer; they register a function that re-checks one person's reminders, so the
# reminders page never shows something already dealt with (a contact logged a minute ago).
_rechecks: list[Callable[..., int]] = []


def reminder_recheck_register(check: Callable[..., int]) -> None:
    """Called once at start-up by the layer that owns the rules (outcomes)."""
    if check not in _rechecks:
        _rechecks.append(check)


def reminders_recheck(*, user: Any) -> int:
    """Clear ``user``'s outstanding reminders whose condition no longer holds. Returns how many."""
    return sum(check(user=user) for check in _rechecks)


@transaction.atomic
def reminder_mark_done(*, reminder: Reminder, by: Any) -> Reminder:
    """Mark one of ``by``'s own reminders done. The same rule does not fire again for the same due date."""
    if reminder.recipient_id != by.pk:
        raise ValidationError("This reminder belongs to someone else")
    if reminder.status == ReminderStatus.DONE:
        return reminder
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.DONE, snoozed_until=None, status_changed_at=timezone.now()
    )
    reminder.refresh_from_db()
    return reminder


@transaction.atomic
def reminder_snooze(*, reminder: Reminder, by: Any, until: dt.date) -> Reminder:
    """Hide one of ``by``'s reminders until ``until`` (a day after today). Raises ValidationError otherwise."""
    if reminder.recipient_id != by.pk:
        raise ValidationError("This reminder belongs to someone else")
    if reminder.status not in (ReminderStatus.OPEN, ReminderStatus.SNOOZED):
        raise ValidationError("This reminder has already been dealt with")
    if until <= timezone.localdate():
        raise ValidationError({"until": "Snooze until a date in the future"})
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.SNOOZED, snoozed_until=until, status_changed_at=timezone.now()
    )
    reminder.refresh_from_db()
    return reminder


@transaction.atomic
def preference_save(*, user: Any, email_digest: bool) -> NotificationPreference:
    """Record whether ``user`` wants the daily digest. Urgent alerts are emailed regardless."""
    pref, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"email_digest": email_digest})
    return pref


REMINDER_SETTING_FIELDS = (
    "triage_escalate_working_days",
    "first_contact_working_days",
    "no_contact_days",
    "ending_soon_days",
    "ending_soon_below_contacts",
    "review_at_contacts",
    "window_ended",
    "follow_up_measure",
    "community_review",
    "home_visit_grace_minutes",
    "duty_contact",
)


@transaction.atomic
def reminder_settings_save(
    *, service: Organisation, by: Any, triage_alert_working_days: int, **fields: Any
) -> ReminderSettings:
    """Save a service's reminder rules (and the triage highlight the first triage reminder follows). The duty
    contact must work in the service."""
    from linkwork.accounts.access import SERVICE_ROLES
    from linkwork.accounts.models import Membership

    unknown = set(fields) - set(REMINDER_SETTING_FIELDS)
    if unknown:
        raise TypeError(f"unexpected reminder settings: {sorted(unknown)}")
    duty = fields.get("duty_contact")
    if (
        duty is not None
        and not Membership.objects.filter(user=duty, organisation=service, role__in=SERVICE_ROLES).exists()
    ):
        raise ValidationError({"duty_contact": "Choose someone who works in this service"})
    Organisation.objects.filter(pk=service.pk).update(triage_alert_working_days=triage_alert_working_days)
    service.triage_alert_working_days = triage_alert_working_days
    obj, _ = ReminderSettings.objects.update_or_create(service=service, defaults={**fields, "updated_by": by})
    return obj


# --- Email ---------------------------------------------------------------------------------------------------
def _absolute(link: str) -> str:
    return f"{settings.SITE_URL}{link}" if link.startswith("/") else link


# The claim: inserted before the send and committed at once, or nothing if that person's digest went already
# today or a concurrent run has claimed it. ON CONFLICT needs no savepoint to survive a clash, as catching the
# IntegrityError would. The table name is a constant.
DIGEST_CLAIM_SQL = f"""
INSERT INTO {Digest._meta.db_table} (user_id, day, items, sent_at) VALUES (%s, %s, %s, %s)
ON CONFLICT ON CONSTRAINT digest_once_a_day DO NOTHING RETURNING id
"""  # noqa: S608  # nosec B608
DIGEST_UNCLAIM_SQL = f"DELETE FROM {Digest._meta.db_table} WHERE id = %s"  # noqa: S608  # nosec B608


DIGEST_TEMPLATE = "notifications/email/digest.txt"


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Send today's digest to everyone with reminders due, once a day, from ``LINKWORK_DIGEST_TIME`` (Europe/
    London) on. One email per person listing every reminder due (never one per reminder); none to people who
    have opted out; urgent alerts are not repeated here. Safe to run often and concurrently: the Digest row is the
    claim, inserted (and committed) before the send and deleted again if the send fails, so a failed send is
    retried by the next run and a sent one is never sent again. Returns how many were sent.

    The claim is its own statement, not a transaction around the send: a transaction's BEGIN and COMMIT were two
    more round trips a person, a quarter of the run at ICB scale (make bench). The price: if the worker process
    is killed between a claim and its send (a window of a millisecond), that person's digest is not sent that
    day; their reminders are still on their reminders page. Sending inside a transaction had the opposite risk,
    killed between the send and the commit: the same digest twice.

    The reminders are read as plain values and the people once each (names and addresses only): building a
    model, with its recipient, for each of the day's reminders was a third of the run at ICB scale."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.time() < settings.LINKWORK_DIGEST_TIME:
        return 0
    day = local.date()
    due = (
        Reminder.objects.active(day)
        .filter(urgent=False, recipient__is_active=True)
        .exclude(recipient__email="")
        .exclude(recipient__notification_preference__email_digest=False)
        .exclude(recipient__in=Digest.objects.filter(day=day).values("user"))
        .order_by("recipient_id", "rule", "due_on", "pk")
        .values_list("recipient_id", "rule", "subject", "due_on", "link")
    )
    # Each person's lines, under their headings, written as they are read: the labels once for the run, and
    # each due date's words once (a day's reminders share a few dozen dates).
    labels = dict(Rule.choices)
    dates: dict[dt.date, str] = {}
    by_user: dict[UUID, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for recipient_id, rule, subject, due_on, link in due:
        when = dates.get(due_on)
        if when is None:
            when = dates[due_on] = f"{due_on.day} {due_on:%B %Y}"
        by_user[recipient_id][labels.get(rule, rule)].append(f"- {subject}, due {when}: {_absolute(link)}\n")
    people = User.objects.only("id", "email", "full_name").in_bulk(list(by_user))
    sent = 0
    links = {
        "reminders_url": _absolute(reverse("notifications:inbox")),
        "preferences_url": _absolute(reverse("notifications:preferences")),
    }
    # One connection to the mail server for the whole run, not one per email (with SMTP, a TCP and TLS
    # handshake each). If it drops, that person's send fails and is retried by the next run, like any other.
    template = get_template(DIGEST_TEMPLATE)  # looked up once for the run, not once per person
    with get_connection(fail_silently=False) as mail:
        for user_id, groups in by_user.items():
            count = sum(len(lines) for lines in groups.values())
            with connection.cursor() as cursor:
                cursor.execute(DIGEST_CLAIM_SQL, [user_id, day, count, timezone.now()])
                claim = cursor.fetchone()
            if claim is None:
                continue  # sent already today, or being sent by a concurrent run
            try:
                _send_digest(people[user_id], groups, count, links, mail, template)
            except Exception:
                logger.exception("Could not send the reminder digest to user %s; the next run retries", user_id)
                with connection.cursor() as cursor:
                    cursor.execute(DIGEST_UNCLAIM_SQL, [claim[0]])
                continue
            sent += 1
    return sent


def _send_digest(
    user: Any, groups: dict[str, list[str]], count: int, links: dict[str, str], mail: Any, template: Any
) -> None:
    """One person's digest. The lists of reminders, under their headings (``groups``: heading to lines), are
    written by ``digests_send``, and the template lays out the rest: the template's loops over every line were
    the larger part of a run's time at ICB scale (make bench: 340 people, some 90 reminders each)."""
    context = {
        "user": user,
        "count": count,
        "groups": "".join(f"\n{label} ({len(lines)})\n{''.join(lines)}" for label, lines in sorted(groups.items())),
        "service_name": settings.SERVICE_NAME,
        **links,
    }
    subject = f"{settings.SERVICE_NAME}: {count} reminder{'s' if count != 1 else ''} due"
    body = template.render(context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email], connection=mail)


def urgent_alerts_send(*, limit: int = 200) -> int:
    """Email every urgent reminder not yet emailed, straight away and whatever the person's digest choice.
    Each is claimed (row lock, skip locked) and marked in the same transaction as the send: two workers never
    send the same alert, and a send that fails is retried by the next run. Returns how many were sent."""
    pending = list(
        Reminder.objects.filter(urgent=True, emailed_at=None, status=ReminderStatus.OPEN)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in pending:
        try:
            with transaction.atomic():
                reminder = (
                    Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("recipient")
                    .filter(pk=pk, emailed_at=None, status=ReminderStatus.OPEN)
                    .first()
                )
                if reminder is None:
                    continue
                user = reminder.recipient
                if user.is_active and user.email:
                    body = render_to_string(
                        "notifications/email/urgent.txt",
                        {"reminder": reminder, "url": _absolute(reminder.link), "service_name": settings.SERVICE_NAME},
                    )
                    send_mail(
                        subject=f"URGENT: {reminder.title}",
                        message=body,
                        from_email=None,
                        recipient_list=[user.email],
                    )
                Reminder.objects.filter(pk=pk).update(emailed_at=timezone.now())
        except Exception:
            logger.exception("Could not email urgent reminder %s; the next run retries", pk)
            continue
        sent += 1
    return sent
