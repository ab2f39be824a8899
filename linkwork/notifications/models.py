"""In-app notifications, reminders, the rule settings of each service and each person's email preference.

The reminder *rules* live in ``outcomes/reminders.py`` (the only layer that may read referrals, cases and the
directory); this app keeps what they produce. Reminders refer to what they are about by id only, never by
foreign key, so this low layer does not depend on the apps above it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from linkwork.accounts.models import Organisation


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user"], condition=models.Q(read_at=None), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Rule(models.TextChoices):
    TRIAGE_WAITING = "triage_waiting", "Referral waiting for triage"
    TRIAGE_ESCALATION = "triage_escalation", "Referral still waiting for triage (escalated)"
    FIRST_CONTACT = "first_contact", "First contact not made"
    NO_CONTACT = "no_contact", "No recent contact"
    ENDING_SOON = "ending_soon", "Support window ending soon"
    CONTACTS_REVIEW = "contacts_review", "Contacts reached: review the case"
    WINDOW_ENDED = "window_ended", "Support window ended: review needed"
    FOLLOW_UP_MEASURE = "follow_up_measure", "Follow-up wellbeing measure due"
    HOME_VISIT_OVERDUE = "home_visit_overdue", "Home visit not checked out"
    COMMUNITY_REVIEW = "community_review", "Directory entry due for its quality review"


class ObjectKind(models.TextChoices):
    REFERRAL = "referral", "Referral"
    CASE = "case", "Case"
    HOME_VISIT = "home_visit", "Home visit"
    COMMUNITY_SERVICE = "community_service", "Directory entry"


class ReminderStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    SNOOZED = "snoozed", "Snoozed"
    CLEARED = "cleared", "Cleared"  # the condition no longer holds: nothing left to do


class ReminderQuerySet(models.QuerySet["Reminder"]):
    def active(self, today: dt.date) -> ReminderQuerySet:
        """Open, or snoozed until ``today`` or earlier: what the person still has to do."""
        return self.filter(
            models.Q(status=ReminderStatus.OPEN) | models.Q(status=ReminderStatus.SNOOZED, snoozed_until__lte=today)
        )


class Reminder(models.Model):
    """Something one person has to do, produced by a rule for one referral, case, visit or directory entry.

    The unique constraint makes a rule fire once per (object, due date, recipient) however often, and however
    concurrently, the scan runs. ``title``, ``subject`` and ``link`` carry no clinical detail (initials and a
    reference only) and may be emailed; ``detail`` is shown in the app only.
    """

    rule = models.CharField(max_length=30, choices=Rule.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    service = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    object_kind = models.CharField(max_length=20, choices=ObjectKind.choices)
    object_id = models.UUIDField()
    due_on = models.DateField(help_text="The day it became due (Europe/London)")
    title = models.CharField(max_length=200)
    subject = models.CharField(max_length=200, help_text="Initials and a reference, or a directory entry's name")
    detail = models.CharField(max_length=200, blank=True, help_text="Shown in the app, never emailed")
    link = models.CharField(max_length=300)
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When an urgent alert was emailed")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "object_id", "due_on", "recipient"], name="reminder_fires_once"),
            models.CheckConstraint(
                condition=~models.Q(status="snoozed") | models.Q(snoozed_until__isnull=False),
                name="reminder_snooze_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "due_on"],
                condition=models.Q(status__in=["open", "snoozed"]),
                name="reminder_outstanding_idx",
            ),
            models.Index(
                fields=["rule", "object_id"],
                condition=models.Q(status__in=["open", "snoozed"]),
                name="reminder_rule_object_idx",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(urgent=True, emailed_at=None),
                name="reminder_urgent_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.subject})"

    def is_snoozed_on(self, today: dt.date) -> bool:
        return self.status == ReminderStatus.SNOOZED and self.snoozed_until is not None and self.snoozed_until > today


class ReminderSettings(models.Model):
    """One service's reminder rules. A service without a row uses these defaults. A number of 0 turns that
    reminder off. The triage reminder starts when a referral has waited longer than the service's
    ``triage_alert_working_days`` (the same number that highlights it in the triage queue)."""

    service = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="reminder_settings",
        limit_choices_to={"kind": "service"},
    )
    triage_escalate_working_days = models.PositiveSmallIntegerField(
        "escalate to the service manager after (working days)",
        default=10,
        help_text="A referral still waiting for triage after this many working days goes to the service manager.",
    )
    first_contact_working_days = models.PositiveSmallIntegerField(
        "first contact within (working days of acceptance)", default=5
    )
    no_contact_days = models.PositiveSmallIntegerField("remind after this many days without contact", default=14)
    ending_soon_days = models.PositiveSmallIntegerField("warn this many days before the window ends", default=14)
    ending_soon_below_contacts = models.PositiveSmallIntegerField("when fewer than this many contacts", default=6)
    review_at_contacts = models.PositiveSmallIntegerField("ask for a review at this many contacts", default=12)
    window_ended = models.BooleanField("remind when the window has ended on an open case", default=True)
    follow_up_measure = models.BooleanField("remind when a follow-up wellbeing measure is due", default=True)
    community_review = models.BooleanField("remind when a directory entry is due for its quality review", default=True)
    home_visit_grace_minutes = models.PositiveSmallIntegerField(
        "grace period after a home visit's expected end (minutes)",
        null=True,
        blank=True,
        help_text="Leave blank for the site default (LINKWORK_HOME_VISIT_GRACE_MINUTES).",
    )
    duty_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gets urgent home visit alerts (with the supervisors). Without one, the service managers do.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return f"Reminder settings for {self.service}"

    @property
    def grace_minutes(self) -> int:
        if self.home_visit_grace_minutes is not None:
            return self.home_visit_grace_minutes
        return settings.LINKWORK_HOME_VISIT_GRACE_MINUTES


class NotificationPreference(models.Model):
    """A person's choice about email. Urgent alerts are always emailed, whatever this says."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_digest = models.BooleanField("send me a daily email of my reminders", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Email preference of {self.user}"


class Digest(models.Model):
    """One daily email to one person. The unique constraint is the claim: a second run that day, or a
    concurrent one, inserts nothing and sends nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The day in Europe/London")
    items = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest for {self.user} on {self.day}"
