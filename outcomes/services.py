"""Writes for outcomes: wellbeing measures taken with a person, and their use of the GP and A&E."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from clients.models import Case, CaseStatus
from outcomes import scoring
from outcomes.models import Assessment, Instrument, Mode, ServiceInstrument, SystemUse, Timepoint

# A follow-up is often done at the last meeting or soon after: measures can be added for a while after closure.
DAYS_AFTER_CLOSURE = 30
MAX_GP_APPOINTMENTS = 200
MAX_AE_ATTENDANCES = 100


def _day(value: date) -> str:
    return date_format(value, "j F Y")


def measures_open(case: Case, today: date | None = None) -> bool:
    """Whether measures may be recorded for the case: it is open, or closed within the last 30 days."""
    today = today or timezone.localdate()
    if case.status != CaseStatus.CLOSED:
        return True
    return case.closed_on is not None and case.closed_on >= today - timedelta(days=DAYS_AFTER_CLOSURE)


def instruments_offered(service: Any) -> list[Instrument]:
    """The active measures the service has chosen; every active measure if it has chosen none."""
    chosen = Instrument.objects.filter(
        is_active=True, pk__in=ServiceInstrument.objects.filter(service=service).values("instrument")
    )
    instruments = list(chosen)
    return instruments or list(Instrument.objects.filter(is_active=True))


def assessment_check_new(*, case: Case, instrument: Instrument, timepoint: str) -> None:
    """Raise ValidationError unless a ``timepoint`` assessment of ``instrument`` may be started for the case:
    the case takes measures, the service uses the instrument, and none is recorded for that timepoint yet."""
    if timepoint not in Timepoint.values:
        raise ValidationError({"timepoint": "Choose baseline or follow-up"})
    if not measures_open(case):
        closed = f" on {_day(case.closed_on)}" if case.closed_on else ""
        raise ValidationError(
            f"This case closed{closed}. Measures can be recorded until {DAYS_AFTER_CLOSURE} days after a case closes."
        )
    if instrument.pk not in {i.pk for i in instruments_offered(case.service)}:
        raise ValidationError({"instrument": f"{instrument.short_name} is not one of this service's measures"})
    existing = Assessment.objects.filter(case=case, instrument=instrument, timepoint=timepoint).first()
    if existing is not None:
        raise ValidationError(
            {
                "timepoint": f"A {Timepoint(timepoint).label.lower()} {instrument.short_name} is already recorded "
                f"for this case (taken on {_day(existing.taken_on)})"
            }
        )


@transaction.atomic
def assessment_record(
    *,
    case: Case,
    by: Any,
    instrument: Instrument,
    timepoint: str,
    taken_on: date,
    mode: str,
    answers: dict[str, Any],
) -> Assessment:
    """Score and save one assessment. Raises ValidationError if the case no longer takes measures (closed more
    than 30 days ago), the date is in the future or puts the baseline after the follow-up, one is already
    recorded for that instrument and timepoint, nothing was answered, or an answer is not one of the question's
    options. A summed measure with a question unanswered is saved without a score."""
    # Serialise recording on the case so two people saving the same baseline get a clear message, not a crash.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    assessment_check_new(case=case, instrument=instrument, timepoint=timepoint)
    if mode not in Mode.values:
        raise ValidationError({"mode": "Choose how the questionnaire was completed"})
    if taken_on > timezone.localdate():
        raise ValidationError({"taken_on": "The date taken must be today or in the past"})
    other = (
        Assessment.objects.filter(case=case, instrument=instrument)
        .exclude(timepoint=timepoint)
        .only("taken_on", "timepoint")
        .first()
    )
    if other is not None:
        if timepoint == Timepoint.FOLLOW_UP and taken_on < other.taken_on:
            raise ValidationError(
                {"taken_on": f"The follow-up must be on or after the baseline, taken on {_day(other.taken_on)}"}
            )
        if timepoint == Timepoint.BASELINE and taken_on > other.taken_on:
            raise ValidationError(
                {"taken_on": f"The baseline must be on or before the follow-up, taken on {_day(other.taken_on)}"}
            )
    items = list(instrument.items.all())
    scored = scoring.score_answers(instrument, items, answers)
    if not scored.answers:
        raise ValidationError(f"Answer at least one question of {instrument.short_name}")
    try:
        with transaction.atomic():
            return Assessment.objects.create(
                case=case,
                instrument=instrument,
                timepoint=timepoint,
                taken_on=taken_on,
                mode=mode,
                answers=scored.answers,
                raw_total=scored.raw_total,
                score=scored.score,
                recorded_by=by,
            )
    except IntegrityError:
        raise ValidationError(
            {"timepoint": f"A {Timepoint(timepoint).label.lower()} {instrument.short_name} is already recorded"}
        ) from None


@transaction.atomic
def system_use_record(
    *, case: Case, by: Any, period: str, gp_appointments: int, ae_attendances: int | None
) -> SystemUse:
    """Record (or correct) the person's GP appointments and A&E attendances in the three months before referral
    or after closure. Raises ValidationError for a count out of range, or "after" figures for an open case."""
    if period not in SystemUse.Period.values:
        raise ValidationError({"period": "Choose before referral or after closure"})
    if period == SystemUse.Period.AFTER and case.status != CaseStatus.CLOSED:
        raise ValidationError("Figures for the 3 months after closure can be recorded once the case is closed")
    if not 0 <= gp_appointments <= MAX_GP_APPOINTMENTS:
        raise ValidationError({"gp_appointments": f"Enter 0 to {MAX_GP_APPOINTMENTS} GP appointments"})
    if ae_attendances is not None and not 0 <= ae_attendances <= MAX_AE_ATTENDANCES:
        raise ValidationError({"ae_attendances": f"Enter 0 to {MAX_AE_ATTENDANCES} A&E attendances"})
    record, _ = SystemUse.objects.update_or_create(
        case=case,
        period=period,
        defaults={"gp_appointments": gp_appointments, "ae_attendances": ae_attendances, "recorded_by": by},
    )
    return record
