"""Wellbeing measures held as data (instruments, items, scoring rules), the assessments recorded with people,
and system-impact figures. Reports and dashboards read from every other app and live here too."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from linkwork.accounts.models import Organisation


class ScoringMethod(models.TextChoices):
    SEPARATE = "separate", "Each item reported separately (never summed)"
    SUM = "sum", "Sum of items"
    SUM_CONVERTED = "sum_converted", "Sum of items, converted with a table"


class Instrument(models.Model):
    """A validated measure, versioned. Adding one is a data change (admin or migration), not a code change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=30)
    version = models.CharField(max_length=20, default="1")
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=30)
    instructions = models.TextField(blank=True)
    copyright_notice = models.TextField(blank=True)
    scoring = models.CharField(max_length=15, choices=ScoringMethod.choices)
    conversion = models.JSONField(default=dict, blank=True, help_text="Raw total → reported score")
    higher_is_better = models.BooleanField(default=True)
    meaningful_change = models.DecimalField(
        max_digits=5, decimal_places=2, default=1, help_text="Smallest change counted as a real improvement"
    )
    threshold = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="A score at or beyond this counts as a case (e.g. lonely at 6 or more)",
    )
    threshold_label = models.CharField(max_length=60, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["short_name"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version")]

    def __str__(self) -> str:
        return f"{self.short_name} (v{self.version})"


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40)
    text = models.CharField(max_length=300)
    options = models.JSONField(help_text='[[value, "label"], ...] from lowest to highest')
    bands = models.JSONField(default=list, blank=True, help_text='[[low, high, "band"], ...] for items reported alone')
    higher_is_better = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument", "number"]
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="item_code_unique")]

    def __str__(self) -> str:
        return self.text

    @property
    def values(self) -> list[int]:
        return [int(v) for v, _ in self.options]

    def band_for(self, value: int) -> str:
        for low, high, label in self.bands:
            if low <= value <= high:
                return label
        return ""


class ServiceInstrument(models.Model):
    """The measures a service has chosen to use."""

    service = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="instrument_choices")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "instrument"], name="service_instrument_unique")]

    def __str__(self) -> str:
        return f"{self.service}: {self.instrument}"


class Timepoint(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    FOLLOW_UP = "follow_up", "Follow-up"


class Mode(models.TextChoices):
    WITH_PERSON = "with_person", "On screen with the person"
    PAPER = "paper", "From a paper form"


class Assessment(models.Model):
    """One completed instrument for one case at one timepoint. ``score`` is null when the instrument is
    reported item by item (ONS4) or an item was missing (SWEMWBS gives no score then)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="assessments")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="assessments")
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    taken_on = models.DateField()
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.WITH_PERSON)
    answers = models.JSONField(help_text="item code → value; missing items absent")
    raw_total = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_on"]
        constraints = [
            models.UniqueConstraint(fields=["case", "instrument", "timepoint"], name="assessment_once_per_timepoint")
        ]
        indexes = [models.Index(fields=["instrument", "timepoint", "taken_on"], name="assessment_report_idx")]

    def __str__(self) -> str:
        return f"{self.instrument.short_name} {self.get_timepoint_display()} {self.taken_on}"


class SystemUse(models.Model):
    """GP appointments (and A&E attendances) in the three months before referral or after closure."""

    class Period(models.TextChoices):
        BEFORE = "before", "3 months before referral"
        AFTER = "after", "3 months after closure"

    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="system_use")
    period = models.CharField(max_length=6, choices=Period.choices)
    gp_appointments = models.PositiveSmallIntegerField()
    ae_attendances = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "period"], name="system_use_once_per_period")]

    def __str__(self) -> str:
        return f"{self.get_period_display()}: {self.gp_appointments} GP appointments"


class Wellbeing(models.TextChoices):
    WELL = "well", "Doing well"
    MANAGING = "managing", "Managing, with some pressure"
    STRUGGLING = "struggling", "Struggling: needs more support"


class SupervisionSession(models.Model):
    """A supervisor's session with one link worker: the cases discussed, concerns, the actions agreed and a
    check on the link worker's own wellbeing. Seen by the link worker and the service's supervisors and
    managers only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supervision_sessions")
    link_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision_sessions"
    )
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField()
    cases_discussed = models.ManyToManyField("clients.Case", blank=True, related_name="supervision_sessions")
    concerns = models.TextField(blank=True)
    wellbeing = models.CharField(max_length=12, choices=Wellbeing.choices)
    wellbeing_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-created_at"]
        indexes = [models.Index(fields=["service", "link_worker", "held_on"], name="supervision_worker_idx")]

    def __str__(self) -> str:
        return f"Supervision on {self.held_on:%Y-%m-%d}"


class SupervisionAction(models.Model):
    """An action agreed in supervision, with an owner and a date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(SupervisionSession, on_delete=models.PROTECT, related_name="actions")
    what = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision_actions")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "what"]
        indexes = [
            models.Index(fields=["owner", "due_on"], condition=models.Q(done_at=None), name="supervision_action_open")
        ]

    def __str__(self) -> str:
        return self.what


class DataVersion(models.Model):
    """How many times a service's data has changed (``scope`` is the service's id; the nil UUID stands for data
    every service shares: the directory, organisations, postcodes), kept as 16 counters per scope (``shard``, by
    database connection) that readers add up, so concurrent commits to one service do not queue on one row.
    Written only by PostgreSQL triggers (migration 0004), at commit, so that every write, bulk updates and raw SQL
    included, is counted; read by ``outcomes.freshness`` to key cached aggregates so they are never served after
    the data under them changed."""

    scope = models.UUIDField()
    shard = models.SmallIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        # Written by triggers only: Django must not add columns or defaults the triggers do not know.
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["scope", "shard"], name="dataversion_scope_shard")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.shard}: {self.version}"
