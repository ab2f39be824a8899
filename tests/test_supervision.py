"""Supervision: the caseload dashboard's figures on a dataset checked by hand, the lists behind them, who may
see what, supervision sessions and actions, cases flagged for supervision, and append-only safeguarding
decisions.

Every test runs on Wednesday 18 March 2026 at 10:00 in London: the period "this month" is 1 to 18 March, this
week began on Monday 16 March and the 12 weeks of trends begin on Monday 29 December 2025."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import services as client_services
from clients.models import (
    AlertKind,
    Case,
    CaseStatus,
    CaseSupervisionFlag,
    Client,
    ClientAlert,
    Contact,
    ContactMethod,
    HomeVisit,
    SafeguardingConcern,
    SafeguardingDecision,
)
from linkwork.accounts.access import forget_kept_access
from linkwork.accounts.models import Membership, Organisation, Role, User
from linkwork.audit.models import AuditEvent
from linkwork.notifications.models import Notification
from outcomes import selectors, supervision_selectors
from outcomes.models import SupervisionAction, SupervisionSession
from outcomes.supervision_selectors import DashboardFilter, Period
from referrals.models import Channel, ReferralStatus
from tests import factories
from tests.conftest import SESSION_QUERIES, World, login

LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 3, 18)


@pytest.fixture(autouse=True)
def wednesday_18_march():
    with time_machine.travel(dt.datetime(2026, 3, 18, 10, 0, tzinfo=LONDON), tick=False):
        yield


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def make_case(
    world: World,
    worker: User | None,
    *,
    start: dt.date,
    contacts: list[dt.date] = (),
    attempts: list[dt.date] = (),
    practice: Organisation | None = None,
    name: str = "",
    service: Organisation | None = None,
    **fields,
) -> Case:
    given, _, family = name.partition(" ") if name else ("", "", "")
    client_fields = {"client__given_name": given, "client__family_name": family} if name else {}
    case = factories.ActiveCaseFactory(
        client__service=service or world.service,
        client__practice=practice,
        link_worker=worker,
        start_date=start,
        window_end=fields.pop("window_end", start + dt.timedelta(weeks=13)),
        **client_fields,
        **fields,
    )
    recorder = worker or world.manager
    for day in contacts:
        factories.ContactFactory(case=case, at=at(day), recorded_by=recorder)
    for day in attempts:
        factories.ContactFactory(case=case, at=at(day), attempted_only=True, recorded_by=recorder)
    return case


@pytest.fixture
def hill(world: World) -> Organisation:
    return factories.PracticeFactory(name="Hill Surgery", services=[world.service])


@pytest.fixture
def known(world: World, hill: Organisation) -> dict[str, Case]:
    """The dataset the figures below were counted from by hand.

    Amira (link worker):
      A1 active, started 10 Mar, never seen                      → active, new, first contact overdue, waiting
      A2 active, started 5 Jan, 12 contacts, last on 1 Mar       → active, no contact 14+ days, 12+ contacts
      A3 paused, window ended 31 Jan, 3 contacts, open alert     → past window, open alert
      A4 closed 5 Mar with 8 contacts (and 2 attempts)           → closed in the period, 8 contacts per case
      A5 closed 20 Feb with 4 contacts                           → not in this month's period
    Tom (colleague):
      T1 active, started 2 Mar, seen once on 3 Mar               → active, new, no contact 14+ days
      T2 active, started 1 Feb, one attempt only                 → active, first contact overdue, no contact 14+,
                                                                   waiting for first contact
    Nobody: U1 active, started 15 Mar                            → active, new, waiting for first contact
    Another service: O1 (never counted).
    Home visits this week: Amira on Thu 19 Mar (A2), Tom on Mon 16 Mar (T1); Amira's visit on 23 Mar is next week.
    """
    p = world.practice
    cases = {
        "A1": make_case(world, world.link_worker, start=d(3, 10), practice=p, name="Alice Overdue"),
        "A2": make_case(
            world,
            world.link_worker,
            start=d(1, 5),
            practice=p,
            contacts=[d(1, 5) + dt.timedelta(days=4 * i) for i in range(11)] + [d(3, 1)],
            name="Bob Busy",
        ),
        "A3": make_case(
            world,
            world.link_worker,
            start=d(11, 1, 2025),
            window_end=d(1, 31),
            status=CaseStatus.PAUSED,
            contacts=[d(11, 3, 2025), d(11, 20, 2025), d(12, 10, 2025)],
            practice=hill,
            name="Carol Paused",
        ),
        "A4": make_case(
            world,
            world.link_worker,
            start=d(12, 1, 2025),
            status=CaseStatus.CLOSED,
            closed_on=d(3, 5),
            closure_reason="goals_met",
            contacts=[d(12, 2, 2025) + dt.timedelta(days=7 * i) for i in range(8)],
            attempts=[d(2, 20), d(2, 21)],
            name="Dan Closed",
        ),
        "A5": make_case(
            world,
            world.link_worker,
            start=d(11, 10, 2025),
            status=CaseStatus.CLOSED,
            closed_on=d(2, 20),
            closure_reason="goals_met",
            contacts=[d(11, 11, 2025), d(12, 1, 2025), d(1, 5), d(2, 1)],
            name="Eve Earlier",
        ),
        "T1": make_case(world, world.colleague, start=d(3, 2), contacts=[d(3, 3)], practice=p, name="Fay Once"),
        "T2": make_case(world, world.colleague, start=d(2, 1), attempts=[d(2, 3)], practice=hill, name="Gus Tried"),
        "U1": make_case(world, None, start=d(3, 15), name="Hal Nobody"),
        "O1": make_case(world, world.other_link_worker, start=d(3, 10), service=world.other_service, name="Ola Other"),
    }
    ClientAlert.objects.create(client=cases["A3"].client, kind=AlertKind.LONE_WORKER, raised_by=world.link_worker)
    ClientAlert.objects.create(  # resolved: not counted
        client=cases["A1"].client,
        kind=AlertKind.SAFEGUARDING,
        raised_by=world.link_worker,
        resolved_at=at(d(3, 12)),
        resolved_by=world.link_worker,
    )
    HomeVisit.objects.create(case=cases["A2"], link_worker=world.link_worker, planned_start=at(d(3, 19)))
    HomeVisit.objects.create(case=cases["A2"], link_worker=world.link_worker, planned_start=at(d(3, 23)))
    HomeVisit.objects.create(case=cases["T1"], link_worker=world.colleague, planned_start=at(d(3, 16), 9))
    return cases


FIGURES = (
    "active",
    "new",
    "first_contact_overdue",
    "no_contact_14",
    "past_window",
    "at_12_plus",
    "closed",
    "closed_contacts",
    "alerts",
    "awaiting_first_contact",
    "visits_this_week",
)


def figures(row: selectors.WorkerRow) -> dict[str, int]:
    return {name: getattr(row, name) for name in FIGURES}


# --- The figures, checked by hand ----------------------------------------------------------------------------------
def test_it_counts_each_link_workers_cases_as_checked_by_hand(world: World, known: dict[str, Case]) -> None:
    board = selectors.caseload_dashboard(user=world.supervisor)
    rows = {row.name: row for row in board.rows}
    assert list(rows) == ["Amira Khan", "Tom Evans", "Not assigned to anyone"]
    assert figures(rows["Amira Khan"]) == {
        "active": 2,
        "new": 1,
        "first_contact_overdue": 1,
        "no_contact_14": 1,
        "past_window": 1,
        "at_12_plus": 1,
        "closed": 1,
        "closed_contacts": 8,
        "alerts": 1,
        "awaiting_first_contact": 1,
        "visits_this_week": 1,
    }
    assert rows["Amira Khan"].average_contacts == 8.0
    assert figures(rows["Tom Evans"]) == {
        "active": 2,
        "new": 1,
        "first_contact_overdue": 1,
        "no_contact_14": 2,
        "past_window": 0,
        "at_12_plus": 0,
        "closed": 0,
        "closed_contacts": 0,
        "alerts": 0,
        "awaiting_first_contact": 1,
        "visits_this_week": 1,
    }
    assert rows["Tom Evans"].average_contacts is None
    assert figures(rows["Not assigned to anyone"]) == dict.fromkeys(FIGURES, 0) | {
        "active": 1,
        "new": 1,
        "awaiting_first_contact": 1,
    }
    assert figures(board.totals) == {
        "active": 5,
        "new": 3,
        "first_contact_overdue": 2,
        "no_contact_14": 3,
        "past_window": 1,
        "at_12_plus": 1,
        "closed": 1,
        "closed_contacts": 8,
        "alerts": 1,
        "awaiting_first_contact": 3,
        "visits_this_week": 2,
    }


def test_the_period_filter_moves_new_and_closed_cases(world: World, known: dict[str, Case]) -> None:
    # Last month (February): T2 started 1 Feb; A5 closed 20 Feb with 4 contacts.
    board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(period=Period.LAST_MONTH))
    rows = {row.name: row for row in board.rows}
    assert (rows["Amira Khan"].new, rows["Amira Khan"].closed, rows["Amira Khan"].average_contacts) == (0, 1, 4.0)
    assert rows["Tom Evans"].new == 1
    # The last 3 months (January to 18 March): A2, T2, A1, T1, U1 started; A4 and A5 closed (8 + 4 contacts).
    board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(period=Period.LAST_3_MONTHS))
    assert board.totals.new == 5
    assert (board.totals.closed, board.totals.average_contacts) == (2, 6.0)
    assert board.totals.active == 5  # figures as of today do not move with the period


def test_the_practice_and_link_worker_filters_narrow_every_figure(
    world: World, known: dict[str, Case], hill: Organisation
) -> None:
    board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(practice=hill))
    rows = {row.name: row for row in board.rows}
    assert (rows["Amira Khan"].active, rows["Amira Khan"].past_window, rows["Amira Khan"].alerts) == (0, 1, 1)
    assert (rows["Tom Evans"].active, rows["Tom Evans"].first_contact_overdue) == (1, 1)
    assert "Not assigned to anyone" not in rows
    assert board.totals.active == 1

    board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(worker=world.colleague))
    assert [row.name for row in board.rows] == ["Tom Evans"]
    assert figures(board.totals) == figures(board.rows[0])


def test_the_trends_count_each_of_the_last_12_weeks(world: World) -> None:
    make_case(world, world.link_worker, start=d(1, 5), status=CaseStatus.CLOSED, closed_on=d(2, 2))
    make_case(world, world.link_worker, start=d(3, 16), contacts=[d(3, 17)], attempts=[d(3, 17)])
    factories.NewReferralFactory(service=world.service, received_at=at(d(3, 16)))
    factories.NewReferralFactory(service=world.service, received_at=at(d(12, 28, 2025)))  # the week before
    trends = {t.key: t for t in selectors.caseload_dashboard(user=world.supervisor).trends}
    assert trends["open"].weeks[0] == d(12, 29, 2025)
    assert trends["open"].weeks[-1] == d(3, 16)
    # Open at the end of weeks 1 to 4 (closed on Monday 2 February, in week 5); the new case in week 11.
    assert trends["open"].values == [0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert trends["new"].values == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert trends["contacts"].values == [0] * 11 + [1]  # the attempt does not count
    assert trends["referrals"].values == [0] * 11 + [1]


@pytest.fixture
def referral_flow(world: World, hill: Organisation) -> None:
    """Riverside: received 10 Jan (first contact 4 days later), 2 Mar (waiting), 5 Mar (first contact 2 days
    later, after an attempt), and 1 Dec 2025 (still waiting; before the period). Hill: 11 Feb, declined. An
    agency: 10 Mar, waiting."""
    riverside = world.practice

    def accepted(received: dt.datetime, contact: dt.date, source: Organisation) -> None:
        case = make_case(world, world.link_worker, start=received.date(), contacts=[contact])
        factories.AcceptedReferralFactory(
            service=world.service, source_organisation=source, received_at=received, case=case
        )
        return case

    accepted(at(d(1, 10)), d(1, 14), riverside)
    factories.NewReferralFactory(service=world.service, source_organisation=riverside, received_at=at(d(3, 2)))
    case = accepted(at(d(3, 5)), d(3, 7), riverside)
    factories.ContactFactory(case=case, at=at(d(3, 6)), attempted_only=True, recorded_by=world.link_worker)
    factories.NewReferralFactory(service=world.service, source_organisation=riverside, received_at=at(d(12, 1, 2025)))
    factories.DeclinedReferralFactory(service=world.service, source_organisation=hill, received_at=at(d(2, 11)))
    factories.NewReferralFactory(
        service=world.service, source_organisation=world.agency, received_at=at(d(3, 10)), channel=Channel.STAFF
    )
    factories.NewReferralFactory(service=world.other_service, received_at=at(d(3, 10)))  # never counted


def test_the_referral_flow_per_practice_per_month(world: World, referral_flow: None) -> None:
    board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(period=Period.LAST_3_MONTHS))
    assert board.months == [d(1, 1), d(2, 1), d(3, 1)]
    flow = {row.name: row for row in board.flow}
    assert list(flow) == ["Hill Surgery", "Riverside Surgery", "Other sources (agencies, self-referral, phone)"]
    riverside = flow["Riverside Surgery"]
    assert (riverside.by_month, riverside.received, riverside.waiting) == ([1, 0, 2], 3, 2)
    assert (riverside.seen, riverside.median_days) == (2, 3.0)  # median of 4 and 2 days
    assert (flow["Hill Surgery"].by_month, flow["Hill Surgery"].waiting, flow["Hill Surgery"].median_days) == (
        [0, 1, 0],
        0,
        None,
    )
    other = flow["Other sources (agencies, self-referral, phone)"]
    assert (other.by_month, other.waiting, other.median_days) == ([0, 0, 1], 1, None)
    total = board.flow_total
    assert (total.by_month, total.waiting, total.median_days) == ([1, 1, 3], 3, 3.0)
    assert board.waiting_referrals == 3


def test_the_referral_flow_for_one_practice(world: World, referral_flow: None, hill: Organisation) -> None:
    board = selectors.caseload_dashboard(
        user=world.supervisor, filters=DashboardFilter(period=Period.THIS_MONTH, practice=world.practice)
    )
    assert [row.name for row in board.flow] == ["Riverside Surgery"]
    assert (board.flow[0].by_month, board.flow[0].waiting, board.flow[0].median_days) == ([2], 2, 2.0)
    assert board.waiting_referrals == 2


# --- The page and the lists behind its numbers ----------------------------------------------------------------------
def test_the_dashboard_links_each_number_to_the_list_behind_it(client, world: World, known: dict[str, Case]) -> None:
    login(client, world.supervisor)
    response = client.get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    page = response.text
    overdue = (
        f'href="{reverse("supervision:cases")}?measure=first_contact_overdue&amp;period=this_month'
        f'&amp;worker={world.link_worker.pk}" aria-label="1 first contact overdue, Amira Khan">1</a>'
    )
    assert overdue in page
    assert 'role="img"' in page and "Contacts each week (not attempts)" in page
    assert " style=" not in page  # the CSP forbids inline styles
    assert AuditEvent.objects.filter(actor=world.supervisor, object_type="outcomes.dashboard").count() == 1


@pytest.mark.parametrize(
    ("measure", "worker", "people"),
    [
        ("first_contact_overdue", "link_worker", ["Alice Overdue"]),
        ("no_contact_14", "colleague", ["Gus Tried", "Fay Once"]),
        ("past_window", "link_worker", ["Carol Paused"]),
        ("closed", "link_worker", ["Dan Closed"]),
        ("alerts", "link_worker", ["Carol Paused"]),
        ("active", None, ["Bob Busy", "Gus Tried", "Fay Once", "Alice Overdue", "Hal Nobody"]),
    ],
)
def test_each_list_holds_the_cases_its_number_counts(
    client, world: World, known: dict[str, Case], measure: str, worker: str | None, people: list[str]
) -> None:
    login(client, world.supervisor)
    query = {"measure": measure, "period": "this_month"}
    if worker:
        query["worker"] = str(getattr(world, worker).pk)
    response = client.get(reverse("supervision:cases"), query)
    assert response.status_code == 200
    assert [f"{c.client.given_name} {c.client.family_name}" for c in response.context["items"]] == people
    for case in response.context["items"]:
        assert reverse("clients:case", args=[case.pk]) in response.text
    assert "Ola Other" not in response.text
    event = AuditEvent.objects.get(actor=world.supervisor, object_type="outcomes.supervision_list")
    assert event.summary.endswith(f": {len(people)}")


def test_the_unassigned_and_home_visit_lists(client, world: World, known: dict[str, Case]) -> None:
    login(client, world.manager)
    response = client.get(reverse("supervision:cases"), {"measure": "active", "worker": "none"})
    assert [c.client.family_name for c in response.context["items"]] == ["Nobody"]
    response = client.get(reverse("supervision:cases"), {"measure": "visits_this_week"})
    assert [v.case.client.family_name for v in response.context["items"]] == ["Once", "Busy"]


def test_the_referral_lists_behind_the_flow(client, world: World, referral_flow: None) -> None:
    login(client, world.supervisor)
    url = reverse("supervision:cases")
    response = client.get(url, {"measure": "received", "practice": str(world.practice.pk), "period": "3_months"})
    assert len(response.context["items"]) == 3
    response = client.get(
        url, {"measure": "received", "practice": str(world.practice.pk), "period": "3_months", "month": "2026-03"}
    )
    assert [r.received_at.date() for r in response.context["items"]] == [d(3, 2), d(3, 5)]
    response = client.get(url, {"measure": "waiting_triage", "practice": "other"})
    assert [r.source_organisation for r in response.context["items"]] == [world.agency]
    response = client.get(url, {"measure": "first_contact_time", "period": "3_months"})
    assert [r.days_to_first_contact for r in response.context["items"]] == [4, 2]


def test_a_case_opened_from_a_list_is_read_only_and_audited(client, world: World, known: dict[str, Case]) -> None:
    login(client, world.supervisor)
    case = known["A1"]
    response = client.get(reverse("clients:case", args=[case.pk]))
    assert response.status_code == 200
    assert "Log a contact" not in response.text
    assert AuditEvent.objects.filter(actor=world.supervisor, object_id=str(case.pk), action="view").exists()
    assert client.post(reverse("clients:contact_new", args=[case.pk])).status_code == 403


def test_bad_filters_are_refused(client, world: World) -> None:
    login(client, world.supervisor)
    assert client.get(reverse("outcomes:dashboard"), {"period": "forever"}).status_code == 400
    assert client.get(reverse("supervision:cases"), {"measure": "everything"}).status_code == 400
    assert client.get(reverse("supervision:cases"), {"measure": "active", "month": "March"}).status_code == 400


def test_the_dashboards_filter_lists_follow_who_works_there_and_keep_what_was_chosen(client, world: World) -> None:
    """The filter form's lists are read every look (their statements kept, linkwork.compiled) and its drawing is
    kept only for the same lists and choice (linkwork.forms.kept)."""
    login(client, world.supervisor)
    url = reverse("outcomes:dashboard")
    first = client.get(url).text
    assert world.link_worker.full_name in first and "Nadia Newcomer" not in first
    newcomer = factories.UserFactory(full_name="Nadia Newcomer")
    Membership.objects.create(user=newcomer, organisation=world.service, role=Role.LINK_WORKER)
    forget_kept_access()
    assert "Nadia Newcomer" in client.get(url).text  # joined since the last look
    chosen = client.get(url, {"worker": str(newcomer.pk), "period": "this_month"}).text
    assert re.search(rf'<option value="{newcomer.pk}"\s+selected', chosen)
    assert not re.search(rf'<option value="{newcomer.pk}"\s+selected', client.get(url).text)
    other_service_worker = factories.UserFactory(full_name="Elsewhere Worker")
    Membership.objects.create(user=other_service_worker, organisation=world.other_service, role=Role.LINK_WORKER)
    assert "Elsewhere Worker" not in client.get(url).text


def test_the_dashboard_query_count_does_not_grow_with_the_service(client, world: World) -> None:
    def count_queries(*, cold: bool = True) -> int:
        forget_kept_access()  # counted as a user's first request in a process
        if cold:
            cache.clear()  # the figures are cached (outcomes.freshness): count the work of working them out
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("outcomes:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int) -> None:
        for i in range(n):
            worker = factories.UserFactory()
            Membership.objects.create(user=worker, organisation=world.service, role=Role.LINK_WORKER)
            case = make_case(world, worker, start=d(3, 1), contacts=[d(3, 2)], practice=world.practice)
            HomeVisit.objects.create(case=case, link_worker=worker, planned_start=at(d(3, 17)))
            client_services.supervision_flag_raise(case=case, by=worker, question=f"Question {i}")
            client_services.safeguarding_concern_raise(case=case, by=worker, detail=f"Concern {i}")
            factories.NewReferralFactory(service=world.service, source_organisation=world.practice)

    login(client, world.supervisor)
    add(2)
    small = count_queries()
    add(15)
    # session, user, two-factor device, memberships + linked services (5); the filter form's practices and link
    # workers (2: the link workers' rows are the form's list, as nobody else holds cases); cases counted by
    # worker, home visits by worker (2); open and new cases, contacts (2: the trends' referrals are counted with
    # the flow); practices, and every referral figure (the flow by practice and month, waiting and timing by
    # practice, the medians, the referrals per trend week) in one statement (2); flags, concerns (2); audit
    # insert (1); unread notifications (1); the data versions (1); the session is not written (renewed under a
    # minute ago), and is read from the database because emptying the cache emptied it from Redis too
    assert count_queries() == small <= 18
    # From the cache, while nothing under the figures changes: the 6 aggregate queries are not run, and the
    # session comes from Redis where it is configured.
    assert count_queries(cold=False) == small - 6 - (1 - SESSION_QUERIES)


def test_someone_who_has_left_still_has_a_row_while_they_hold_cases(client, world: World) -> None:
    """The rows are the filter form's list of link workers, unless someone outside it (who has left the service)
    still holds cases there: then they are read with their names too."""
    make_case(world, world.colleague, start=d(3, 1), contacts=[d(3, 2)], practice=world.practice)
    login(client, world.supervisor)

    def rows() -> list[str]:
        return [row.name for row in client.get(reverse("outcomes:dashboard")).context["board"].rows]

    assert world.colleague.full_name in rows()
    Membership.objects.filter(user=world.colleague, organisation=world.service).delete()
    page = client.get(reverse("outcomes:dashboard"))
    assert world.colleague.full_name in rows()
    assert world.colleague.full_name not in [w.full_name for w in page.context["form"].workers.values()]
    Case.objects.filter(link_worker=world.colleague).update(link_worker=world.link_worker)
    assert world.colleague.full_name not in rows()


def test_the_dashboard_shows_a_new_case_at_once_though_its_figures_are_cached(client, world: World) -> None:
    login(client, world.supervisor)
    make_case(world, world.link_worker, start=d(3, 1), contacts=[d(3, 2)], practice=world.practice)
    before = client.get(reverse("outcomes:dashboard")).context["board"].totals
    active_before = before.active
    make_case(world, world.link_worker, start=d(3, 2), contacts=[d(3, 3)], practice=world.practice)
    after = client.get(reverse("outcomes:dashboard")).context["board"].totals
    assert after.active == active_before + 1


def test_the_dashboards_cached_html_changes_with_its_figures_names_and_filters(client, world: World) -> None:
    """The cards, link worker table, trends and flow are cached as HTML (outcomes.views._figures): the page must
    still show a new case, a renamed link worker and another period at once."""
    login(client, world.supervisor)
    make_case(world, world.link_worker, start=d(3, 1), contacts=[d(3, 2)], practice=world.practice)

    def active_cases() -> str:
        page = client.get(reverse("outcomes:dashboard")).text
        return re.findall(r'aria-label="(\d+) active cases, Service total"', page)[0]  # the first card

    assert active_cases() == "1"
    make_case(world, world.link_worker, start=d(3, 2), contacts=[d(3, 3)], practice=world.practice)
    assert active_cases() == "2"
    world.link_worker.full_name = "Amira Khan-Renamed"
    world.link_worker.save()
    page = client.get(reverse("outcomes:dashboard")).text
    assert "Amira Khan-Renamed" in page
    other = client.get(reverse("outcomes:dashboard"), {"period": "last_month"}).text
    assert "period=last_month" in other and "period=last_month" not in page


def test_40_link_workers_and_10000_active_cases_render_in_well_under_a_second(client, world: World) -> None:
    """The benchmark the issue asks for: the whole page, 40 link workers, 10,000 active cases, 10,000 contacts."""
    workers = User.objects.bulk_create(
        User(email=f"lw{i}@bench.example.nhs.uk", full_name=f"Link Worker {i:02d}") for i in range(40)
    )
    Membership.objects.bulk_create(
        Membership(user=w, organisation=world.service, role=Role.LINK_WORKER) for w in workers
    )
    clients = Client.objects.bulk_create(
        Client(service=world.service, given_name="Person", family_name=str(i), date_of_birth=d(5, 17, 1960))
        for i in range(10_000)
    )
    cases = Case.objects.bulk_create(
        Case(
            client=c,
            service=world.service,
            link_worker=workers[i % 40],
            start_date=d(1, 1) + dt.timedelta(days=i % 70),
            window_end=d(4, 1) + dt.timedelta(days=i % 70),
        )
        for i, c in enumerate(clients)
    )
    Contact.objects.bulk_create(
        Contact(
            case=c, at=at(d(2, 1) + dt.timedelta(days=i % 40)), method=ContactMethod.PHONE, recorded_by=world.manager
        )
        for i, c in enumerate(cases)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    login(client, world.supervisor)
    client.get(reverse("outcomes:dashboard"))  # warm up
    started = time.perf_counter()
    response = client.get(reverse("outcomes:dashboard"))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.context["board"].totals.active == 10_000
    assert elapsed < 1.0, f"the dashboard took {elapsed:.2f}s"


# --- Who may see what ----------------------------------------------------------------------------------------------
@pytest.fixture
def other_supervisor(world: World) -> User:
    user = factories.UserFactory(email="gp-hillside@example.nhs.uk", full_name="Dr Other")
    Membership.objects.create(user=user, organisation=world.other_service, role=Role.SUPERVISOR)
    return user


@pytest.fixture
def session(world: World) -> SupervisionSession:
    case = make_case(world, world.link_worker, start=d(3, 1))
    record = SupervisionSession.objects.create(
        service=world.service,
        link_worker=world.link_worker,
        supervisor=world.supervisor,
        held_on=d(3, 17),
        concerns="Caseload is high",
        wellbeing="managing",
    )
    record.cases_discussed.set([case])
    SupervisionAction.objects.create(session=record, what="Book annual leave", owner=world.link_worker, due_on=d(4, 1))
    return record


@pytest.fixture
def concern(world: World) -> SafeguardingConcern:
    case = make_case(world, world.link_worker, start=d(3, 1), name="Ivy Risk")
    return client_services.safeguarding_concern_raise(case=case, by=world.link_worker, detail="Bruises on her arm")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("supervisor", 200),
        ("manager", 200),
        ("link_worker", 403),
        ("referrer", 403),
        ("commissioner", 403),
        ("other_supervisor", 404),
    ],
)
def test_who_may_open_a_link_workers_supervision_record(
    client, world: World, other_supervisor: User, session: SupervisionSession, persona: str, status: int
) -> None:
    user = other_supervisor if persona == "other_supervisor" else getattr(world, persona)
    login(client, user)
    assert client.get(reverse("supervision:worker", args=[world.link_worker.pk])).status_code == status
    drill = client.get(reverse("supervision:cases"), {"measure": "active", "worker": str(world.link_worker.pk)})
    assert drill.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("link_worker", 200),  # their own
        ("supervisor", 200),
        ("manager", 200),
        ("colleague", 404),  # another link worker's supervision is private
        ("other_supervisor", 404),
        ("referrer", 403),
        ("commissioner", 403),
    ],
)
def test_a_supervision_session_is_visible_to_the_right_people_only(
    client, world: World, other_supervisor: User, session: SupervisionSession, persona: str, status: int
) -> None:
    user = other_supervisor if persona == "other_supervisor" else getattr(world, persona)
    login(client, user)
    response = client.get(reverse("supervision:session", args=[session.pk]))
    assert response.status_code == status
    if status == 200:
        assert "Caseload is high" in response.text
        assert AuditEvent.objects.filter(actor=user, object_id=str(session.pk), action="view").exists()


def test_my_supervision_shows_my_sessions_and_actions_only(client, world: World, session: SupervisionSession) -> None:
    SupervisionSession.objects.create(
        service=world.service,
        link_worker=world.colleague,
        supervisor=world.supervisor,
        held_on=d(3, 16),
        wellbeing="struggling",
    )
    login(client, world.link_worker)
    response = client.get(reverse("supervision:mine"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["mine"].sessions] == [session.pk]
    assert "Book annual leave" in response.text
    login(client, world.colleague)
    assert "Book annual leave" not in client.get(reverse("supervision:mine")).text
    login(client, world.supervisor)
    assert client.get(reverse("supervision:mine")).status_code == 403


@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 403), ("link_worker", 403), ("referrer", 403), ("other_supervisor", 404)],
)
def test_only_a_supervisor_of_the_service_records_a_session(
    client, world: World, other_supervisor: User, persona: str, status: int
) -> None:
    user = other_supervisor if persona == "other_supervisor" else getattr(world, persona)
    login(client, user)
    url = reverse("supervision:session_new", args=[world.link_worker.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"wellbeing": "well"}).status_code == status
    assert not SupervisionSession.objects.exists()


def test_anonymous_users_are_sent_to_sign_in(client, world: World, session: SupervisionSession) -> None:
    for url in [
        reverse("supervision:mine"),
        reverse("supervision:cases"),
        reverse("supervision:session", args=[session.pk]),
        reverse("supervision:session_new", args=[world.link_worker.pk]),
        reverse("clients:flag_raise", args=[session.cases_discussed.get().pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# --- Recording supervision -----------------------------------------------------------------------------------------
def session_data(cases: list[Case], **extra: str) -> dict[str, object]:
    return {
        "held_on_day": "18",
        "held_on_month": "3",
        "held_on_year": "2026",
        "cases": [str(c.pk) for c in cases],
        "concerns": "Bob is isolated; try the walking group",
        "wellbeing": "managing",
        "wellbeing_notes": "Busy week",
        **extra,
    }


def test_a_supervisor_records_a_session_and_its_flags_leave_the_dashboard(client, world: World) -> None:
    flagged = make_case(world, world.link_worker, start=d(3, 1), name="Bob Isolated")
    other = make_case(world, world.link_worker, start=d(3, 2), name="Cath Later")
    flag = client_services.supervision_flag_raise(case=flagged, by=world.link_worker, question="Is he safe alone?")
    client_services.supervision_flag_raise(case=other, by=world.link_worker, question="Extend?")
    assert len(selectors.caseload_dashboard(user=world.supervisor).flags) == 2

    login(client, world.supervisor)
    url = reverse("supervision:session_new", args=[world.link_worker.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert sorted(form_page.context["form"].initial["cases"]) == sorted([str(flagged.pk), str(other.pk)])
    assert "Flagged: “Is he safe alone?”" in form_page.text
    data = session_data(
        [flagged],
        action_1="Ask the GP about a home assessment",
        owner_1=str(world.supervisor.pk),
        due_1_day="25",
        due_1_month="3",
        due_1_year="2026",
        action_2="Call Bob's daughter",
        owner_2=str(world.link_worker.pk),
        due_2_day="20",
        due_2_month="3",
        due_2_year="2026",
    )
    response = client.post(url, data)
    record = SupervisionSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:session", args=[record.pk])
    assert (record.held_on, record.supervisor, record.link_worker, record.wellbeing) == (
        TODAY,
        world.supervisor,
        world.link_worker,
        "managing",
    )
    assert list(record.cases_discussed.all()) == [flagged]
    assert [(a.what, a.owner, a.due_on) for a in record.actions.order_by("due_on")] == [
        ("Call Bob's daughter", world.link_worker, d(3, 20)),
        ("Ask the GP about a home assessment", world.supervisor, d(3, 25)),
    ]
    flag.refresh_from_db()
    assert (flag.discussed_by, flag.discussed_at is not None) == (world.supervisor, True)
    remaining = selectors.caseload_dashboard(user=world.supervisor).flags
    assert [f.case_url for f in remaining] == [reverse("clients:case", args=[other.pk])]  # still on the dashboard
    assert Notification.objects.filter(user=world.link_worker, title__contains="recorded your supervision").exists()
    assert AuditEvent.objects.filter(object_id=str(record.pk), action="create").exists()


def test_an_invalid_session_is_explained_and_what_was_typed_is_kept(client, world: World) -> None:
    login(client, world.supervisor)
    url = reverse("supervision:session_new", args=[world.link_worker.pk])
    data = session_data([], wellbeing="", held_on_day="19", action_1="Read the lone working policy")
    response = client.post(url, data)
    assert response.status_code == 400
    page = response.text
    for message in [
        "Select how the link worker is",
        "Date of the session must be today or in the past",
        "Select who will do action 1",
        "Enter when action 1 is due",
    ]:
        assert message in page
    assert "Bob is isolated; try the walking group" in page
    assert 'value="Read the lone working policy"' in page
    assert not SupervisionSession.objects.exists()


def test_actions_are_marked_done_once_by_their_owner_or_the_supervisor(
    client, world: World, session: SupervisionSession
) -> None:
    action = session.actions.get()
    url = reverse("supervision:action_done", args=[action.pk])
    login(client, world.link_worker)
    assert client.get(url).status_code == 405
    login(client, world.colleague)
    assert client.post(url).status_code == 404
    login(client, world.link_worker)
    assert client.post(url).status_code == 302
    action.refresh_from_db()
    assert (action.done_by, action.done_at is not None) == (world.link_worker, True)
    response = client.post(url, follow=True)
    assert "This action has already been marked as done" in response.text
    theirs = SupervisionAction.objects.create(
        session=session, what="Check the rota", owner=world.supervisor, due_on=d(3, 25)
    )
    assert client.post(reverse("supervision:action_done", args=[theirs.pk])).status_code == 403
    login(client, world.supervisor)
    assert client.post(reverse("supervision:action_done", args=[theirs.pk])).status_code == 302


# --- Flags raised on a case --------------------------------------------------------------------------------------
def test_a_link_worker_flags_a_case_and_it_appears_on_the_dashboard(client, world: World) -> None:
    case = make_case(world, world.link_worker, start=d(3, 1), name="Jo Flagged")
    url = reverse("clients:flag_raise", args=[case.pk])
    login(client, world.link_worker)
    assert "Flag this case for supervision" in client.get(reverse("clients:case", args=[case.pk])).text
    assert client.get(url).status_code == 200
    response = client.post(url, {"question": "  "})
    assert response.status_code == 400
    assert "Enter your question for supervision" in response.text
    response = client.post(url, {"question": "She wants to stop; should I close?"})
    assert response.status_code == 302
    flag = CaseSupervisionFlag.objects.get()
    assert (flag.raised_by, flag.question) == (world.link_worker, "She wants to stop; should I close?")

    login(client, world.supervisor)
    page = client.get(reverse("outcomes:dashboard")).text
    assert "Jo Flagged" in page and "She wants to stop; should I close?" in page


def test_the_dashboard_lists_flags_and_concerns_with_links_uk_dates_and_escaped_names(client, world: World) -> None:
    """The lists are made from plain values with their links and dates worked out in Python: they must say what
    the template's {% url %} and |date said, in UK time, with names escaped."""
    import datetime as dt

    import time_machine

    case = make_case(world, world.link_worker, start=d(3, 1), name="Amy <b>Bold</b>")
    with time_machine.travel(dt.datetime(2026, 7, 31, 23, 30, tzinfo=dt.UTC), tick=False):  # 00:30, 1 August, UK
        client_services.supervision_flag_raise(case=case, by=world.link_worker, question="Is <i>this</i> ok?")
        concern = client_services.safeguarding_concern_raise(case=case, by=world.link_worker, detail="Worried")
    login(client, world.supervisor)
    page = client.get(reverse("outcomes:dashboard")).text
    case_link = f'<a href="{reverse("clients:case", args=[case.pk])}">Amy &lt;b&gt;Bold&lt;/b&gt;</a>'
    assert f"{case_link}, Amira Khan: “Is &lt;i&gt;this&lt;/i&gt; ok?”" in page
    record = reverse("supervision:worker", args=[world.link_worker.pk])
    assert f'Raised by Amira Khan on 1 August 2026. <a href="{record}">Supervision record of Amira Khan</a>' in page
    concern_link = f'<a href="{reverse("supervision:concern", args=[concern.pk])}">Amy &lt;b&gt;Bold&lt;/b&gt;</a>'
    assert f"{concern_link}: raised by Amira Khan on 1 August 2026 at 00:30 (case held by Amira Khan)" in page
    assert "<b>Bold</b>" not in page


def test_the_dashboards_flags_follow_its_filters_and_its_concerns_never_do(client, world: World) -> None:
    """The lists are read by statements kept a process for each shape of filter (linkwork.compiled): each
    filter, asked in turn in one process, must still narrow the flags to its own, and never the concerns."""
    hill = factories.PracticeFactory(name="Hill Surgery", services=[world.service])
    mine = make_case(world, world.link_worker, start=d(3, 1), practice=world.practice, name="Ann Riverside")
    theirs = make_case(world, world.colleague, start=d(3, 1), practice=hill, name="Bob Hill")
    for case in (mine, theirs):
        client_services.supervision_flag_raise(case=case, by=case.link_worker, question=f"About {case.client}")
        client_services.safeguarding_concern_raise(case=case, by=case.link_worker, detail="Worried")

    def listed(**chosen) -> tuple[set[str], set[str]]:
        board = selectors.caseload_dashboard(user=world.supervisor, filters=DashboardFilter(**chosen))
        return {f.client_name for f in board.flags}, {c.client_name for c in board.concerns}

    both = {"Ann Riverside", "Bob Hill"}
    for _ in range(2):  # the second time from the kept statements
        assert listed() == (both, both)
        assert listed(worker=world.link_worker) == ({"Ann Riverside"}, both)
        assert listed(practice=hill) == ({"Bob Hill"}, both)
        assert listed(practice=hill, worker=world.colleague) == ({"Bob Hill"}, both)
        assert listed(practice=hill, worker=world.link_worker) == (set(), both)
    login(client, world.supervisor)
    page = client.get(reverse("outcomes:dashboard"), {"worker": str(world.colleague.pk)}).text
    assert "About Bob Hill" in page and "About Ann Riverside" not in page


def test_each_service_sees_only_its_own_flags_and_concerns_on_one_process(client, world: World) -> None:
    """Two services' supervisors, one after the other, on one process that keeps the lists' statements: each
    statement is asked with the supervisor's own services, never with the last one's."""
    other_supervisor = factories.UserFactory(email="gp@hillside.example.nhs.uk", full_name="Dr Hill")
    factories.MembershipFactory(user=other_supervisor, organisation=world.other_service, role=Role.SUPERVISOR)
    ours = make_case(world, world.link_worker, start=d(3, 1), name="Ours Riverside")
    theirs = make_case(
        world, world.other_link_worker, start=d(3, 1), name="Theirs Hillside", service=world.other_service
    )
    for case in (ours, theirs):
        client_services.supervision_flag_raise(case=case, by=case.link_worker, question="Question")
        client_services.safeguarding_concern_raise(case=case, by=case.link_worker, detail="Worried")
    for supervisor, seen, unseen in [
        (world.supervisor, "Ours Riverside", "Theirs Hillside"),
        (other_supervisor, "Theirs Hillside", "Ours Riverside"),
        (world.supervisor, "Ours Riverside", "Theirs Hillside"),
    ]:
        login(client, supervisor)
        page = client.get(reverse("outcomes:dashboard")).text
        assert page.count(seen) == 2  # the flag and the concern
        assert unseen not in page


@pytest.mark.parametrize(("persona", "status"), [("supervisor", 403), ("other_link_worker", 404), ("referrer", 403)])
def test_who_may_not_flag_or_raise_a_concern(client, world: World, persona: str, status: int) -> None:
    case = make_case(world, world.link_worker, start=d(3, 1))
    login(client, getattr(world, persona))
    assert client.post(reverse("clients:flag_raise", args=[case.pk]), {"question": "?"}).status_code == status
    assert client.post(reverse("clients:concern_raise", args=[case.pk]), {"detail": "!"}).status_code == status
    assert not CaseSupervisionFlag.objects.exists() and not SafeguardingConcern.objects.exists()


# --- Safeguarding concerns and decisions ----------------------------------------------------------------------------
def test_a_concern_reaches_the_supervisor_at_once_with_who_raised_it_and_when(client, world: World) -> None:
    case = make_case(world, world.link_worker, start=d(3, 1), name="Ivy Risk")
    login(client, world.link_worker)
    response = client.post(reverse("clients:concern_raise", args=[case.pk]), {"detail": "Bruises on her arm"})
    assert response.status_code == 302
    concern = SafeguardingConcern.objects.get()
    assert (concern.raised_by, concern.detail) == (world.link_worker, "Bruises on her arm")
    assert ClientAlert.objects.filter(client=case.client, kind=AlertKind.SAFEGUARDING, resolved_at=None).exists()
    notice = Notification.objects.get(user=world.supervisor)
    assert notice.title == "Safeguarding concern raised by Amira Khan about I.R.: your decision is needed"
    assert "Bruises" not in notice.title
    assert not Notification.objects.filter(user=world.manager).exists()

    login(client, world.supervisor)
    page = client.get(reverse("outcomes:dashboard")).text
    assert "Safeguarding concerns waiting for a decision" in page
    assert "raised by Amira Khan on 18 March 2026 at 10:00" in page
    assert reverse("supervision:concern", args=[concern.pk]) in page


def test_a_decision_and_its_correction_are_both_kept_in_order(
    client, world: World, concern: SafeguardingConcern
) -> None:
    url = reverse("supervision:concern", args=[concern.pk])
    login(client, world.supervisor)
    response = client.post(url, {"decision": "other", "note": ""})
    assert response.status_code == 400
    assert "Describe the decision" in response.text
    assert client.post(url, {"decision": "no_further_action", "note": "Explained by a fall"}).status_code == 302
    assert not selectors.caseload_dashboard(user=world.supervisor).concerns  # decided: off the dashboard

    response = client.post(url, {"decision": "referred_la", "note": ""})
    assert response.status_code == 400
    assert "Say what was wrong with the earlier decision" in response.text
    response = client.post(url, {"decision": "referred_la", "note": "GP found more bruising; referred, ref LA-123"})
    assert response.status_code == 302
    first = SafeguardingDecision.objects.get(corrects=None)
    correction = SafeguardingDecision.objects.get(corrects=first)
    assert SafeguardingDecision.objects.count() == 2
    assert (first.decision, first.note) == ("no_further_action", "Explained by a fall")
    assert correction.decision == "referred_la"

    for viewer, page_url in [
        (world.supervisor, url),
        (world.link_worker, reverse("clients:case_supervision", args=[concern.case.pk])),
    ]:
        login(client, viewer)
        page = client.get(page_url).text
        original = page.index("No further action")
        corrected = page.index("Correction: Referred to local authority safeguarding")
        assert original < corrected
        assert "Corrected below" in page[original:corrected]
        assert "In force" in page[corrected:]


def test_the_database_refuses_to_change_or_delete_safeguarding_records(world: World, concern: SafeguardingConcern):
    decision = client_services.safeguarding_decision_record(
        concern=concern, by=world.supervisor, decision="no_further_action"
    )
    attempts = [
        lambda: SafeguardingDecision.objects.filter(pk=decision.pk).update(decision="referred_la"),
        lambda: SafeguardingDecision.objects.filter(pk=decision.pk).delete(),
        lambda: SafeguardingConcern.objects.filter(pk=concern.pk).update(detail="Nothing to see"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    # Straight SQL too (Django would refuse to delete a concern with decisions before asking the database).
    for sql in [
        "UPDATE clients_safeguardingdecision SET note = 'changed'",
        "DELETE FROM clients_safeguardingconcern",
    ]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    decision.refresh_from_db()
    assert (decision.decision, decision.note) == ("no_further_action", "")


def test_a_decision_cannot_be_recorded_twice_or_an_old_one_corrected(
    world: World, concern: SafeguardingConcern
) -> None:
    from django.core.exceptions import ValidationError

    first = client_services.safeguarding_decision_record(
        concern=concern, by=world.supervisor, decision="no_further_action"
    )
    with pytest.raises(ValidationError, match="add a correction instead"):
        client_services.safeguarding_decision_record(concern=concern, by=world.supervisor, decision="referred_la")
    client_services.safeguarding_decision_record(
        concern=concern, by=world.supervisor, decision="referred_la", note="More information", corrects=first
    )
    with pytest.raises(ValidationError, match="Only the decision in force"):
        client_services.safeguarding_decision_record(
            concern=concern, by=world.supervisor, decision="other", note="Again", corrects=first
        )


@pytest.mark.parametrize(
    ("persona", "get", "post"),
    [
        ("supervisor", 200, 302),
        ("manager", 200, 403),
        ("link_worker", 403, 403),
        ("referrer", 403, 403),
        ("commissioner", 403, 403),
        ("other_supervisor", 404, 404),
    ],
)
def test_who_may_see_and_decide_a_concern(
    client, world: World, other_supervisor: User, concern: SafeguardingConcern, persona: str, get: int, post: int
) -> None:
    user = other_supervisor if persona == "other_supervisor" else getattr(world, persona)
    login(client, user)
    url = reverse("supervision:concern", args=[concern.pk])
    assert client.get(url).status_code == get
    assert client.post(url, {"decision": "no_further_action"}).status_code == post
    assert SafeguardingDecision.objects.exists() == (post == 302)


def test_referrals_waiting_are_counted_for_the_service(world: World) -> None:
    factories.NewReferralFactory(service=world.service, status=ReferralStatus.NEW)
    assert selectors.caseload_dashboard(user=world.supervisor).waiting_referrals == 1
    assert supervision_selectors.MEASURES["waiting_triage"].kind == "referrals"
