"""People supported by a service (clients), their episodes of support (cases) and contacts.
The clients issue grows this; identifiers in URLs are UUIDs, never sequences."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from linkwork.accounts.models import Organisation

PREFER_NOT = ("prefer_not", "Prefer not to say")


class EthnicCategory(models.TextChoices):
    """NHS Data Dictionary ethnic category (England)."""

    A = "A", "White: British"
    B = "B", "White: Irish"
    C = "C", "White: any other White background"
    D = "D", "Mixed: White and Black Caribbean"
    E = "E", "Mixed: White and Black African"
    F = "F", "Mixed: White and Asian"
    G = "G", "Mixed: any other mixed background"
    H = "H", "Asian or Asian British: Indian"
    J = "J", "Asian or Asian British: Pakistani"
    K = "K", "Asian or Asian British: Bangladeshi"
    L = "L", "Asian or Asian British: any other Asian background"
    M = "M", "Black or Black British: Caribbean"
    N = "N", "Black or Black British: African"
    P = "P", "Black or Black British: any other Black background"
    R = "R", "Other ethnic groups: Chinese"
    S = "S", "Other ethnic groups: any other ethnic group"
    Z = "Z", "Not stated (asked, prefers not to say)"
    NOT_KNOWN = "99", "Not known"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    PREFER_NOT = PREFER_NOT


class YesNoPreferNot(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    PREFER_NOT = PREFER_NOT


class ShareWithGP(models.TextChoices):
    NONE = "none", "Nothing beyond the referral outcome"
    CODES = "codes", "Codes only (SNOMED CT activity)"
    SUMMARY = "summary", "A full summary"


class Client(models.Model):
    """The person: one record however many referrals. ``version`` guards against two people saving at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    contact_preference = models.CharField(max_length=10, blank=True)
    contact_times = models.CharField(max_length=200, blank=True)
    practice = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="registered_clients"
    )
    interpreter_needed = models.BooleanField(default=False)
    language = models.CharField(max_length=100, blank=True)
    accessibility_needs = models.TextField(blank=True)
    # Equality monitoring: every question allows "prefer not to say".
    ethnic_category = models.CharField(max_length=2, choices=EthnicCategory.choices, blank=True)
    sex = models.CharField(max_length=12, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(
        "gender identity", max_length=60, blank=True, help_text="In the person's own words, or prefer not to say"
    )
    disability = models.CharField(max_length=12, choices=YesNoPreferNot.choices, blank=True)
    carer = models.CharField("unpaid carer", max_length=12, choices=YesNoPreferNot.choices, blank=True)
    lsoa_code = models.CharField("LSOA", max_length=9, blank=True)
    deprivation_decile = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="IMD 2019 decile of the postcode's area (1 = most deprived)"
    )
    # Consent
    consent_to_contact = models.BooleanField(default=True)
    share_with_gp = models.CharField(max_length=10, choices=ShareWithGP.choices, default=ShareWithGP.CODES)
    consent_to_share_with_groups = models.BooleanField(default=False)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="When identifiable details were removed (retention period or erasure)"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["service", "nhs_number"], name="client_service_nhs_idx"),
            # Duplicate checks (triage queue, referral page) match a person across the deployment by NHS number
            # or by name and date of birth, ignoring case: without these, a sequential scan of every client per
            # referral in the queue (EXPLAIN ANALYZE at 200,000 clients: 44 ms a row, 770 ms the queue).
            models.Index(fields=["nhs_number"], condition=~models.Q(nhs_number=""), name="client_nhs_idx"),
            models.Index(Upper("family_name"), Upper("given_name"), "date_of_birth", name="client_name_dob_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def known_as(self) -> str:
        return self.preferred_name or self.given_name

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class AlertKind(models.TextChoices):
    LONE_WORKER = "lone_worker", "Risk to lone workers"
    SAFEGUARDING = "safeguarding", "Safeguarding concern raised"
    NO_PHONE = "no_phone", "Do not contact by phone"
    NO_LETTERS = "no_letters", "Do not send letters"
    OTHER = "other", "Other"


class ClientAlert(models.Model):
    """Shown as a banner on every page of the person's record until resolved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    detail = models.CharField(max_length=500, blank=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["client"], condition=models.Q(resolved_at=None), name="alert_open_idx")]

    def __str__(self) -> str:
        return self.get_kind_display()


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
    paused_on = models.DateField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    start_date = models.DateField()
    window_end = models.DateField()
    extension_reason = models.CharField(max_length=300, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=20, choices=ClosureReason.choices, blank=True)
    closing_summary = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date"]
        indexes = [
            models.Index(fields=["link_worker", "status"], name="case_worker_status_idx"),
            # The dashboard's cases: open ones, or started or closed in the period (three ranges PostgreSQL ORs
            # together instead of reading all ten years of a service's cases).
            models.Index(fields=["service", "status"], name="case_service_status_idx"),
            models.Index(fields=["service", "start_date"], name="case_service_start_idx"),
            models.Index(fields=["service", "closed_on"], name="case_service_closed_idx"),
        ]
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
    # Indexed by contact_case_cover_idx below (case first), not by an index of its own.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts", db_index=False)
    at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=ContactMethod.choices)
    duration_minutes = models.PositiveSmallIntegerField(default=0)
    attempted_only = models.BooleanField(
        default=False, help_text="Tried but did not reach the person: does not count toward the 6 to 12"
    )
    notes = models.TextField(blank=True)
    next_step = models.CharField(max_length=300, blank=True)
    follow_up_on = models.DateField("follow-up date", null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # A case's contacts in time order, carrying what the counts read (contacts made, not attempts; the
            # latest; the next follow-up), so the dashboard, caseload and reports count them from the index alone:
            # the dashboard's per-worker count fell from 55 to 40-49 ms, its cold SQL from 117 to 72 ms (make
            # bench, scale 10, EXPLAIN ANALYZE in migration clients 0011). It replaces (case, at) and (case).
            models.Index(
                fields=["case", "at"], include=["attempted_only", "follow_up_on", "id"], name="contact_case_cover_idx"
            ),
            # Activity over a period (dashboard trends, reports): a range on "at" first, then the cases in scope.
            models.Index(fields=["at", "case"], name="contact_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} on {self.at:%d %b %Y}"


class CaseAssignment(models.Model):
    """Who a case was handed to, by whom and why (reassignment history)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Reassigned on {self.at:%Y-%m-%d}"


class WhatMatters(models.Model):
    """The "what matters to me" conversation, in the person's own words. One per case, versioned."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="what_matters")
    what_matters = models.TextField("what matters to me", blank=True)
    strengths = models.TextField(blank=True)
    worries = models.TextField(blank=True)
    want_to_change = models.TextField("what I want to change", blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"What matters for {self.case}"


class Plan(models.Model):
    """A personalised care and support plan. Every save adds a PlanVersion; nothing is overwritten."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="plan")
    version = models.PositiveIntegerField(default=0)
    review_on = models.DateField("next review", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Plan for {self.case}"


class PlanVersion(models.Model):
    """One saved state of a plan: goals in the person's words, each with actions (who does what by when),
    a status and progress notes."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    goals = models.JSONField(default=list)
    review_on = models.DateField(null=True, blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique")]

    def __str__(self) -> str:
        return f"Version {self.number}"


class HomeVisit(models.Model):
    """A planned home visit with lone-worker check-in and check-out."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="home_visits")
    link_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="home_visits")
    planned_start = models.DateTimeField()
    expected_minutes = models.PositiveSmallIntegerField(default=60)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    contact = models.OneToOneField(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="home_visit")
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["planned_start"]
        indexes = [
            models.Index(
                fields=["checked_in_at"],
                condition=models.Q(checked_out_at=None, checked_in_at__isnull=False),
                name="homevisit_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Home visit on {self.planned_start:%Y-%m-%d %H:%M}"

    @property
    def expected_end(self) -> datetime:
        start = self.checked_in_at or self.planned_start
        return start + timedelta(minutes=self.expected_minutes)


class ConnectionStatus(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    REFERRED = "referred", "Referred or introduced"
    ATTENDED_FIRST = "attended_first", "Attended first session"
    ATTENDING = "attending", "Still attending"
    STOPPED = "stopped", "Stopped"
    NOT_TAKEN_UP = "not_taken_up", "Not taken up"


class Connection(models.Model):
    """A person connected (or being connected) to a community service, from their case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="connections")
    service = models.ForeignKey("community.CommunityService", on_delete=models.PROTECT, related_name="connections")
    status = models.CharField(max_length=15, choices=ConnectionStatus.choices, default=ConnectionStatus.SUGGESTED)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it stopped or was not taken up")
    qa_override_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the person was referred to a service whose checks are not complete"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["service", "created_at"], name="connection_service_idx"),
            models.Index(fields=["created_at", "case"], name="connection_created_idx"),  # reports over a period
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "service"], name="connection_once_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.service}"


class ConnectionEvent(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=15, choices=ConnectionStatus.choices, blank=True)
    to_status = models.CharField(max_length=15, choices=ConnectionStatus.choices)
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class CaseSupervisionFlag(models.Model):
    """A link worker's question about a case for their supervisor. It stays on the supervisor's dashboard until
    a supervision session discusses the case (``discussed_at``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervision_flags")
    question = models.TextField()
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["raised_at"]
        indexes = [models.Index(fields=["case"], condition=models.Q(discussed_at=None), name="flag_open_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discussed_at=None, discussed_by=None)
                | models.Q(discussed_at__isnull=False, discussed_by__isnull=False),
                name="flag_discussed_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"Flagged for supervision on {self.raised_at:%Y-%m-%d}"


class SafeguardingConcern(models.Model):
    """A safeguarding concern raised on a case. Never edited or deleted: a database trigger refuses UPDATE and
    DELETE (migration 0006)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="safeguarding_concerns")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    detail = models.TextField()

    class Meta:
        ordering = ["raised_at"]
        indexes = [models.Index(fields=["case", "raised_at"], name="concern_case_idx")]

    def __str__(self) -> str:
        return f"Safeguarding concern raised on {self.raised_at:%Y-%m-%d}"


class SafeguardingOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    REFERRED_LA = "referred_la", "Referred to local authority safeguarding"
    OTHER = "other", "Other"


class SafeguardingDecision(models.Model):
    """The supervisor's decision on a concern. Append-only like the concern: a correction is a new row that
    ``corrects`` the decision before it, which stays on record. The decision in force is the one nothing
    corrects."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    concern = models.ForeignKey(SafeguardingConcern, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=20, choices=SafeguardingOutcome.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One first decision per concern, and each decision corrected at most once: a single line of history.
            models.UniqueConstraint(
                fields=["concern"], condition=models.Q(corrects=None), name="safeguarding_one_first_decision"
            ),
            models.UniqueConstraint(fields=["corrects"], name="safeguarding_corrected_once"),
            models.CheckConstraint(
                condition=~models.Q(decision="other") | ~models.Q(note=""), name="safeguarding_other_has_note"
            ),
            models.CheckConstraint(
                condition=models.Q(corrects=None) | ~models.Q(note=""), name="safeguarding_correction_has_note"
            ),
        ]

    def __str__(self) -> str:
        return self.get_decision_display()

    @staticmethod
    def in_order(decisions: list[SafeguardingDecision]) -> list[SafeguardingDecision]:
        """One concern's decisions as a history: the first, then each correction after the decision it corrects
        (timestamps can tie; the chain cannot). Sets ``in_force`` on each: true for the last only."""
        following = {d.corrects_id: d for d in decisions}
        history, current = [], following.get(None)
        while current is not None:
            history.append(current)
            current.in_force = False
            current = following.get(current.pk)
        if history:
            history[-1].in_force = True
        return history
