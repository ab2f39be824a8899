"""Reads for wellbeing measures on a case. Access is checked by the caller, with
``clients.selectors.case_for_user``: these take a case the user may already see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from clients.models import Case
from outcomes import scoring, services
from outcomes.models import Assessment, Instrument, InstrumentItem, SystemUse, Timepoint


def instrument_for_case(case: Case, instrument_id: UUID) -> Instrument:
    """An instrument the case's service uses, with its items loaded; 404 otherwise."""
    offered = {i.pk for i in services.instruments_offered(case.service)}
    instrument = Instrument.objects.prefetch_related("items").filter(pk=instrument_id, pk__in=offered).first()
    if instrument is None:
        raise Http404
    return instrument


def recorded_for_case(case: Case) -> list[Assessment]:
    """The case's assessments with their instruments, earliest first."""
    return list(Assessment.objects.filter(case=case).select_related("instrument").order_by("taken_on"))


def system_use_for_case(case: Case) -> dict[str, SystemUse]:
    """The case's GP and A&E figures by period ("before", "after")."""
    return {use.period: use for use in SystemUse.objects.filter(case=case)}


def suggested_timepoint(recorded: list[Assessment]) -> str:
    """Baseline until one is recorded, follow-up after."""
    return Timepoint.FOLLOW_UP if any(a.timepoint == Timepoint.BASELINE for a in recorded) else Timepoint.BASELINE


@dataclass
class Row:
    """One line of a measure's table and one pair of bars in its chart: the score, or one item of a measure
    reported item by item."""

    label: str
    baseline: Decimal | None
    follow_up: Decimal | None
    baseline_text: str
    follow_up_text: str
    low: Decimal
    high: Decimal
    higher_is_better: bool
    change: scoring.Change | None = None
    no_change: str = ""  # why there is no change to show

    @property
    def change_text(self) -> str:
        return self.change.words[:1].upper() + self.change.words[1:] if self.change else self.no_change


@dataclass
class MeasureSummary:
    instrument: Instrument
    items: list[InstrumentItem]
    baseline: Assessment | None
    follow_up: Assessment | None
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[scoring.Change]:
        return [row.change for row in self.rows if row.change is not None]

    @property
    def summed(self) -> bool:
        return scoring.is_summed(self.instrument)

    @property
    def threshold_text(self) -> str:
        """Whether each score is at or beyond the instrument's threshold: "Lonely (6 or more): yes at baseline,
        no at follow-up". Beyond is above for a measure where lower is better, below otherwise."""
        instrument = self.instrument
        if instrument.threshold is None or not self.summed:
            return ""
        parts = []
        for name, assessment in (("baseline", self.baseline), ("follow-up", self.follow_up)):
            if assessment is None or assessment.score is None:
                continue
            if instrument.higher_is_better:
                beyond = assessment.score <= instrument.threshold
            else:
                beyond = assessment.score >= instrument.threshold
            parts.append(f"{'yes' if beyond else 'no'} at {name}")
        label = instrument.threshold_label or f"Threshold {scoring.number(instrument.threshold)}"
        return f"{label}: {', '.join(parts)}" if parts else ""


@dataclass
class CaseMeasures:
    summaries: list[MeasureSummary]
    before: SystemUse | None
    after: SystemUse | None
    can_record: bool

    @property
    def gp_change(self) -> scoring.Change | None:
        if self.before is None or self.after is None:
            return None
        return scoring.Change(
            label="GP appointments",
            before=Decimal(self.before.gp_appointments),
            after=Decimal(self.after.gp_appointments),
            higher_is_better=False,
            meaningful_change=Decimal(1),
        )


# The case's assessments, the instruments they used with their items, and the GP figures, as one JSON object
# computed inside a query on the case (``clients_case`` is its table). Written as SQL because the ORM took
# longer to build these nested subqueries than PostgreSQL takes to run them. Decimals travel as text: as JSON
# numbers they would come back as floats.
CASE_MEASURES_SQL = """
SELECT JSONB_BUILD_OBJECT(
    'assessments', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'instrument_id', a.instrument_id, 'timepoint', a.timepoint, 'taken_on', a.taken_on,
            'answers', a.answers, 'raw_total', a.raw_total, 'score', a.score::text
        ) ORDER BY i.short_name, i.version, a.taken_on), '[]')
        FROM outcomes_assessment a JOIN outcomes_instrument i ON i.id = a.instrument_id
        WHERE a.case_id = clients_case.id
    ),
    'instruments', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'id', i.id, 'code', i.code, 'name', i.name, 'short_name', i.short_name, 'scoring', i.scoring,
            'conversion', i.conversion, 'higher_is_better', i.higher_is_better,
            'meaningful_change', i.meaningful_change::text, 'threshold', i.threshold::text,
            'threshold_label', i.threshold_label,
            'items', (
                SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
                    'number', t.number, 'code', t.code, 'text', t.text, 'options', t.options, 'bands', t.bands,
                    'higher_is_better', t.higher_is_better
                ) ORDER BY t.number), '[]')
                FROM outcomes_instrumentitem t
                WHERE t.instrument_id = i.id
            )
        )), '[]')
        FROM outcomes_instrument i
        WHERE i.id IN (SELECT instrument_id FROM outcomes_assessment WHERE case_id = clients_case.id)
    ),
    'system_use', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'period', u.period, 'gp_appointments', u.gp_appointments, 'ae_attendances', u.ae_attendances
        )), '[]')
        FROM outcomes_systemuse u
        WHERE u.case_id = clients_case.id
    )
)
"""


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def case_measures(case: Case) -> CaseMeasures:
    """Each measure taken on the case with its baseline, follow-up and the change between them, and the GP
    appointments before and after. One query whatever the number (``CASE_MEASURES_SQL``); the objects built
    from it are for showing, never for saving."""
    found = (
        Case.objects.filter(pk=case.pk)
        # A constant: nothing from the request goes into it.
        .values_list(RawSQL(CASE_MEASURES_SQL, (), output_field=JSONField()), flat=True)  # noqa: S611  # nosec B611
        .get()
    )
    instruments = {}
    items = {}
    for measure in found["instruments"]:
        items[measure["id"]] = [InstrumentItem(**item) for item in measure.pop("items")]
        measure["meaningful_change"] = Decimal(measure["meaningful_change"])
        measure["threshold"] = _decimal(measure["threshold"])
        instruments[measure["id"]] = Instrument(**measure)
    by_instrument: dict[Any, MeasureSummary] = {}
    for taken in found["assessments"]:
        key = taken.pop("instrument_id")
        summary = by_instrument.get(key)
        if summary is None:
            summary = by_instrument[key] = MeasureSummary(
                instrument=instruments[key], items=items[key], baseline=None, follow_up=None
            )
        taken["taken_on"] = date.fromisoformat(taken["taken_on"])
        taken["score"] = _decimal(taken["score"])
        assessment = Assessment(**taken, case=case, instrument=summary.instrument)
        if assessment.timepoint == Timepoint.BASELINE:
            summary.baseline = assessment
        else:
            summary.follow_up = assessment
    for summary in by_instrument.values():
        _fill(summary)
    use = {u["period"]: SystemUse(case=case, **u) for u in found["system_use"]}
    return CaseMeasures(
        summaries=list(by_instrument.values()),
        before=use.get(SystemUse.Period.BEFORE),
        after=use.get(SystemUse.Period.AFTER),
        can_record=services.measures_open(case, timezone.localdate()),
    )


def _fill(summary: MeasureSummary) -> None:
    instrument, items = summary.instrument, summary.items
    baseline, follow_up = summary.baseline, summary.follow_up
    if scoring.is_summed(instrument):
        low, high = scoring.score_range(instrument, items) or (Decimal(0), Decimal(0))
        before = baseline.score if baseline else None
        after = follow_up.score if follow_up else None
        summary.rows.append(
            Row(
                label=scoring.score_label(instrument),
                baseline=before,
                follow_up=after,
                baseline_text=_score_text(instrument, baseline),
                follow_up_text=_score_text(instrument, follow_up),
                low=low,
                high=high,
                higher_is_better=instrument.higher_is_better,
                change=scoring.score_change(instrument, before, after),
                no_change=_no_change(baseline, follow_up, "No score to compare"),
            )
        )
        for assessment in (baseline, follow_up):
            if assessment is not None and assessment.score is None:
                missing = len(items) - len(assessment.answers)
                summary.notes.append(
                    f"The {assessment.get_timepoint_display().lower()} has no score: {missing} "
                    f"question{'s' if missing != 1 else ''} not answered."
                )
        return
    before_answers = baseline.answers if baseline else {}
    after_answers = follow_up.answers if follow_up else {}
    for item in items:
        low, high = scoring.item_range(item)
        before_value, after_value = before_answers.get(item.code), after_answers.get(item.code)
        summary.rows.append(
            Row(
                label=scoring.item_label(item).capitalize(),
                baseline=None if before_value is None else Decimal(before_value),
                follow_up=None if after_value is None else Decimal(after_value),
                baseline_text=_item_text(item, before_value, baseline),
                follow_up_text=_item_text(item, after_value, follow_up),
                low=Decimal(low),
                high=Decimal(high),
                higher_is_better=item.higher_is_better,
                change=scoring.item_change(instrument, item, before_value, after_value),
                no_change=_no_change(baseline, follow_up, "Not answered both times"),
            )
        )


def _no_change(baseline: Assessment | None, follow_up: Assessment | None, otherwise: str) -> str:
    return "Needs a baseline and a follow-up" if baseline is None or follow_up is None else otherwise


def _score_text(instrument: Instrument, assessment: Assessment | None) -> str:
    if assessment is None:
        return "Not yet"
    if assessment.score is None:
        return "No score"
    text = scoring.number(assessment.score)
    if instrument.scoring == scoring.SUM_CONVERTED and assessment.raw_total is not None:
        text += f" (raw {assessment.raw_total})"
    return text


def _item_text(item: InstrumentItem, value: int | None, assessment: Assessment | None) -> str:
    if assessment is None:
        return "Not yet"
    if value is None:
        return "Not answered"
    band = scoring.band_for(item, value)
    return f"{value} ({band})" if band else str(value)
