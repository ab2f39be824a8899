"""People supported by a service (clients), their episodes of support (cases) and contacts.
The clients issue grows this; identifiers in URLs are UUIDs, never sequences."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models

from linkwork.accounts.models import Organisation


class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    practice = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="registered_clients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["service", "nhs_number"], name="client_service_nhs_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class CaseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class ClosureReason(models.TextChoices):
    GOALS_MET = "goals_met", "Goals met"
    CONNECTED = "connected", "Connected to community support"
    MOVED_AWAY = "moved_away", "Moved away"
    DISENGAGED = "disengaged", "Disengaged after several attempts"
    STATUTORY = "statutory", "Referred to statutory service"
    DECLINED = "declined", "Declined after first contact"
    DIED = "died", "Died"


class Case(models.Model):
    """One episode of support from one accepted referral."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases")
    link_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.ACTIVE)
    start_date = models.DateField()
    window_end = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    closing_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["link_worker", "status"], name="case_worker_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_on__isnull=False),
                name="case_closed_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(window_end__gte=models.F("start_date")), name="case_window_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Case for {self.client}"

    @staticmethod
    def window_end_for(start: date, weeks: int) -> date:
        return start + timedelta(weeks=weeks)


class ContactMethod(models.TextChoices):
    PRACTICE = "practice", "Face to face at the practice"
    HOME_VISIT = "home_visit", "Home visit"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video"
    TEXT_EMAIL = "text_email", "Text or email"
    GROUP = "group", "Group session"
    ACCOMPANIED = "accompanied", "Accompanied to an activity"


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=ContactMethod.choices)
    duration_minutes = models.PositiveSmallIntegerField(default=0)
    attempted_only = models.BooleanField(
        default=False, help_text="Tried but did not reach the person: does not count toward the 6 to 12"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["case", "at"], name="contact_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} on {self.at:%d %b %Y}"
