"""The community directory in Open Referral UK terms: organisations (``Provider``) and the services or
activities they run (``CommunityService``) with schedules and locations, a taxonomy, quality assurance, and
the support link workers give the groups themselves."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models

from linkwork.accounts.models import Organisation


class Category(models.TextChoices):
    ARTS = "arts", "Arts and creativity"
    PHYSICAL = "physical_activity", "Physical activity"
    NATURE = "nature", "Nature and gardening"
    BEFRIENDING = "befriending", "Befriending"
    PEER_SUPPORT = "peer_support", "Peer support"
    LEARNING = "learning", "Learning and skills"
    VOLUNTEERING = "volunteering", "Volunteering"
    MONEY = "money_advice", "Money advice"
    HOUSING = "housing_advice", "Housing advice"
    CARERS = "carers_support", "Carers support"
    MENTAL_WELLBEING = "mental_wellbeing", "Mental wellbeing"
    FAITH_CULTURE = "faith_culture", "Faith and culture"


class ServiceStatus(models.TextChoices):
    """ORUK service statuses (the value of ``TEMPORARILY_CLOSED`` has a space, as the profile says)."""

    ACTIVE = "active", "Active"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"


class Accessibility(models.TextChoices):
    STEP_FREE = "step_free", "Step-free access"
    HEARING_LOOP = "hearing_loop", "Hearing loop"
    ACCESSIBLE_TOILET = "accessible_toilet", "Accessible toilet"
    PARKING = "parking", "Parking"
    PUBLIC_TRANSPORT = "public_transport", "Near public transport"


class HowToJoin(models.TextChoices):
    DROP_IN = "drop_in", "Just turn up"
    BOOKING = "booking", "Book a place"
    REFERRAL = "referral", "Referral needed"


class Capacity(models.TextChoices):
    OPEN = "open", "Open to new members"
    WAITING_LIST = "waiting_list", "Waiting list"
    FULL = "full", "Full"


class DBSCheck(models.TextChoices):
    DONE = "done", "Checked"
    NOT_NEEDED = "not_needed", "Not needed"
    MISSING = "missing", "Not yet checked"


class TaxonomyTerm(models.Model):
    """A category as a taxonomy term, so the ORUK API can publish ids for it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Provider(models.Model):
    """An organisation in the directory (ORUK ``organization``), kept by one social prescribing service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="directory_providers")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    charity_number = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="The ORUK feed it was imported from, if any")
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="provider_external_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CommunityService(models.Model):
    """A group or activity people can be connected to (ORUK ``service``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    categories = ArrayField(models.CharField(max_length=30, choices=Category.choices), default=list, blank=True)
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    contact_name = models.CharField("contact person", max_length=150, blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    eligibility = models.CharField("who it is for", max_length=300, blank=True)
    is_free = models.BooleanField(default=True)
    cost_amount = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    cost_description = models.CharField(max_length=200, blank=True, help_text="For example: per session")
    schedule = models.CharField(max_length=200, blank=True, help_text="In words: Tuesdays 10am to 12 noon")
    how_to_join = models.CharField(max_length=10, choices=HowToJoin.choices, default=HowToJoin.DROP_IN)
    capacity = models.CharField(max_length=15, choices=Capacity.choices, default=Capacity.OPEN)
    accessibility = ArrayField(models.CharField(max_length=20, choices=Accessibility.choices), default=list, blank=True)
    languages = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    is_public = models.BooleanField(default=True, help_text="Published on the public page and the ORUK API")
    # Quality assurance before link workers may refer people
    safeguarding_policy_seen = models.BooleanField(default=False)
    dbs_check = models.CharField("DBS checks", max_length=12, choices=DBSCheck.choices, default=DBSCheck.MISSING)
    insurance_seen = models.BooleanField("public liability insurance seen", default=False)
    last_checked_on = models.DateField(null=True, blank=True)
    last_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_every_days = models.PositiveSmallIntegerField(default=365)
    source = models.CharField(max_length=300, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config="english")
        + SearchVector("description", "eligibility", "schedule", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            GinIndex(fields=["search_vector"], name="service_search_idx"),
            GinIndex(fields=["categories"], name="service_categories_idx"),
            models.Index(fields=["provider", "status"], name="service_provider_status_idx"),
            # The published directory in the ORUK feed's order (community.oruk.selectors): migration 0005.
            models.Index(
                fields=["name", "id"],
                condition=models.Q(is_public=True, status="active"),
                name="service_published_name_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="service_external_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_age__isnull=True)
                | models.Q(maximum_age__isnull=True)
                | models.Q(minimum_age__lte=models.F("maximum_age")),
                name="service_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def qa_complete(self) -> bool:
        return (
            self.safeguarding_policy_seen
            and self.insurance_seen
            and self.dbs_check != DBSCheck.MISSING
            and self.last_checked_on is not None
        )

    @property
    def review_due_on(self) -> date | None:
        return self.last_checked_on + timedelta(days=self.review_every_days) if self.last_checked_on else None

    def review_overdue(self, today: date) -> bool:
        due = self.review_due_on
        return due is None or due < today

    def category_labels(self) -> list[str]:
        return [Category(c).label for c in self.categories if c in Category.values]


class Weekday(models.TextChoices):
    MO = "MO", "Monday"
    TU = "TU", "Tuesday"
    WE = "WE", "Wednesday"
    TH = "TH", "Thursday"
    FR = "FR", "Friday"
    SA = "SA", "Saturday"
    SU = "SU", "Sunday"


class Schedule(models.Model):
    """When a service runs (ORUK ``schedule``, iCal-like)."""

    class Frequency(models.TextChoices):
        WEEKLY = "WEEKLY", "Weekly"
        MONTHLY = "MONTHLY", "Monthly"
        ONCE = "ONCE", "One-off"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(CommunityService, on_delete=models.CASCADE, related_name="schedules")
    freq = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    byday = ArrayField(models.CharField(max_length=2, choices=Weekday.choices), default=list, blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    on_date = models.DateField(null=True, blank=True, help_text="For a one-off event")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["opens_at"]
        indexes = [GinIndex(fields=["byday"], name="schedule_byday_idx")]

    def __str__(self) -> str:
        return self.description or self.get_freq_display()


class DevelopmentNeed(models.Model):
    """Support a community group needs to thrive, and who is helping (often the local CVS)."""

    class Kind(models.TextChoices):
        FUNDING = "funding", "Funding"
        VOLUNTEERS = "volunteers", "Volunteers"
        TRAINING = "training", "Training"
        PREMISES = "premises", "Premises"
        GOVERNANCE = "governance", "Governance"
        SAFEGUARDING = "safeguarding", "Safeguarding"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "Being helped"
        MET = "met", "Met"
        CLOSED = "closed", "Closed without being met"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="development_needs")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    description = models.TextField()
    helped_by = models.CharField(max_length=200, blank=True, help_text="For example: Riverside CVS")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.provider}"


class Opportunity(models.Model):
    """Training or funding to share with community groups."""

    class Kind(models.TextChoices):
        FUNDING = "funding", "Funding"
        TRAINING = "training", "Training"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="opportunities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)
    closes_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["closes_on", "title"]
        verbose_name_plural = "opportunities"

    def __str__(self) -> str:
        return self.title


class GroupFeedback(models.Model):
    """A short note from a group about the referrals it received."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="feedback")
    note = models.TextField()
    received_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on"]

    def __str__(self) -> str:
        return f"Feedback from {self.provider} on {self.received_on}"


class PostcodeArea(models.Model):
    """Postcode → LSOA → IMD 2019 decile, and coordinates where known: loaded from public lookups when a
    service supplies them (``manage.py load_deprivation``). Linkwork works without it."""

    postcode = models.CharField(max_length=8, primary_key=True, help_text="Upper case, no spaces")
    lsoa_code = models.CharField(max_length=9, blank=True)
    imd_decile = models.PositiveSmallIntegerField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return self.postcode

    @staticmethod
    def key(postcode: str) -> str:
        return postcode.replace(" ", "").upper()
