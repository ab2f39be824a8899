"""Wellbeing measures: scoring from the instruments' own data (ONS4, SWEMWBS, UCLA-3), the change between
baseline and follow-up in plain words, recording them on a case, and GP appointments before and after."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linkwork.accounts.access import forget_kept_access
from linkwork.audit.models import AuditEvent
from outcomes import scoring, services
from outcomes.models import Assessment, Instrument, ServiceInstrument, SystemUse, Timepoint
from tests import factories
from tests.conftest import World, login

# The published SWEMWBS raw-to-metric conversion table, typed from the scale's documentation (DOMAIN.md), not
# copied from the migration that loads it.
SWEMWBS_METRIC = {
    7: "7.00", 8: "9.51", 9: "11.25", 10: "12.40", 11: "13.33", 12: "14.08", 13: "14.75", 14: "15.32",
    15: "15.84", 16: "16.36", 17: "16.88", 18: "17.43", 19: "17.98", 20: "18.59", 21: "19.25", 22: "19.98",
    23: "20.73", 24: "21.54", 25: "22.35", 26: "23.21", 27: "24.11", 28: "25.03", 29: "26.02", 30: "27.03",
    31: "28.13", 32: "29.31", 33: "30.70", 34: "32.55", 35: "35.00",
}  # fmt: skip

SWEMWBS_ITEMS = ["optimistic", "useful", "relaxed", "problems", "clearly", "close", "own_mind"]
UCLA_ITEMS = ["companionship", "left_out", "isolated"]
ONS4_ITEMS = ["life_satisfaction", "worthwhile", "happy", "anxious"]


def instrument(code: str) -> Instrument:
    return Instrument.objects.prefetch_related("items").get(code=code)


def items(code: str) -> list:
    return list(instrument(code).items.all())


def swemwbs(*values: int) -> dict[str, int]:
    return dict(zip(SWEMWBS_ITEMS, values, strict=False))


def ucla(*values: int) -> dict[str, int]:
    return dict(zip(UCLA_ITEMS, values, strict=False))


def ons4(*values: int) -> dict[str, int]:
    return dict(zip(ONS4_ITEMS, values, strict=False))


def score(code: str, answers: dict) -> scoring.Scored:
    measure = instrument(code)
    return scoring.score_answers(measure, list(measure.items.all()), answers)


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


@pytest.fixture
def case(world: World):
    return factories.ActiveCaseFactory(
        client__service=world.service,
        link_worker=world.link_worker,
        client__given_name="Nora",
        client__family_name="Jones",
    )


def take(case, by, code: str, timepoint: str, answers: dict, taken_on: dt.date | None = None) -> Assessment:
    return services.assessment_record(
        case=case,
        by=by,
        instrument=instrument(code),
        timepoint=timepoint,
        taken_on=taken_on or days_ago(10 if timepoint == Timepoint.BASELINE else 1),
        mode="with_person",
        answers=answers,
    )


# --- Scoring --------------------------------------------------------------------------------------------------
def _summing_to(total: int) -> dict[str, int]:
    """Seven SWEMWBS answers (1 to 5) adding up to ``total``."""
    values, left = [1] * 7, total - 7
    for i in range(7):
        step = min(4, left)
        values[i] += step
        left -= step
    assert sum(values) == total
    return swemwbs(*values)


@pytest.mark.django_db
@pytest.mark.parametrize(("raw", "metric"), list(SWEMWBS_METRIC.items()))
def test_swemwbs_converts_every_raw_total_by_the_published_table(raw: int, metric: str) -> None:
    scored = score("swemwbs", _summing_to(raw))
    assert (scored.raw_total, scored.score) == (raw, Decimal(metric))


@pytest.mark.django_db
def test_swemwbs_hand_worked() -> None:
    # 4 + 3 + 2 + 4 + 3 + 5 + 3 = 24, which the table converts to 21.54.
    scored = score("swemwbs", swemwbs(4, 3, 2, 4, 3, 5, 3))
    assert (scored.raw_total, scored.score, scored.complete) == (24, Decimal("21.54"), True)


@pytest.mark.django_db
def test_ucla_is_the_sum_of_its_three_items() -> None:
    # Some of the time (2) + often (3) + hardly ever (1) = 6: lonely by the usual cut-off of 6 or more.
    scored = score("ucla3", ucla(2, 3, 1))
    assert (scored.raw_total, scored.score) == (6, Decimal(6))
    assert score("ucla3", ucla(1, 1, 1)).score == 3
    assert score("ucla3", ucla(3, 3, 3)).score == 9


@pytest.mark.django_db
def test_ons4_is_never_summed_and_each_item_has_its_band() -> None:
    scored = score("ons4", ons4(3, 5, 7, 6))
    assert (scored.raw_total, scored.score, scored.complete) == (None, None, True)
    assert scored.answers == {"life_satisfaction": 3, "worthwhile": 5, "happy": 7, "anxious": 6}
    bands = {item.code: scoring.band_for(item, scored.answers[item.code]) for item in items("ons4")}
    assert bands == {"life_satisfaction": "Low", "worthwhile": "Medium", "happy": "High", "anxious": "High"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "Low"),
        (4, "Low"),
        (5, "Medium"),
        (6, "Medium"),
        (7, "High"),
        (8, "High"),
        (9, "Very high"),
        (10, "Very high"),
    ],
)
def test_ons4_wellbeing_bands(value: int, band: str) -> None:
    for item in items("ons4")[:3]:
        assert scoring.band_for(item, value) == band, item.code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "band"),
    [(0, "Very low"), (1, "Very low"), (2, "Low"), (3, "Low"), (4, "Medium"), (5, "Medium"), (6, "High"), (10, "High")],
)
def test_ons4_anxiety_bands(value: int, band: str) -> None:
    anxious = items("ons4")[3]
    assert anxious.code == "anxious" and not anxious.higher_is_better
    assert scoring.band_for(anxious, value) == band


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "answers"),
    [("swemwbs", swemwbs(4, 3, 2, 4, 3, 5)), ("ucla3", ucla(2, 3)), ("swemwbs", {}), ("ucla3", ucla(2, "", 3))],
)
def test_a_summed_measure_with_an_item_missing_has_no_score(code: str, answers: dict) -> None:
    scored = score(code, answers)
    assert (scored.raw_total, scored.score, scored.complete) == (None, None, False)
    assert scored.missing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        ("swemwbs", swemwbs(6), "6 is not an answer to “I've been feeling optimistic about the future”"),
        ("swemwbs", swemwbs(0), "choose one of 1, 2, 3, 4, 5"),
        ("ucla3", ucla(4), "4 is not an answer to “How often do you feel that you lack companionship?”"),
        ("ons4", ons4(11), "11 is not an answer to “Overall, how satisfied are you with your life nowadays?”"),
        ("ons4", ons4(-1), "-1 is not an answer"),
        ("ons4", ons4("seven"), "seven is not an answer"),
        ("ons4", ons4(True), "True is not an answer"),
        ("ons4", ons4(5.5), "5.5 is not an answer"),
        ("swemwbs", {"mood": 3}, "“mood” is not a question in this measure"),
        ("ucla3", {"optimistic": 3}, "“optimistic” is not a question in this measure"),
    ],
)
def test_answers_outside_the_options_and_unknown_questions_are_refused(code: str, answers: dict, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        score(code, answers)
    assert message in " ".join(raised.value.messages)
    assert set(raised.value.message_dict) == set(answers)  # keyed by the question, for the form to show it there


@pytest.mark.django_db
def test_answers_given_as_form_strings_are_accepted() -> None:
    assert score("ucla3", {"companionship": "2", "left_out": "2", "isolated": "3"}).score == 7


@pytest.mark.django_db
def test_the_score_range_comes_from_the_data() -> None:
    assert scoring.score_range(instrument("swemwbs"), items("swemwbs")) == (Decimal("7.00"), Decimal("35.00"))
    assert scoring.score_range(instrument("ucla3"), items("ucla3")) == (3, 9)
    assert scoring.score_range(instrument("ons4"), items("ons4")) is None


# --- Change in plain words ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_wellbeing_up_is_better_and_meaningful() -> None:
    change = scoring.score_change(instrument("swemwbs"), Decimal("19.25"), Decimal("22.35"))
    assert change.words == "wellbeing up 3.1 points"
    assert (change.direction, change.better, change.meaningful) == ("up", True, True)


@pytest.mark.django_db
def test_a_small_wellbeing_change_is_not_meaningful() -> None:
    change = scoring.score_change(instrument("swemwbs"), Decimal("19.25"), Decimal("19.98"))
    assert change.words == "wellbeing up 0.73 points"
    assert not change.meaningful
    down = scoring.score_change(instrument("swemwbs"), Decimal("22.35"), Decimal("19.25"))
    assert (down.words, down.better) == ("wellbeing down 3.1 points", False)


@pytest.mark.django_db
def test_loneliness_down_is_better() -> None:
    measure = instrument("ucla3")
    assert scoring.score_change(measure, Decimal(7), Decimal(5)).words == "loneliness down 2 points (better)"
    worse = scoring.score_change(measure, Decimal(5), Decimal(6))
    assert (worse.words, worse.better, worse.meaningful) == ("loneliness up 1 point (worse)", False, True)
    assert scoring.score_change(measure, Decimal(5), Decimal(5)).words == "loneliness unchanged"


@pytest.mark.django_db
def test_no_change_without_both_scores() -> None:
    assert scoring.score_change(instrument("swemwbs"), None, Decimal("19.25")) is None
    assert scoring.score_change(instrument("ons4"), Decimal(1), Decimal(2)) is None  # never summed


@pytest.mark.django_db
def test_ons4_changes_item_by_item_with_bands() -> None:
    measure = instrument("ons4")
    changes = scoring.item_changes(measure, items("ons4"), ons4(3, 5, 7, 7), ons4(5, 5, 8, 4))
    assert [c.words for c in changes] == [
        "life satisfaction up 2 (from Low to Medium)",
        "worthwhile unchanged (still Medium)",
        "happy up 1 (still High)",
        "anxious down 3 (better, from High to Medium)",
    ]
    assert [c.meaningful for c in changes] == [True, False, True, True]
    assert [c.better for c in changes] == [True, None, True, True]
    # An item answered only once has no change.
    assert scoring.item_changes(measure, items("ons4"), ons4(3), ons4(None, 5)) == [None, None, None, None]


def test_figures_are_written_without_trailing_zeros() -> None:
    assert [scoring.number(v) for v in (Decimal("3.10"), Decimal("2.00"), 7, Decimal("0.73"))] == [
        "3.1",
        "2",
        "7",
        "0.73",
    ]


# --- Services -----------------------------------------------------------------------------------------------------
def test_an_assessment_is_scored_and_saved(world: World, case) -> None:
    assessment = take(case, world.link_worker, "swemwbs", "baseline", swemwbs(4, 3, 2, 4, 3, 5, 3))
    assessment.refresh_from_db()
    assert (assessment.raw_total, assessment.score) == (24, Decimal("21.54"))
    assert assessment.answers == swemwbs(4, 3, 2, 4, 3, 5, 3)
    assert assessment.recorded_by == world.link_worker


def test_a_partial_swemwbs_is_saved_without_a_score(world: World, case) -> None:
    assessment = take(case, world.link_worker, "swemwbs", "baseline", swemwbs(4, 3, 2))
    assert (assessment.raw_total, assessment.score, assessment.answers) == (None, None, swemwbs(4, 3, 2))


def test_a_second_baseline_is_refused(world: World, case) -> None:
    take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2))
    with pytest.raises(ValidationError, match="A baseline UCLA-3 is already recorded for this case"):
        take(case, world.colleague, "ucla3", "baseline", ucla(1, 1, 1))
    assert Assessment.objects.filter(case=case).count() == 1
    # Another measure, or the follow-up, is fine.
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3))
    take(case, world.link_worker, "ucla3", "follow_up", ucla(1, 1, 1))
    assert Assessment.objects.filter(case=case).count() == 3


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (("baseline", 5), ("follow_up", 6), "The follow-up must be on or after the baseline"),
        (("follow_up", 6), ("baseline", 5), "The baseline must be on or before the follow-up"),
    ],
)
def test_the_baseline_cannot_come_after_the_follow_up(world: World, case, first, second, message: str) -> None:
    take(case, world.link_worker, "ucla3", first[0], ucla(2, 2, 2), taken_on=days_ago(first[1]))
    with pytest.raises(ValidationError, match=message):
        take(case, world.link_worker, "ucla3", second[0], ucla(2, 2, 2), taken_on=days_ago(second[1]))
    # The same day is fine.
    take(case, world.link_worker, "ucla3", second[0], ucla(2, 2, 2), taken_on=days_ago(first[1]))


def test_a_date_in_the_future_is_refused(world: World, case) -> None:
    with pytest.raises(ValidationError, match="today or in the past"):
        take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2), taken_on=days_ago(-1))
    take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2), taken_on=days_ago(0))


def test_measures_can_be_added_for_30_days_after_closure(world: World) -> None:
    recent = factories.ClosedCaseFactory(
        client__service=world.service, link_worker=world.link_worker, closed_on=days_ago(30)
    )
    take(recent, world.link_worker, "ucla3", "follow_up", ucla(1, 1, 1))
    old = factories.ClosedCaseFactory(
        client__service=world.service, link_worker=world.link_worker, closed_on=days_ago(31)
    )
    with pytest.raises(ValidationError, match="until 30 days after a case closes"):
        take(old, world.link_worker, "ucla3", "follow_up", ucla(1, 1, 1))


def test_nothing_answered_is_refused(world: World, case) -> None:
    with pytest.raises(ValidationError, match="Answer at least one question of ONS4"):
        take(case, world.link_worker, "ons4", "baseline", {})


def test_only_the_services_chosen_measures_may_be_used(world: World, case) -> None:
    ServiceInstrument.objects.create(service=world.service, instrument=instrument("swemwbs"))
    assert services.instruments_offered(world.service) == [instrument("swemwbs")]
    assert len(services.instruments_offered(world.other_service)) == 3  # chose none: all active measures
    with pytest.raises(ValidationError, match="UCLA-3 is not one of this service's measures"):
        take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2))


def test_system_use_is_recorded_and_corrected(world: World, case) -> None:
    services.system_use_record(case=case, by=world.link_worker, period="before", gp_appointments=6, ae_attendances=1)
    services.system_use_record(case=case, by=world.colleague, period="before", gp_appointments=5, ae_attendances=None)
    use = SystemUse.objects.get(case=case)
    assert (use.gp_appointments, use.ae_attendances, use.recorded_by) == (5, None, world.colleague)
    with pytest.raises(ValidationError, match="once the case is closed"):
        services.system_use_record(case=case, by=world.link_worker, period="after", gp_appointments=2, ae_attendances=0)
    with pytest.raises(ValidationError, match="Enter 0 to 200 GP appointments"):
        services.system_use_record(
            case=case, by=world.link_worker, period="before", gp_appointments=-1, ae_attendances=0
        )


# --- Views: who may -------------------------------------------------------------------------------------------------
def _urls(case) -> list[str]:
    return [
        reverse("measures:choose", args=[case.pk]),
        reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"]),
        reverse("measures:system_use", args=[case.pk]),
    ]


def test_anonymous_people_are_sent_to_sign_in(client, case) -> None:
    for url in _urls(case):
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), url


def test_people_of_another_service_get_404(client, world: World, case) -> None:
    login(client, world.other_link_worker)
    for url in _urls(case):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url


@pytest.mark.parametrize("persona", ["supervisor", "referrer", "commissioner", "nobody"])
def test_people_who_may_not_record_get_403(client, world: World, case, persona: str) -> None:
    login(client, getattr(world, persona))
    for url in _urls(case):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url
    assert not Assessment.objects.exists()


def test_the_supervisor_sees_the_measures_but_no_way_to_record(client, world: World, case) -> None:
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3))
    login(client, world.supervisor)
    page = client.get(reverse("clients:case", args=[case.pk])).content.decode()
    assert "Wellbeing measures" in page and "19.25 (raw 21)" in page
    assert "Needs a baseline and a follow-up" in page
    assert "Record a wellbeing measure" not in page
    assert "Record GP appointments" not in page


def test_a_service_manager_may_record(client, world: World, case) -> None:
    login(client, world.manager)
    url = reverse("measures:record", args=[case.pk, instrument("ucla3").pk, "baseline"])
    response = client.post(url, {**_when(), "item_companionship": "2", "item_left_out": "3", "item_isolated": "2"})
    assert response.status_code == 302
    assert Assessment.objects.get(case=case).recorded_by == world.manager


# --- Views: choosing a measure ------------------------------------------------------------------------------------
def _checked(page: str, name: str, value: str) -> bool:
    return re.search(rf'<input[^>]*name="{name}" value="{re.escape(value)}"[^>]*\bchecked\b', page) is not None


def test_choosing_suggests_the_baseline_then_the_follow_up(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("measures:choose", args=[case.pk])
    page = client.get(url).content.decode()
    assert _checked(page, "timepoint", "baseline")
    for measure in Instrument.objects.all():
        assert measure.name in page
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3), taken_on=days_ago(3))
    page = client.get(url).content.decode()
    assert _checked(page, "timepoint", "follow_up")
    taken = days_ago(3)
    assert f"Baseline taken {taken.day} {taken:%B %Y}" in page


def test_choosing_goes_to_the_questionnaire(client, world: World, case) -> None:
    login(client, world.link_worker)
    swemwbs_id = instrument("swemwbs").pk
    response = client.post(
        reverse("measures:choose", args=[case.pk]), {"instrument": swemwbs_id, "timepoint": "baseline"}
    )
    assert response.status_code == 302
    assert response.url == reverse("measures:record", args=[case.pk, swemwbs_id, "baseline"])


def test_choosing_one_already_recorded_says_so(client, world: World, case) -> None:
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3))
    login(client, world.link_worker)
    response = client.post(
        reverse("measures:choose", args=[case.pk]), {"instrument": instrument("swemwbs").pk, "timepoint": "baseline"}
    )
    assert response.status_code == 400
    assert "A baseline SWEMWBS is already recorded for this case" in response.content.decode()
    response = client.post(reverse("measures:choose", args=[case.pk]), {})
    page = response.content.decode()
    assert response.status_code == 400 and "Choose a measure" in page and "Choose baseline or follow-up" in page
    # Going straight to the questionnaire is turned back too.
    response = client.get(reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"]))
    assert response.status_code == 302 and response.url == reverse("measures:choose", args=[case.pk])


def test_a_measure_the_service_does_not_use_or_a_made_up_timepoint_is_404(client, world: World, case) -> None:
    ServiceInstrument.objects.create(service=world.service, instrument=instrument("swemwbs"))
    login(client, world.link_worker)
    assert client.get(reverse("measures:record", args=[case.pk, instrument("ucla3").pk, "baseline"])).status_code == 404
    assert client.get(reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "midway"])).status_code == 404
    page = client.get(reverse("measures:choose", args=[case.pk])).content.decode()
    assert instrument("swemwbs").name in page and instrument("ucla3").name not in page


# --- Views: the questionnaire -------------------------------------------------------------------------------------
def _when(day: dt.date | None = None, mode: str = "with_person") -> dict[str, str]:
    day = day or timezone.localdate()
    return {
        "taken_on_day": str(day.day),
        "taken_on_month": str(day.month),
        "taken_on_year": str(day.year),
        "mode": mode,
    }


def _swemwbs_post(*values: int) -> dict[str, str]:
    return {f"item_{code}": str(value) for code, value in zip(SWEMWBS_ITEMS, values, strict=False)}


def test_the_questionnaire_shows_the_instructions_questions_options_and_notice(client, world: World, case) -> None:
    login(client, world.link_worker)
    page = client.get(reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"])).content.decode()
    measure = instrument("swemwbs")
    assert measure.instructions in page
    assert "Short Warwick Edinburgh Mental Wellbeing Scale (SWEMWBS) © NHS Health Scotland" in page
    for item in measure.items.all():
        assert item.text.replace("'", "&#x27;") in page
    for label in ["None of the time", "Rarely", "Some of the time", "Often", "All of the time"]:
        assert f">{label}</label>" in page
    assert "SWEMWBS then has no score: a score needs every question answered" in page
    assert "(optional)" not in page.split("When and how")[0]
    assert _checked(page, "mode", "with_person")


def test_a_complete_questionnaire_is_saved_scored_and_audited(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"])
    response = client.post(url, {**_when(mode="paper"), **_swemwbs_post(4, 3, 2, 4, 3, 5, 3)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("clients:case", args=[case.pk])
    assert "SWEMWBS baseline saved: score 21.54" in response.content.decode()
    assessment = Assessment.objects.get(case=case)
    assert (assessment.score, assessment.mode, assessment.taken_on) == (
        Decimal("21.54"),
        "paper",
        timezone.localdate(),
    )
    event = AuditEvent.objects.get(object_id=str(assessment.pk))
    assert (event.action, event.actor, event.summary) == ("create", world.link_worker, "SWEMWBS baseline recorded")


def test_a_partial_questionnaire_is_saved_and_says_it_has_no_score(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"])
    response = client.post(url, {**_when(), **_swemwbs_post(4, 3, 2, 4, 3)}, follow=True)
    page = response.content.decode()
    assert "SWEMWBS baseline saved. It has no score: 2 questions not answered" in page
    assert "The baseline has no score: 2 questions not answered." in page
    assert Assessment.objects.get(case=case).score is None


def test_mistakes_answer_400_with_the_messages_and_keep_the_answers(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("measures:record", args=[case.pk, instrument("swemwbs").pk, "baseline"])
    future = timezone.localdate() + dt.timedelta(days=3)
    data = {**_when(future), **_swemwbs_post(4, 3, 2, 4, 3, 5), "item_own_mind": "9", "mode": ""}
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "<title>Error: " in page
    assert "There is a problem" in page
    assert "Date taken must be today or in the past" in page
    assert "Choose one of the answers to “I&#x27;ve been able to make up my own mind about things”" in page
    assert "Choose how it was completed" in page
    for code, value in zip(SWEMWBS_ITEMS, [4, 3, 2, 4, 3, 5], strict=False):
        assert _checked(page, f"item_{code}", str(value)), code
    for part in ("day", "month", "year"):
        assert f'name="taken_on_{part}" value="{getattr(future, part)}"' in page
    assert not Assessment.objects.exists()


def test_a_follow_up_before_the_baseline_is_explained_on_the_date(client, world: World, case) -> None:
    take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2), taken_on=days_ago(2))
    login(client, world.link_worker)
    url = reverse("measures:record", args=[case.pk, instrument("ucla3").pk, "follow_up"])
    response = client.post(url, {**_when(days_ago(5)), "item_companionship": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The follow-up must be on or after the baseline" in page
    assert _checked(page, "item_companionship", "1")


def test_nothing_answered_is_explained(client, world: World, case) -> None:
    login(client, world.link_worker)
    response = client.post(reverse("measures:record", args=[case.pk, instrument("ons4").pk, "baseline"]), _when())
    assert response.status_code == 400
    assert "Answer at least one question of ONS4" in response.content.decode()


# --- Views: GP appointments ----------------------------------------------------------------------------------------
def test_gp_appointments_before_referral(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("measures:system_use", args=[case.pk])
    page = client.get(url).content.decode()
    assert "In the 3 months before referral" in page and "In the 3 months after closure" not in page
    response = client.post(url, {"before_gp": "6", "before_ae": "1"}, follow=True)
    assert "GP appointments and A&amp;E attendances saved" in response.content.decode()
    assert "6 GP appointments, 1 A&amp;E attendance" in response.content.decode()
    assert SystemUse.objects.get(case=case, period="before").gp_appointments == 6
    # Shown again for correction.
    assert 'value="6"' in client.get(url).content.decode()


def test_gp_appointments_after_closure_show_the_change(client, world: World) -> None:
    closed = factories.ClosedCaseFactory(client__service=world.service, link_worker=world.link_worker)
    login(client, world.link_worker)
    url = reverse("measures:system_use", args=[closed.pk])
    response = client.post(url, {"before_gp": "6", "after_gp": "2", "after_ae": "0"}, follow=True)
    page = response.content.decode()
    assert "GP appointments down 4 (better)" in page
    assert "2 GP appointments, 0 A&amp;E attendances" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter the number of GP appointments (0 if none)"),
        ({"before_ae": "2"}, "Enter the number of GP appointments (0 if none)"),
        ({"before_gp": "lots"}, "GP appointments must be a number, like 3"),
        ({"before_gp": "500"}, "GP appointments must be 200 or fewer"),
        ({"before_gp": "-2"}, "GP appointments must be 0 or more"),
    ],
)
def test_gp_appointment_mistakes_answer_400(client, world: World, case, data: dict, message: str) -> None:
    login(client, world.link_worker)
    response = client.post(reverse("measures:system_use", args=[case.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    for value in data.values():
        assert f'value="{value}"' in page
    assert not SystemUse.objects.exists()


# --- The case page -------------------------------------------------------------------------------------------------
def test_the_case_page_shows_scores_change_chart_and_table(client, world: World, case) -> None:
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3))  # 21 → 19.25
    take(case, world.link_worker, "swemwbs", "follow_up", swemwbs(4, 4, 3, 3, 4, 3, 4))  # 25 → 22.35
    take(case, world.link_worker, "ucla3", "baseline", ucla(3, 2, 2))
    take(case, world.link_worker, "ucla3", "follow_up", ucla(2, 1, 2))
    take(case, world.link_worker, "ons4", "baseline", ons4(3, 5, 7, 7))
    take(case, world.link_worker, "ons4", "follow_up", ons4(5, 5, 8, 4))
    login(client, world.link_worker)
    page = client.get(reverse("clients:case", args=[case.pk])).content.decode()
    section = page.split('id="wellbeing-measures"')[1].split("Community connections")[0]
    for words in [
        "Wellbeing up 3.1 points",
        "Loneliness down 2 points (better)",
        "Life satisfaction up 2 (from Low to Medium)",
        "Anxious down 3 (better, from High to Medium)",
        "19.25 (raw 21)",
        "22.35 (raw 25)",
        "Lonely (6 or more): yes at baseline, no at follow-up",
        "7 (High)",
    ]:
        assert words in section, words
    assert section.count('role="img"') == 3
    assert section.count("<table") == 3
    assert "Wellbeing score: baseline 19.25, follow-up 22.35 (scale 7 to 35, higher is better)" in section
    assert "style=" not in section  # the CSP forbids inline styles: the chart uses SVG attributes
    assert "Record a wellbeing measure" in section


def test_the_case_page_before_any_measure(client, world: World, case) -> None:
    login(client, world.link_worker)
    page = client.get(reverse("clients:case", args=[case.pk])).content.decode()
    assert "No wellbeing measures recorded yet." in page
    assert reverse("measures:choose", args=[case.pk]) in page
    assert reverse("measures:system_use", args=[case.pk]) in page


def test_a_case_closed_long_ago_offers_no_new_measures(client, world: World) -> None:
    old = factories.ClosedCaseFactory(
        client__service=world.service, link_worker=world.link_worker, closed_on=days_ago(40)
    )
    login(client, world.link_worker)
    page = client.get(reverse("clients:case", args=[old.pk])).content.decode()
    assert "Record a wellbeing measure" not in page
    response = client.post(
        reverse("measures:choose", args=[old.pk]), {"instrument": instrument("ucla3").pk, "timepoint": "follow_up"}
    )
    assert response.status_code == 400
    assert "Measures can be recorded until 30 days after a case closes" in response.content.decode()


def _count(client, url: str) -> int:

    forget_kept_access()  # counted as a user's first request in a process
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_case_section_query_count_does_not_grow_with_measures(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("clients:case", args=[case.pk])
    take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2))
    small = _count(client, url)
    # The section adds one query whatever it shows: the assessments, their instruments with their items, and the
    # GP figures, together.
    take(case, world.link_worker, "ucla3", "follow_up", ucla(1, 2, 1))
    take(case, world.link_worker, "swemwbs", "baseline", swemwbs(3, 3, 3, 3, 3, 3, 3))
    take(case, world.link_worker, "swemwbs", "follow_up", swemwbs(4, 4, 4, 4, 4, 4, 4))
    take(case, world.link_worker, "ons4", "baseline", ons4(3, 5, 7, 7))
    take(case, world.link_worker, "ons4", "follow_up", ons4(5, 5, 8, 4))
    services.system_use_record(case=case, by=world.link_worker, period="before", gp_appointments=6, ae_attendances=1)
    assert _count(client, url) == small


def test_the_section_adds_one_query_to_the_case_page(client, world: World, case) -> None:
    from django.template import Context, Template

    take(case, world.link_worker, "ucla3", "baseline", ucla(2, 2, 2))
    take(case, world.link_worker, "ons4", "baseline", ons4(3, 5, 7, 7))
    services.system_use_record(case=case, by=world.link_worker, period="before", gp_appointments=6, ae_attendances=1)
    template = Template('{% include "outcomes/measures/_case_section.html" %}')
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(Context({"case": case, "client": case.client, "can_write": True}))
    # The assessments, their instruments with their items, and the GP and A&E figures, as one JSON object.
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
    assert "UCLA 3-item loneliness scale" in html
    assert "7 (High)" in html  # an ONS4 item with its band, from the instrument's items
    assert "6 GP appointments, 1 A&amp;E attendance" in html


def test_site_admins_can_add_instruments_and_choose_a_services(client, world) -> None:
    from django.urls import reverse

    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save()
    login(client, world.admin)
    assert client.get(reverse("admin:outcomes_instrument_add")).status_code == 200
    assert client.get(reverse("admin:outcomes_serviceinstrument_add")).status_code == 200
