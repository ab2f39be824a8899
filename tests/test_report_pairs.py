"""Wellbeing change, paired in SQL: ONS4 item by item (a missing answer leaves that pair out) and measures where a
fall is an improvement (anxiety, loneliness)."""

from __future__ import annotations

import datetime as dt
import statistics

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outcomes import reports
from outcomes.models import Assessment, Instrument
from tests import factories
from tests.conftest import World, ensure_reference_data

TODAY = timezone.localdate()


def _pair(world: World, instrument: Instrument, before: dict, after: dict, scores=(None, None)) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    for timepoint, answers, score, days in (("baseline", before, scores[0], 50), ("follow_up", after, scores[1], 3)):
        Assessment.objects.create(
            case=case,
            instrument=instrument,
            timepoint=timepoint,
            taken_on=TODAY - dt.timedelta(days=days),
            answers=answers,
            score=score,
            recorded_by=world.link_worker,
        )


def _rows(world: World) -> dict[str, list]:
    scope = reports.Scope(services=(world.service,), start=TODAY - dt.timedelta(days=30), end=TODAY)
    table = next(t for _, _, tables in reports.build(scope) for t in tables if t.key == "wellbeing_change")
    return {row[0]: row for row in table.rows}


def test_ons4_items_are_paired_one_by_one_and_a_fall_in_anxiety_is_an_improvement(world: World) -> None:
    ensure_reference_data()
    ons4 = Instrument.objects.get(short_name="ONS4")
    _pair(world, ons4, {"life_satisfaction": 4, "anxious": 8}, {"life_satisfaction": 7, "anxious": 3})
    _pair(world, ons4, {"life_satisfaction": 6, "anxious": 5}, {"life_satisfaction": 6, "anxious": 5})
    _pair(world, ons4, {"life_satisfaction": 5}, {"life_satisfaction": 4, "anxious": 2})  # no baseline anxiety
    rows = _rows(world)

    life = rows["ONS4: life satisfaction"]
    changes = [3.0, 0.0, -1.0]
    half = 4.30 * statistics.stdev(changes) / 3**0.5
    assert life[1:5] == [
        3,
        round(statistics.fmean(changes), 2),
        f"{statistics.fmean(changes) - half:.1f} to {statistics.fmean(changes) + half:.1f}",
        1,
    ]

    anxious = rows["ONS4: anxious"]
    assert anxious[1] == 2  # the pair without a baseline answer is left out
    assert anxious[2] == -2.5  # (-5 + 0) / 2
    assert anxious[4] == 1  # a fall of 5 is an improvement; no change is not


def test_loneliness_falling_is_an_improvement(world: World) -> None:
    ensure_reference_data()
    ucla = Instrument.objects.get(short_name="UCLA-3")
    _pair(world, ucla, {}, {}, scores=(8, 5))
    _pair(world, ucla, {}, {}, scores=(5, 6))
    row = _rows(world)["UCLA-3"]
    assert row[1:3] == [2, -1.0]
    assert row[4] == 1


def test_every_measure_and_item_is_paired_in_one_statement_and_kept_apart(world: World) -> None:
    """The six rows (four ONS4 items, SWEMWBS, UCLA-3) come from one aggregate over the follow-ups; each row
    still pairs only its own instrument's answers."""
    ensure_reference_data()
    ons4 = Instrument.objects.get(short_name="ONS4")
    ucla = Instrument.objects.get(short_name="UCLA-3")
    swemwbs = Instrument.objects.get(short_name="SWEMWBS")
    _pair(world, ons4, {"happy": 2}, {"happy": 9})
    _pair(world, ucla, {}, {}, scores=(9, 4))
    _pair(world, swemwbs, {}, {}, scores=(14, 20))
    with CaptureQueriesContext(connection) as queries:
        rows = _rows(world)
    assert rows["ONS4: happy"][1:3] == [1, 7.0]
    assert rows["ONS4: worthwhile"][1] == 0
    assert rows["UCLA-3"][1:3] == [1, -5.0]
    assert rows["SWEMWBS"][1:3] == [1, 6.0]
    pairing = [q["sql"] for q in queries.captured_queries if "STDDEV_SAMP" in q["sql"]]
    assert len(pairing) == 1
