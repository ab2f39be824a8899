"""Referrals into a social prescribing service. The referrals issue adds the form, triage and loop back."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from linkwork.accounts.models import Organisation


class ReferralReason(models.TextChoices):
    LONELINESS = "loneliness", "Loneliness or isolation"
    LOW_MOOD = "low_mood", "Low mood, stress or anxiety (non-urgent)"
    MONEY = "money", "Money and debt"
    HOUSING = "housing", "Housing"
    EMPLOYMENT = "employment", "Employment or education"
    CARING = "caring", "Caring responsibilities"
    LONG_TERM_CONDITION = "long_term_condition", "Long-term condition support"
    PHYSICAL_ACTIVITY = "physical_activity", "Physical activity"
    WEIGHT = "weight", "Weight"
    BEREAVEMENT = "bereavement", "Bereavement"
    OTHER = "other", "Other"


class ReferralStatus(models.TextChoices):
    NEW = "new", "Waiting for triage"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REDIRECTED = "redirected", "Redirected"
    CLOSED = "closed", "Closed"


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="referrals_received")
    source_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_made",
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    reasons = ArrayField(models.CharField(max_length=30, choices=ReferralReason.choices), default=list)
    hopes = models.TextField("what the person hopes for", blank=True)
    status = models.CharField(max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    received_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    case = models.OneToOneField(
        "clients.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="referral"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["received_at"]
        indexes = [models.Index(fields=["service", "status", "received_at"], name="referral_queue_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
