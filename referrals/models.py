"""Referrals into a social prescribing service: how they arrive, their triage and the loop back."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Upper

from linkwork.accounts.models import Organisation

SNOMED_REFERRED = "871731000000106"  # Referral to social prescribing service (procedure)
SNOMED_DECLINED = "871711000000103"  # Social prescribing declined (situation)
SNOMED_LABELS = {
    SNOMED_REFERRED: "Referral to social prescribing service",
    SNOMED_DECLINED: "Social prescribing declined",
}


class SnomedCode(models.TextChoices):
    """The national codes a practice records in the GP record (PCN DES), labelled with their fully specified
    names; ``SNOMED_LABELS`` holds the preferred terms shown to people and written in files."""

    REFERRED = SNOMED_REFERRED, "Referral to social prescribing service (procedure)"
    DECLINED = SNOMED_DECLINED, "Social prescribing declined (situation)"


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
    CLOSED = "closed", "Closed"


class Channel(models.TextChoices):
    STAFF = "staff", "Practice or agency staff"
    AGENCY_LINK = "agency_link", "Agency referral link"
    SELF = "self", "Self-referral"
    PHONE = "phone", "Phone call to the service"
    LETTER = "letter", "Letter or email to the service"
    API = "api", "GP or agency system (FHIR API)"


class ContactPreference(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Not eligible for this service"
    STATUTORY = "statutory", "Needs a statutory or clinical service"
    PERSON_DECLINED = "person_declined", "The person declined"
    NO_CONTACT = "no_contact", "Could not contact after several attempts"
    DUPLICATE = "duplicate", "Duplicate referral"


# SP-2026-000123: "SP", the year in England when the referral arrived, and the next number of the sequence, at least
# six digits. A database function, so every way a referral is made, in the app or not, numbers it the same.
NEXT_REFERENCE = models.Func(function="referral_next_reference", output_field=models.CharField())


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Numbered by PostgreSQL as the row goes in (migration 0007's referral_next_reference(), from a sequence), and
    # handed back by the INSERT's RETURNING: no statement of its own to fetch a number first.
    reference = models.CharField(max_length=20, unique=True, db_default=NEXT_REFERENCE)
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="referrals_received")
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.STAFF)
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
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Service staff who typed in a referral received by phone or letter",
    )
    referrer_name = models.CharField(max_length=150, blank=True)
    referrer_role = models.CharField(max_length=100, blank=True)
    referrer_organisation_name = models.CharField(max_length=200, blank=True)
    referrer_phone = models.CharField(max_length=30, blank=True)
    referrer_email = models.EmailField(blank=True)

    # The person
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    contact_preference = models.CharField(max_length=10, choices=ContactPreference.choices, blank=True)
    contact_times = models.CharField("best times to contact", max_length=200, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    language = models.CharField(max_length=100, blank=True)
    accessibility_needs = models.TextField(blank=True)

    # The referral
    reasons = ArrayField(models.CharField(max_length=30, choices=ReferralReason.choices), default=list)
    reason_other = models.CharField(max_length=200, blank=True)
    hopes = models.TextField("what the person hopes for", blank=True)
    risk_information = models.TextField(blank=True)
    consent_given = models.BooleanField(default=False)

    # Triage and the loop back
    status = models.CharField(max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    received_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    decline_note = models.TextField(blank=True)
    snomed_code = models.CharField("SNOMED CT concept", max_length=20, blank=True)
    case = models.ForeignKey("clients.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    outcome_summary = models.TextField(
        blank=True, help_text="Written for the GP record at closure; never the case notes"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["received_at"]
        indexes = [
            models.Index(fields=["service", "status", "received_at"], name="referral_queue_idx"),
            models.Index(fields=["service", "nhs_number"], name="referral_nhs_idx"),
            models.Index(fields=["source_organisation", "received_at"], name="referral_source_idx"),
            # Reports over a period for one or many services: the date range first.
            models.Index(fields=["received_at", "service"], name="referral_received_idx"),
            # The triage queue flags a referral that may duplicate another waiting one: the same NHS number, or the
            # same name and date of birth, in the same service. Without these, each line of the queue read every
            # waiting referral of its service again through referral_queue_idx, and every dead row version left
            # there by decisions not yet vacuumed (EXPLAIN ANALYZE, scale 10, 34,852 dead rows: 24,945 buffers,
            # 25 ms for a queue of 15; with them 59 buffers, 0.3 ms).
            models.Index(
                fields=["service", "nhs_number"],
                condition=models.Q(status="new") & ~models.Q(nhs_number=""),
                name="referral_new_nhs_idx",
            ),
            models.Index(
                models.F("service"),
                "date_of_birth",
                Upper("given_name"),
                Upper("family_name"),
                condition=models.Q(status="new"),
                name="referral_new_person_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(consent_given=True), name="referral_needs_consent"),
            models.CheckConstraint(
                condition=~models.Q(status="accepted") | models.Q(case__isnull=False),
                name="referral_accepted_has_case",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status == ReferralStatus.NEW

    def reason_labels(self) -> list[str]:
        labels = [ReferralReason(r).label for r in self.reasons if r in ReferralReason.values]
        if self.reason_other:
            labels = [label for label in labels if label != "Other"] + [f"Other: {self.reason_other}"]
        return labels

    @property
    def snomed_label(self) -> str:
        return SNOMED_LABELS.get(self.snomed_code, "")

    @property
    def gp_sharing_choice(self) -> str:
        """What the person agreed may go back to their GP and referrer (clients.ShareWithGP). A declined
        referral has no client: only its outcome and code go back, as for "codes"."""
        from clients.models import ShareWithGP

        choice = getattr(self, "gp_sharing", None)
        if choice is None and self.case_id is not None:
            choice = self.case.client.share_with_gp
        return choice or ShareWithGP.CODES

    @property
    def referrer_sees_code(self) -> bool:
        from clients.models import ShareWithGP

        return self.gp_sharing_choice in (ShareWithGP.CODES, ShareWithGP.SUMMARY)

    @property
    def referrer_sees_summary(self) -> bool:
        from clients.models import ShareWithGP

        return self.gp_sharing_choice == ShareWithGP.SUMMARY


class ReferralEvent(models.Model):
    """Status history: who did what to a referral, when and why. Append-only by convention and by service."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Referral received"
        ACCEPTED = "accepted", "Accepted and assigned"
        MERGED = "merged", "Merged into an existing case"
        DECLINED = "declined", "Declined"
        REDIRECTED = "redirected", "Redirected to another service"
        CLOSED = "closed", "Case closed"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_status = models.CharField(max_length=12, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ReferralStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class AgencyLink(models.Model):
    """A long unguessable referral URL for an agency without accounts. Only a hash of the token is kept:
    the link is shown once, when it is made; a service manager can revoke it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="agency_links")
    agency_name = models.CharField(max_length=200)
    agency = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="referral_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["agency_name"]

    def __str__(self) -> str:
        return f"Referral link for {self.agency_name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ReferrerNotice(models.Model):
    """A decision the referrer is to be told about: a transactional outbox. The row is written in the same
    transaction as the decision, so it exists exactly when the decision does; the task queued after commit sends
    it, and a scheduled sweep sends any that the broker (down) or a worker (killed) lost. ``sent_at`` is set in
    the transaction that sends it, so it is sent once."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CLOSED = "closed", "Closed"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["referral", "kind"], name="referrer_notice_once")]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at=None), name="referrer_notice_unsent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} notice for {self.referral_id}"


class GPRecording(models.Model):
    """A practice has recorded a coded event (``referrals.coded_events``) in its GP record: it leaves the
    practice's list of events to record. One row per referral and code, written once and never changed
    (``referrals.coded_event_services``); a mistake is put right in the GP record, not here."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="gp_recordings")
    code = models.CharField("SNOMED CT concept", max_length=20, choices=SnomedCode.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["referral", "code"], name="gp_recording_once")]

    def __str__(self) -> str:
        return f"{self.code} recorded for {self.referral_id}"
