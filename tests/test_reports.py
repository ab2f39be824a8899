"""Commissioner reports on a small dataset worked out by hand, suppression, downloads and safety."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clients.models import Connection
from linkwork.audit.models import Action, AuditEvent
from outcomes import downloads, reports
from outcomes.models import Assessment, Instrument, SystemUse
from tests import factories
from tests.conftest import PERSONAS, World, login

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=60)


def at(days_ago: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10)))


@pytest.fixture
def dataset(world: World):
    """12 referrals in the period (10 from the practice, 2 self-referrals): 9 accepted, 3 declined; plus one
    from before the period. Three SWEMWBS pairs, two people with GP appointments before and after."""
    practice = world.practice
    accepted = []
    for i in range(9):
        referral = factories.AcceptedReferralFactory(
            service=world.service,
            source_organisation=practice if i < 8 else None,
            channel="staff" if i < 8 else "self",
            received_at=at(30),
            given_name="Secret",
            family_name=f"Person{'abcdefghi'[i]}",
            nhs_number="9990000026",
            reasons=["loneliness", "money"] if i < 4 else ["loneliness"],
        )
        accepted.append(referral)
    for i in range(3):
        factories.DeclinedReferralFactory(
            service=world.service,
            source_organisation=practice if i < 2 else None,
            channel="staff" if i < 2 else "self",
            received_at=at(20),
            decline_reason="not_eligible" if i < 2 else "person_declined",
        )
    factories.NewReferralFactory(service=world.service, received_at=at(200))  # outside the period
    swemwbs = Instrument.objects.get(code="swemwbs")
    for referral, (before, after) in zip(accepted[:3], [(14.08, 19.25), (19.98, 21.54), (23.21, 22.35)], strict=True):
        case = referral.case
        case.closed_on, case.status, case.closure_reason = TODAY - dt.timedelta(days=2), "closed", "goals_met"
        case.save()
        for timepoint, score, days in (("baseline", before, 50), ("follow_up", after, 3)):
            Assessment.objects.create(
                case=case,
                instrument=swemwbs,
                timepoint=timepoint,
                taken_on=TODAY - dt.timedelta(days=days),
                answers={},
                score=score,
                recorded_by=world.link_worker,
            )
    for referral, (before, after) in zip(accepted[:2], [(6, 2), (4, 3)], strict=True):
        SystemUse.objects.create(
            case=referral.case, period="before", gp_appointments=before, recorded_by=world.link_worker
        )
        SystemUse.objects.create(
            case=referral.case, period="after", gp_appointments=after, recorded_by=world.link_worker
        )
    group = factories.CommunityServiceFactory(
        provider__service=world.service, name='=HYPERLINK("http://x")', categories=["arts"]
    )
    Connection.objects.create(case=accepted[0].case, service=group, status="attending", created_by=world.link_worker)
    Connection.objects.create(case=accepted[1].case, service=group, status="suggested", created_by=world.link_worker)
    return accepted


def scope(world: World) -> reports.Scope:
    return reports.Scope(services=(world.service,), start=START, end=TODAY)


def table(world: World, key: str) -> reports.Table:
    return next(t for _, _, tables in reports.build(scope(world)) for t in tables if t.key == key)


def test_activity_figures_match_the_hand_count(world: World, dataset) -> None:
    assert table(world, "referrals_by_source").rows == [["Riverside Surgery", 10], ["Self-referral", 2]]
    assert dict(map(tuple, table(world, "referrals_by_reason").rows)) == {
        "Loneliness or isolation": 12,
        "Money and debt": 4,
    }
    decisions = table(world, "decisions")
    assert decisions.shown(suppressed=False) == [
        ["Accepted", 9, "75%", 12],
        ["Declined", 3, "25%", 12],
        ["Waiting for triage", 0, "0%", 12],
    ]
    assert dict(map(tuple, table(world, "decline_reasons").rows)) == {
        "Not eligible for this service": 2,
        "The person declined": 1,
    }


def test_person_outcomes_mean_change_and_confidence_interval(world: World, dataset) -> None:
    row = next(r for r in table(world, "wellbeing_change").rows if r[0] == "SWEMWBS")
    changes = [19.25 - 14.08, 21.54 - 19.98, 22.35 - 23.21]  # 5.17, 1.56, -0.86
    mean = statistics.fmean(changes)
    half = 4.30 * statistics.stdev(changes) / 3**0.5  # t(2 df) = 4.30
    assert row[1] == 3
    assert row[2] == round(mean, 2) == 1.96
    assert row[3] == f"{mean - half:.1f} to {mean + half:.1f}"
    assert row[4] == 2  # 5.17 and 1.56 are at least 1 point better
    completion = next(r for r in table(world, "follow_up_completion").rows if r[0] == "SWEMWBS")
    assert completion[1:3] == [3, 3]


def test_equity_figures_match_the_hand_count(world: World, dataset) -> None:
    """Age on the day of referral, sex and ethnic category (known once a person is accepted) and the deprivation
    decile of the referral's postcode, each with its referrals, acceptances and declines."""
    from clients.models import Client
    from community.models import PostcodeArea
    from referrals.models import Referral

    PostcodeArea.objects.create(postcode="LS14AP", imd_decile=3)
    PostcodeArea.objects.create(postcode="BD11AA", imd_decile=1)
    for referral in dataset[:3]:
        Client.objects.filter(pk=referral.case.client_id).update(sex="female", ethnic_category="A")
    Client.objects.filter(pk=dataset[3].case.client_id).update(sex="male", ethnic_category="N")
    received = (TODAY - dt.timedelta(days=30)).year
    Referral.objects.filter(pk=dataset[4].pk).update(date_of_birth=dt.date(received - 30, 1, 1), postcode="bd1 1aa")
    declined = Referral.objects.filter(status="declined").order_by("pk")
    Referral.objects.filter(pk=declined[0].pk).update(
        date_of_birth=dt.date((TODAY - dt.timedelta(days=20)).year - 10, 1, 1), postcode="ZZ99 9ZZ"
    )
    rows = {key: table(world, key).rows for key in ("equity_age", "equity_sex", "equity_ethnicity")}
    assert rows["equity_age"] == [
        ["Under 18", 1, 0, 1, None],
        ["25 to 34", 1, 1, 0, None],
        ["75 to 84", 10, 8, 2, None],  # born 2 January 1950
    ]
    assert rows["equity_sex"] == [["Not recorded", 8, 5, 3, None], ["Female", 3, 3, 0, None], ["Male", 1, 1, 0, None]]
    assert rows["equity_ethnicity"] == [
        ["Not recorded", 8, 5, 3, None],
        ["White: British", 3, 3, 0, None],
        ["Black or Black British: African", 1, 1, 0, None],
    ]
    assert table(world, "equity_deprivation").rows == [
        ["Decile 1 (most deprived)", 1, 1, 0, None],
        ["Decile 3", 10, 8, 2, None],
        ["Not known", 1, 0, 1, None],  # a postcode the lookup does not hold
    ]


def test_follow_up_completion_counts_each_measure_for_cases_closed_in_the_period(world: World, dataset) -> None:
    ucla = Instrument.objects.get(code="ucla3")
    closed = dataset[0].case
    for timepoint in ("baseline", "follow_up"):
        Assessment.objects.create(
            case=closed,
            instrument=ucla,
            timepoint=timepoint,
            taken_on=TODAY - dt.timedelta(days=5),
            answers={},
            score=5,
            recorded_by=world.link_worker,
        )
    Assessment.objects.create(  # a case still open: not counted
        case=dataset[5].case,
        instrument=ucla,
        timepoint="baseline",
        taken_on=TODAY - dt.timedelta(days=5),
        answers={},
        score=6,
        recorded_by=world.link_worker,
    )
    rows = {r[0]: r[1:3] for r in table(world, "follow_up_completion").rows}
    assert rows.pop("SWEMWBS") == [3, 3]
    assert rows.pop(ucla.short_name) == [1, 1]
    assert rows and all(counts == [0, 0] for counts in rows.values())


def test_system_impact(world: World, dataset) -> None:
    assert table(world, "gp_appointments").rows == [["GP appointments", 2, 5.0, 2.5, -2.5]]


def test_community_take_up(world: World, dataset) -> None:
    assert table(world, "connections_by_service").shown(suppressed=False) == [['=HYPERLINK("http://x")', 2, 1, "50%"]]
    assert table(world, "connections_by_category").rows[0][:3] == ["Arts and creativity", 2, 1]


def test_commissioners_get_suppressed_figures_and_no_names(client, world: World, dataset) -> None:
    login(client, world.commissioner)
    page = client.get(reverse("outcomes:reports"), {"period": "last_12_months"}).text
    assert "Counts from 1 to 7 are shown as *" in page
    for secret in ("Secret", "Persona", "9990000026", "999 000 0026"):
        assert secret not in page
    decisions = table(world, "decisions").shown(suppressed=True)
    assert decisions[0][:3] == ["Accepted", 10, "100%"]  # 9 rounds to 10, 12 referrals round to 10: 10 of 10
    assert decisions[1][:3] == ["Declined", "*", "*"]
    gp = table(world, "gp_appointments").shown(suppressed=True)
    assert gp == [["GP appointments", "*", "*", "*", "*"]]  # averages over 2 people are hidden


def test_service_staff_may_see_their_own_figures_unsuppressed(client, world: World, dataset) -> None:
    login(client, world.manager)
    response = client.get(reverse("outcomes:reports"), {"period": "last_12_months"})
    assert not response.context["suppressed"]
    assert "Figures are not suppressed" in response.text
    response = client.get(reverse("outcomes:reports"), {"period": "last_12_months", "suppress": "1"})
    assert response.context["suppressed"]


def test_a_report_for_one_practice_names_it_and_counts_only_its_referrals(client, world: World, dataset) -> None:
    """The practice list holds names only (report_forms): the chosen practice still scopes and names the report."""
    login(client, world.manager)
    response = client.get(reverse("outcomes:reports"), {"period": "last_12_months", "practice": str(world.practice.pk)})
    assert response.status_code == 200
    assert f"referrals from {world.practice.name}" in response.text
    assert response.context["scope"].practice == world.practice


def test_downloads_carry_no_identifiable_data_and_neutralise_formulas(client, world: World, dataset) -> None:
    login(client, world.commissioner)
    zipped = client.get(reverse("outcomes:reports"), {"period": "last_12_months", "format": "csv"})
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    names = archive.namelist()
    assert names[0] == "00-about.csv" and len(names) > 10
    everything = "".join(archive.read(n).decode() for n in names)
    for secret in ("Secret", "9990000026"):
        assert secret not in everything
    services = list(
        csv.reader(io.StringIO(archive.read(next(n for n in names if "connections_by_service" in n)).decode()))
    )
    assert services[1][0] == '\'=HYPERLINK("http://x")'
    assert "Counts from 1 to 7" in archive.read("00-about.csv").decode()

    response = client.get(reverse("outcomes:reports"), {"period": "last_12_months", "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames[0] == "About this report"
    assert "Referrals received by source" in book.sheetnames
    cover = {row[0]: row[1] for row in book["About this report"].iter_rows(values_only=True)}
    assert "Counts from 1 to 7" in cover["Small numbers"]
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)
    assert not any("Secret" in str(c) for c in cells)
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor=world.commissioner).count() == 2


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"])
def test_formula_like_text_is_neutralised(value: str) -> None:
    assert downloads.safe_cell(value) == "'" + value
    assert downloads.safe_cell(5) == 5 and downloads.safe_cell("Plain") == "Plain"


def test_report_queries_do_not_grow_with_the_data(world: World, dataset) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            reports.build(scope(world))
        return len(ctx.captured_queries)

    small = count()
    for _ in range(20):
        factories.AcceptedReferralFactory(service=world.service, received_at=at(10), source_organisation=world.practice)
    assert count() == small


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_see_reports(client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    allowed = {"commissioner", "manager", "supervisor", "link_worker", "other_link_worker"}
    assert client.get(reverse("outcomes:reports")).status_code == (200 if persona in allowed else 403)


def test_a_commissioner_cannot_pick_a_service_they_do_not_commission(client, world: World) -> None:
    login(client, world.commissioner)
    response = client.get(
        reverse("outcomes:reports"), {"period": "last_quarter", "service": str(world.other_service.pk)}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.text


def test_custom_dates_are_checked(client, world: World) -> None:
    login(client, world.manager)
    response = client.get(
        reverse("outcomes:reports"),
        {
            "period": "custom",
            "start_day": "1",
            "start_month": "6",
            "start_year": "2026",
            "end_day": "1",
            "end_month": "5",
            "end_year": "2026",
        },
    )
    assert response.status_code == 400
    assert "The end of the period must be after its start" in response.text


def test_last_quarter() -> None:
    assert reports.last_quarter(dt.date(2026, 11, 24)) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert reports.last_quarter(dt.date(2026, 2, 1)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))


def test_charts_download_as_svg_with_suppression(client, world: World, dataset) -> None:
    login(client, world.commissioner)
    response = client.get(
        reverse("outcomes:reports"), {"period": "last_12_months", "format": "svg", "chart": "referrals_by_source"}
    )
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert ">10<" in svg and ">*<" in svg  # 10 from the practice; 2 self-referrals suppressed
    missing = client.get(reverse("outcomes:reports"), {"period": "last_12_months", "format": "svg", "chart": "nope"})
    assert missing.status_code == 404


def test_the_report_filters_read_their_choices_with_plain_queries_not_a_server_side_cursor(world: World) -> None:
    """linkwork.forms.ListedModelChoiceField: drawing a list is one plain query, never DECLARE ... CURSOR (three
    round trips), and drawing it twice reads it once."""
    from outcomes.report_forms import ReportForm

    form = ReportForm({"period": "last_quarter", "practice": str(world.practice.pk)}, services=[world.service])
    with CaptureQueriesContext(connection) as queries:
        assert form.is_valid(), form.errors  # the chosen practice: one query
        html = str(form["practice"])  # the list: one query
        assert str(form["practice"]) == html  # drawn again from the same list
    assert form.cleaned_data["practice"] == world.practice
    assert f'value="{world.practice.pk}" selected' in html and world.practice.name in html
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "CURSOR" in s]
    assert len(sql) == 2


def _filter_form(page: str) -> str:
    start = page.index('<form method="get"')
    return page[start : page.index("</form>", start)]


def test_the_report_filters_are_drawn_once_then_taken_from_the_cache_unchanged(client, world: World) -> None:
    from django.core.cache import cache

    login(client, world.commissioner)
    asked = {"period": "last_12_months", "practice": str(world.practice.pk)}

    def look() -> tuple[str, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("outcomes:reports"), asked)
        assert response.status_code == 200
        return _filter_form(response.text), [q["sql"] for q in queries.captured_queries]

    def lists_read(sql: list[str]) -> list[str]:
        names = 'SELECT DISTINCT "accounts_organisation"."id", "accounts_organisation"."name"'
        return [s for s in sql if s.startswith(names) and "LIMIT" not in s]  # not the chosen one's check

    cache.clear()
    drawn, drawn_sql = look()
    cached, cached_sql = look()
    assert cached == drawn
    # The lists of networks and practices (read for the form, and by the figures) are not read again.
    assert len(lists_read(drawn_sql)) >= 2
    assert lists_read(cached_sql) == []
    assert f'<option value="{world.practice.pk}" selected>{world.practice.name}</option>' in cached
    assert '<option value="last_12_months" selected>' in cached
    asked["period"] = "last_month"  # another question, another form
    other, _ = look()
    assert '<option value="last_month" selected>' in other
    assert '<option value="last_12_months" selected>' not in other


def test_a_renamed_practice_shows_in_the_report_filters_at_the_next_look(client, world: World) -> None:
    login(client, world.commissioner)
    assert world.practice.name in _filter_form(client.get(reverse("outcomes:reports")).text)
    world.practice.name = "Riverside Renamed Surgery"
    world.practice.save(update_fields=["name"])
    assert "Riverside Renamed Surgery" in _filter_form(client.get(reverse("outcomes:reports")).text)


def test_report_filters_with_a_mistake_are_drawn_afresh_with_what_was_typed(client, world: World) -> None:
    login(client, world.manager)
    asked = {"period": "custom", "start_day": "1", "start_month": "6", "start_year": "2026", "end_day": "31"}
    for _ in range(2):
        response = client.get(reverse("outcomes:reports"), {**asked, "end_month": "2", "end_year": "2026"})
        assert response.status_code == 400
        form = _filter_form(response.text)
        assert "nhsuk-error-message" in form
        assert 'value="31"' in form


def test_tables_with_equal_counts_list_them_by_name_every_time(world: World) -> None:
    """Equal counts came out in whatever order PostgreSQL grouped them, so the page, the CSV and the XLSX of the
    same report could list them differently. Most first, then by name."""
    names = ["Yew Tree Surgery", "Willow Practice", "oak lane surgery", "Maple Medical Centre", "Elm Surgery"]
    for name in names:  # made in reverse order of name, each sending two referrals
        practice = factories.PracticeFactory(name=name, services=[world.service])
        for _ in range(2):
            factories.NewReferralFactory(service=world.service, source_organisation=practice, received_at=at(10))
    busiest = factories.PracticeFactory(name="Zed Surgery", services=[world.service])
    for _ in range(3):
        factories.NewReferralFactory(service=world.service, source_organisation=busiest, received_at=at(10))
    groups = [
        factories.CommunityServiceFactory(provider__service=world.service, name=name)
        for name in ("Walking group", "Choir", "Allotment")
    ]
    for group in groups:
        case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
        Connection.objects.create(case=case, service=group, status="attending", created_by=world.link_worker)

    by_source = table(world, "referrals_by_source").rows
    assert by_source == [
        ["Zed Surgery", 3],
        ["Elm Surgery", 2],
        ["Maple Medical Centre", 2],
        ["oak lane surgery", 2],
        ["Willow Practice", 2],
        ["Yew Tree Surgery", 2],
    ]
    assert [row[0] for row in table(world, "connections_by_service").rows] == ["Allotment", "Choir", "Walking group"]
