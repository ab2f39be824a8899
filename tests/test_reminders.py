"""Reminders: every rule with time travel (due, not yet due, cleared by the right action), idempotency (twice in a
row and twice at once), the daily digest, urgent home visit alerts, the pages, and the web app with the broker
down. Days are Europe/London days; 2026 has BST from 29 March to 25 October and a bank holiday on 25 May."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import services as client_services
from clients.models import HomeVisit
from community import services as community_services
from linkwork.accounts.access import forget_kept_access
from linkwork.accounts.models import Membership, Role
from linkwork.notifications import services as notification_services
from linkwork.notifications.models import (
    Digest,
    NotificationPreference,
    Reminder,
    ReminderSettings,
    ReminderStatus,
    Rule,
)
from linkwork.notifications.selectors import unread_count
from outcomes import reminders
from outcomes.models import Assessment, Instrument
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests import factories
from tests.conftest import SESSION_QUERIES, World, login
from tests.workers import broker_unreachable

LONDON = ZoneInfo("Europe/London")


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=LONDON)


@contextmanager
def on(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> Iterator[None]:
    with time_machine.travel(at(y, m, d, h, mi), tick=False):
        yield


def scan() -> Any:
    return reminders.reminders_scan()


def holders(rule: str, status: str = ReminderStatus.OPEN) -> set[str]:
    return set(Reminder.objects.filter(rule=rule, status=status).values_list("recipient__email", flat=True))


def case_for(world: World, *, start: dt.date, window_end: dt.date | None = None, worker: Any = None, **kw: Any) -> Any:
    """An accepted referral's case (so it has a reference) for Jane Smith."""
    referral = factories.AcceptedReferralFactory(
        service=world.service,
        given_name="Jane",
        family_name="Smith",
        case__link_worker=worker or world.link_worker,
        case__start_date=start,
        case__window_end=window_end or start + dt.timedelta(weeks=13),
        **kw,
    )
    case = referral.case
    case.reference = referral.reference
    return case


def contact(case: Any, when: dt.datetime, attempted: bool = False) -> Any:
    return factories.ContactFactory(case=case, at=when, attempted_only=attempted)


# --- Referral waiting for triage ----------------------------------------------------------------------------
def test_a_referral_waiting_more_than_two_working_days_reminds_the_triage_team(world: World) -> None:
    with on(2026, 6, 5, 10):  # Friday
        referral = factories.NewReferralFactory(service=world.service, given_name="Jane", family_name="Smith")
    with on(2026, 6, 9):  # Tuesday: two working days
        scan()
    assert not Reminder.objects.exists()
    with on(2026, 6, 10):  # Wednesday: three
        scan()
    assert holders(Rule.TRIAGE_WAITING) == {world.link_worker.email, world.colleague.email, world.manager.email}
    reminder = Reminder.objects.get(recipient=world.link_worker)
    assert reminder.due_on == dt.date(2026, 6, 10)
    assert reminder.subject == f"J.S. {referral.reference}"
    assert reminder.link == reverse("referrals:detail", args=[referral.pk])
    assert not holders(Rule.TRIAGE_ESCALATION)


def test_bank_holidays_are_not_working_days(world: World) -> None:
    with on(2026, 5, 22, 10):  # Friday before the spring bank holiday (Monday 25 May)
        factories.NewReferralFactory(service=world.service)
    with on(2026, 5, 27):  # Tue 26 and Wed 27: two working days
        scan()
    assert not Reminder.objects.exists()
    with on(2026, 5, 28):
        scan()
    assert holders(Rule.TRIAGE_WAITING)


def test_a_referral_received_after_midnight_in_summer_counts_from_that_london_day(world: World) -> None:
    # 23:30 UTC on Sunday 7 June is 00:30 BST on Monday 8 June: received on Monday, so due on Thursday.
    received = dt.datetime(2026, 6, 7, 23, 30, tzinfo=dt.UTC)
    factories.NewReferralFactory(service=world.service, received_at=received)
    with on(2026, 6, 10, 23, 59):
        scan()
    assert not Reminder.objects.exists()
    with on(2026, 6, 11, 0, 1):
        scan()
    assert Reminder.objects.get(recipient=world.manager).due_on == dt.date(2026, 6, 11)


def test_after_ten_working_days_the_service_manager_gets_an_escalation(world: World) -> None:
    with on(2026, 5, 22, 10):
        factories.NewReferralFactory(service=world.service)
    with on(2026, 6, 8):  # ten working days (the bank holiday does not count)
        scan()
    assert not holders(Rule.TRIAGE_ESCALATION)
    with on(2026, 6, 9):
        scan()
    assert holders(Rule.TRIAGE_ESCALATION) == {world.manager.email}
    # The first reminder is not repeated: one per person, still open.
    assert Reminder.objects.filter(rule=Rule.TRIAGE_WAITING).count() == 3


def test_triaging_the_referral_clears_its_reminders(world: World) -> None:
    with on(2026, 6, 1, 10):
        referral = factories.NewReferralFactory(service=world.service)
    with on(2026, 6, 10):
        scan()
        assert len(holders(Rule.TRIAGE_WAITING)) == 3
        referral_services.referral_accept(referral=referral, by=world.manager, assignee=world.link_worker)
        scan()
    assert not holders(Rule.TRIAGE_WAITING)
    assert len(holders(Rule.TRIAGE_WAITING, ReminderStatus.CLEARED)) == 3


def test_a_service_can_change_its_triage_thresholds(world: World) -> None:
    world.service.triage_alert_working_days = 5
    world.service.save()
    ReminderSettings.objects.create(service=world.service, triage_escalate_working_days=0)
    with on(2026, 6, 1, 10):
        factories.NewReferralFactory(service=world.service)
    with on(2026, 6, 8):  # five working days
        scan()
    assert not Reminder.objects.exists()
    with on(2026, 6, 30):
        scan()
    assert holders(Rule.TRIAGE_WAITING)
    assert not holders(Rule.TRIAGE_ESCALATION)  # 0 turns escalation off


# --- First contact ------------------------------------------------------------------------------------------
def test_first_contact_not_made_by_the_fifth_working_day(world: World) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    contact(case, at(2026, 6, 3, 11), attempted=True)
    with on(2026, 6, 5):  # four working days
        scan()
    assert not Reminder.objects.exists()
    with on(2026, 6, 8):  # the fifth
        scan()
    reminder = Reminder.objects.get(rule=Rule.FIRST_CONTACT)
    assert reminder.recipient == world.link_worker
    assert reminder.title == "First contact due by 8 June 2026"
    assert reminder.detail == "Accepted 1 June 2026; 1 attempt so far"
    assert reminder.subject == f"J.S. {case.reference}"
    assert reminder.link == reverse("clients:case", args=[case.pk])


def test_a_contact_clears_the_first_contact_reminder(world: World) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    with on(2026, 6, 8, 10):
        scan()
        assert holders(Rule.FIRST_CONTACT)
        client_services.contact_log(
            case=case, by=world.link_worker, at=at(2026, 6, 8, 9, 30), method="phone", duration_minutes=15
        )
        scan()
    assert not holders(Rule.FIRST_CONTACT)
    assert holders(Rule.FIRST_CONTACT, ReminderStatus.CLEARED) == {world.link_worker.email}


def test_a_case_whose_link_worker_has_left_goes_to_the_service_managers(world: World) -> None:
    with on(2026, 6, 1):
        case_for(world, start=dt.date(2026, 6, 1), worker=world.other_link_worker)
    with on(2026, 6, 8):
        scan()
    assert holders(Rule.FIRST_CONTACT) == {world.manager.email}


# --- No contact for 14 days ---------------------------------------------------------------------------------
def test_no_contact_for_fourteen_days_attempts_shown_but_not_resetting(world: World) -> None:
    with on(2026, 5, 18):
        case = case_for(world, start=dt.date(2026, 5, 18))
    contact(case, at(2026, 6, 1, 10))
    contact(case, at(2026, 6, 10, 10), attempted=True)
    with on(2026, 6, 14, 23, 30):
        scan()
    assert not holders(Rule.NO_CONTACT)
    with on(2026, 6, 15, 0, 30):  # 23:30 UTC on the 14th, but the 15th in London
        scan()
    reminder = Reminder.objects.get(rule=Rule.NO_CONTACT)
    assert reminder.recipient == world.link_worker
    assert reminder.due_on == dt.date(2026, 6, 15)
    assert reminder.title == "No contact for 14 days"
    assert reminder.detail == "Last contact 1 June 2026; 1 attempt since"


def test_a_contact_logged_clears_no_contact_and_starts_the_count_again(world: World) -> None:
    with on(2026, 5, 18):
        case = case_for(world, start=dt.date(2026, 5, 18))
    contact(case, at(2026, 6, 1, 10))
    with on(2026, 6, 16, 10):
        scan()
        client_services.contact_log(case=case, by=world.link_worker, at=at(2026, 6, 16, 9), method="phone")
        scan()
    assert not holders(Rule.NO_CONTACT)
    with on(2026, 6, 30, 10):
        scan()
    assert Reminder.objects.get(rule=Rule.NO_CONTACT, status=ReminderStatus.OPEN).due_on == dt.date(2026, 6, 30)


def test_a_paused_case_is_not_chased(world: World) -> None:
    with on(2026, 5, 18):
        case = case_for(world, start=dt.date(2026, 5, 18))
    contact(case, at(2026, 5, 20, 10))
    client_services.case_pause(case=case, by=world.link_worker, reason="In hospital", on=dt.date(2026, 5, 21))
    with on(2026, 6, 16):
        scan()
    assert not holders(Rule.NO_CONTACT)


# --- Ending soon --------------------------------------------------------------------------------------------
def test_two_weeks_before_the_window_ends_with_fewer_than_six_contacts(world: World) -> None:
    with on(2026, 3, 16):
        case = case_for(world, start=dt.date(2026, 3, 16), window_end=dt.date(2026, 6, 15))
    for day in (25, 27, 29):
        contact(case, at(2026, 5, day, 10))
    with on(2026, 5, 31):
        scan()
    assert not holders(Rule.ENDING_SOON)
    with on(2026, 6, 1):
        scan()
    reminder = Reminder.objects.get(rule=Rule.ENDING_SOON)
    assert reminder.title == "Support window ends on 15 June 2026: 3 contacts so far"
    assert reminder.due_on == dt.date(2026, 6, 1)


def test_extending_the_window_clears_ending_soon(world: World) -> None:
    with on(2026, 3, 16):
        case = case_for(world, start=dt.date(2026, 3, 16), window_end=dt.date(2026, 6, 15))
    contact(case, at(2026, 5, 30, 10))
    with on(2026, 6, 2):
        scan()
        assert holders(Rule.ENDING_SOON)
        client_services.case_extend(case=case, by=world.link_worker, weeks=4, reason="Waiting for a group to start")
        scan()
    assert not holders(Rule.ENDING_SOON)
    assert holders(Rule.ENDING_SOON, ReminderStatus.CLEARED)


def test_six_contacts_mean_no_ending_soon(world: World) -> None:
    with on(2026, 3, 16):
        case = case_for(world, start=dt.date(2026, 3, 16), window_end=dt.date(2026, 6, 15))
    for day in range(20, 26):
        contact(case, at(2026, 5, day, 10))
    with on(2026, 6, 2):
        scan()
    assert not holders(Rule.ENDING_SOON)


# --- Twelve contacts ----------------------------------------------------------------------------------------
def test_twelve_contacts_ask_for_a_review_once(world: World) -> None:
    with on(2026, 3, 2):
        case = case_for(world, start=dt.date(2026, 3, 2), window_end=dt.date(2026, 7, 31))
    for week in range(11):
        contact(case, at(2026, 3, 9, 10) + dt.timedelta(weeks=week))
    with on(2026, 6, 1):
        scan()
    assert not holders(Rule.CONTACTS_REVIEW)
    contact(case, at(2026, 6, 2, 10))
    with on(2026, 6, 3):
        scan()
    reminder = Reminder.objects.get(rule=Rule.CONTACTS_REVIEW)
    assert reminder.due_on == dt.date(2026, 6, 2)
    assert reminder.title == "12 contacts reached: review (close, extend with a reason, or continue)"
    notification_services.reminder_mark_done(reminder=reminder, by=world.link_worker)
    contact(case, at(2026, 6, 4, 10))  # a 13th contact does not ask again
    with on(2026, 6, 5):
        scan()
    assert Reminder.objects.filter(rule=Rule.CONTACTS_REVIEW).count() == 1
    assert not holders(Rule.CONTACTS_REVIEW)


def test_closing_the_case_clears_the_review(world: World) -> None:
    with on(2026, 3, 2):
        case = case_for(world, start=dt.date(2026, 3, 2), window_end=dt.date(2026, 7, 31))
    for week in range(12):
        contact(case, at(2026, 3, 9, 10) + dt.timedelta(weeks=week))
    with on(2026, 6, 3):
        scan()
        assert holders(Rule.CONTACTS_REVIEW)
        client_services.case_close(case=case, on=dt.date(2026, 6, 3), reason="goals_met", summary="Connected")
        scan()
    assert not holders(Rule.CONTACTS_REVIEW)


# --- Window ended -------------------------------------------------------------------------------------------
def test_window_ended_on_an_open_case_goes_to_the_link_worker_and_the_supervisor(world: World) -> None:
    with on(2026, 3, 10):
        case = case_for(world, start=dt.date(2026, 3, 10), window_end=dt.date(2026, 6, 9))
    contact(case, at(2026, 6, 8, 10))
    with on(2026, 6, 9):
        scan()
    assert not holders(Rule.WINDOW_ENDED)
    with on(2026, 6, 10):
        scan()
    assert holders(Rule.WINDOW_ENDED) == {world.link_worker.email, world.supervisor.email}
    assert Reminder.objects.filter(rule=Rule.WINDOW_ENDED).first().title == (
        "Support window ended on 9 June 2026: review needed"
    )
    with on(2026, 6, 10, 12):
        client_services.case_close(case=case, on=dt.date(2026, 6, 10), reason="connected", summary="Connected")
        scan()
    assert not holders(Rule.WINDOW_ENDED)


# --- Follow-up measure --------------------------------------------------------------------------------------
def _baseline(case: Any, world: World, timepoint: str = "baseline", taken: dt.date = dt.date(2026, 3, 20)) -> None:
    Assessment.objects.create(
        case=case,
        # get_or_create: a transactional test elsewhere may have flushed the migration's rows from a reused database.
        instrument=Instrument.objects.get_or_create(
            code="ucla3", version="1", defaults={"name": "UCLA 3-item loneliness scale", "short_name": "UCLA-3"}
        )[0],
        timepoint=timepoint,
        taken_on=taken,
        answers={},
        recorded_by=world.link_worker,
    )


def test_a_follow_up_measure_is_due_at_window_end_when_a_baseline_exists(world: World) -> None:
    with on(2026, 3, 10):
        case = case_for(world, start=dt.date(2026, 3, 10), window_end=dt.date(2026, 6, 9))
        without = case_for(world, start=dt.date(2026, 3, 10), window_end=dt.date(2026, 6, 9))
    _baseline(case, world)
    with on(2026, 6, 8):
        scan()
    assert not holders(Rule.FOLLOW_UP_MEASURE)
    with on(2026, 6, 9):
        scan()
    reminder = Reminder.objects.get(rule=Rule.FOLLOW_UP_MEASURE)
    assert reminder.object_id == case.pk
    assert reminder.object_id != without.pk
    assert reminder.due_on == dt.date(2026, 6, 9)
    _baseline(case, world, "follow_up", dt.date(2026, 6, 9))
    with on(2026, 6, 9, 12):
        scan()
    assert not holders(Rule.FOLLOW_UP_MEASURE)


def test_a_follow_up_measure_is_due_at_closure(world: World) -> None:
    with on(2026, 3, 10):
        case = case_for(world, start=dt.date(2026, 3, 10), window_end=dt.date(2026, 6, 9))
    _baseline(case, world)
    with on(2026, 5, 1):
        client_services.case_close(case=case, on=dt.date(2026, 5, 1), reason="goals_met", summary="Done")
        scan()
    assert Reminder.objects.get(rule=Rule.FOLLOW_UP_MEASURE).detail == "Case closed 1 May 2026"
    with on(2026, 6, 5):  # over 30 days after closure: no longer asked for
        scan()
    assert not holders(Rule.FOLLOW_UP_MEASURE)


# --- Home visits --------------------------------------------------------------------------------------------
def _visit(world: World, case: Any) -> HomeVisit:
    return HomeVisit.objects.create(
        case=case,
        link_worker=world.link_worker,
        planned_start=at(2026, 6, 10, 10),
        expected_minutes=60,
        checked_in_at=at(2026, 6, 10, 10),
    )


def test_a_home_visit_not_checked_out_alerts_the_managers_and_supervisors_at_once(world: World, mailoutbox) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    visit = _visit(world, case)
    NotificationPreference.objects.create(user=world.supervisor, email_digest=False)  # urgent is always emailed
    with on(2026, 6, 10, 11, 14):  # expected end 11:00 plus 15 minutes' grace
        reminders.home_visit_alerts_scan()
    assert not Reminder.objects.exists()
    with on(2026, 6, 10, 11, 16):
        reminders.home_visit_alerts_scan()
        assert notification_services.urgent_alerts_send() == 2
        assert notification_services.urgent_alerts_send() == 0
    assert holders(Rule.HOME_VISIT_OVERDUE) == {world.manager.email, world.supervisor.email}
    reminder = Reminder.objects.filter(rule=Rule.HOME_VISIT_OVERDUE).first()
    assert reminder.urgent
    assert reminder.title == "Home visit not checked out: Amira Khan was expected back by 11:00 on 10 June 2026"
    assert sorted(m.to[0] for m in mailoutbox) == sorted([world.manager.email, world.supervisor.email])
    email = mailoutbox[0]
    assert email.subject.startswith("URGENT: Home visit not checked out")
    assert f"J.S. {case.reference}" in email.body
    assert "Jane" not in email.body and "Smith" not in email.body
    visit.refresh_from_db()
    assert visit.overdue_alerted_at is not None


def test_the_duty_contact_gets_the_alert_instead_of_the_managers(world: World) -> None:
    ReminderSettings.objects.create(service=world.service, duty_contact=world.colleague, home_visit_grace_minutes=0)
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    _visit(world, case)
    with on(2026, 6, 10, 11, 1):
        reminders.home_visit_alerts_scan()
    assert holders(Rule.HOME_VISIT_OVERDUE) == {world.colleague.email, world.supervisor.email}


def test_checking_out_clears_the_alert(world: World) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    visit = _visit(world, case)
    with on(2026, 6, 10, 11, 30):
        reminders.home_visit_alerts_scan()
        assert holders(Rule.HOME_VISIT_OVERDUE)
        client_services.home_visit_check_out(visit=visit, by=world.link_worker)
        reminders.home_visit_alerts_scan()
    assert not holders(Rule.HOME_VISIT_OVERDUE)
    assert not Reminder.objects.filter(rule=Rule.HOME_VISIT_OVERDUE, status=ReminderStatus.OPEN).exists()


# --- The community directory ---------------------------------------------------------------------------------
def test_a_directory_entry_past_its_review_reminds_the_service_managers(world: World) -> None:
    entry = factories.CommunityServiceFactory(
        provider__service=world.service, name="Knit and Natter", last_checked_on=dt.date(2025, 6, 10)
    )
    with on(2026, 6, 10):  # due today, overdue tomorrow
        scan()
    assert not holders(Rule.COMMUNITY_REVIEW)
    with on(2026, 6, 11):
        scan()
        assert holders(Rule.COMMUNITY_REVIEW) == {world.manager.email}
        reminder = Reminder.objects.get(rule=Rule.COMMUNITY_REVIEW)
        assert reminder.subject == "Knit and Natter"
        assert reminder.link == reverse("community:service", args=[entry.pk])
        community_services.qa_record(
            service=entry, by=world.manager, safeguarding_policy_seen=True, dbs_check="done", insurance_seen=True
        )
        scan()
    assert not holders(Rule.COMMUNITY_REVIEW)


# --- Idempotency and scale ----------------------------------------------------------------------------------
def _one_of_each(world: World) -> None:
    """Something due for every rule of the main scan, on 10 June 2026."""
    factories.NewReferralFactory(service=world.service, received_at=at(2026, 5, 20, 10))
    case_for(world, start=dt.date(2026, 6, 1))  # first contact
    quiet = case_for(world, start=dt.date(2026, 5, 1))  # no contact
    contact(quiet, at(2026, 5, 20, 10))
    ending = case_for(world, start=dt.date(2026, 3, 16), window_end=dt.date(2026, 6, 20))  # ending soon
    contact(ending, at(2026, 6, 9, 10))
    busy = case_for(world, start=dt.date(2026, 3, 2), window_end=dt.date(2026, 7, 31))  # 12 contacts
    for week in range(12):
        contact(busy, at(2026, 3, 9, 10) + dt.timedelta(weeks=week))
    ended = case_for(world, start=dt.date(2026, 3, 1), window_end=dt.date(2026, 6, 1))  # ended, measure due
    contact(ended, at(2026, 6, 9, 10))
    _baseline(ended, world)
    factories.CommunityServiceFactory(provider__service=world.service, last_checked_on=dt.date(2025, 1, 1))


def test_every_rule_fires_once_however_often_the_scan_runs(world: World) -> None:
    _one_of_each(world)
    with on(2026, 6, 10):
        first = scan()
        rows = Reminder.objects.count()
        second = scan()
    assert set(Reminder.objects.values_list("rule", flat=True)) == {
        Rule.TRIAGE_WAITING,
        Rule.TRIAGE_ESCALATION,
        Rule.FIRST_CONTACT,
        Rule.NO_CONTACT,
        Rule.ENDING_SOON,
        Rule.CONTACTS_REVIEW,
        Rule.WINDOW_ENDED,
        Rule.FOLLOW_UP_MEASURE,
        Rule.COMMUNITY_REVIEW,
    }
    assert first.created == rows
    assert (second.created, second.cleared, second.reopened) == (0, 0, 0)
    assert Reminder.objects.count() == rows


def test_the_scan_takes_the_same_number_of_queries_for_more_cases(world: World) -> None:
    _one_of_each(world)
    with on(2026, 6, 10), CaptureQueriesContext(connection) as small:
        scan()
    Reminder.objects.all().delete()
    for _ in range(5):
        _one_of_each(world)
    with on(2026, 6, 10), CaptureQueriesContext(connection) as large:
        scan()
    # SAVEPOINT; the advisory lock; services with their settings; who works there; one query per rule (8); the
    # reminders already there; the insert; RELEASE SAVEPOINT.
    assert len(small) == len(large) == 15
    assert Reminder.objects.filter(rule=Rule.FIRST_CONTACT).count() == 6


def test_a_scan_that_fails_half_way_leaves_nothing_and_the_next_one_does_it_all(world: World, monkeypatch) -> None:
    _one_of_each(world)

    def broken(ctx: Any) -> list:
        raise RuntimeError("worker killed")

    monkeypatch.setitem(reminders.SCAN_RULES, broken, (Rule.COMMUNITY_REVIEW,))
    with on(2026, 6, 10), pytest.raises(RuntimeError):
        scan()
    assert not Reminder.objects.exists()
    monkeypatch.delitem(reminders.SCAN_RULES, broken)
    with on(2026, 6, 10):
        scan()
    assert Reminder.objects.filter(rule=Rule.COMMUNITY_REVIEW).exists()


def _in_threads(target: Any, n: int = 2) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_scans_at_once_make_one_reminder_each(world: World) -> None:
    _one_of_each(world)
    with time_machine.travel(at(2026, 6, 10), tick=False):
        expected_rules = 9
        results = _in_threads(scan)
    assert len(results) == 2
    assert Reminder.objects.values("rule").distinct().count() == expected_rules
    keys = list(Reminder.objects.values_list("rule", "object_id", "due_on", "recipient_id"))
    assert len(keys) == len(set(keys))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_the_lock_the_unique_constraint_still_makes_one(world: World, monkeypatch) -> None:
    monkeypatch.setattr(reminders, "_try_lock", lambda key: True)
    _one_of_each(world)
    with time_machine.travel(at(2026, 6, 10), tick=False):
        results = _in_threads(scan)
        reminders.reminders_scan()
    assert all(r is not None for r in results)
    keys = list(Reminder.objects.values_list("rule", "object_id", "due_on", "recipient_id"))
    assert len(keys) == len(set(keys))
    assert Reminder.objects.filter(rule=Rule.FIRST_CONTACT).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_overlapping_scan_skips(world: World) -> None:
    """While one scan holds the lock, another does nothing and says so."""
    _one_of_each(world)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                assert reminders._try_lock(reminders.SCAN_LOCK)
                holding.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with time_machine.travel(at(2026, 6, 10), tick=False):
            assert reminders.reminders_scan() is None
    finally:
        release.set()
        thread.join(timeout=20)
    assert not Reminder.objects.exists()
    with time_machine.travel(at(2026, 6, 10), tick=False):
        assert reminders.reminders_scan() is not None
    assert Reminder.objects.exists()


# --- The daily digest ---------------------------------------------------------------------------------------
def _two_for_the_link_worker_one_for_the_manager(world: World) -> Any:
    with on(2026, 6, 1):
        first = case_for(world, start=dt.date(2026, 6, 1))
        second = case_for(world, start=dt.date(2026, 6, 1))
    factories.CommunityServiceFactory(provider__service=world.service, name="Knit and Natter", last_checked_on=None)
    with on(2026, 6, 8, 6):
        scan()
    return first, second


def test_one_digest_per_person_listing_everything_due(world: World, mailoutbox) -> None:
    first, second = _two_for_the_link_worker_one_for_the_manager(world)
    with on(2026, 6, 8, 6, 59):
        assert notification_services.digests_send() == 0
    with on(2026, 6, 8, 7, 5):
        assert notification_services.digests_send() == 2
        assert notification_services.digests_send() == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted([world.link_worker.email, world.manager.email])
    email = next(m for m in mailoutbox if m.to == [world.link_worker.email])
    assert email.subject == "Linkwork: 2 reminders due"
    assert "First contact not made (2)" in email.body
    assert (
        f"J.S. {first.reference}, due 8 June 2026: http://127.0.0.1:8000{reverse('clients:case', args=[first.pk])}"
        in email.body
    )
    assert f"J.S. {second.reference}" in email.body
    assert Digest.objects.filter(day=dt.date(2026, 6, 8)).count() == 2
    with on(2026, 6, 9, 7, 5):  # the next day, still due: one more each
        assert notification_services.digests_send() == 2


def test_the_digest_reads_as_a_whole_email(world: World, mailoutbox) -> None:
    """The whole body, line by line: the reminders' lines are written in Python and the rest by the template."""
    first, second = _two_for_the_link_worker_one_for_the_manager(world)
    with on(2026, 6, 8, 7, 5):
        notification_services.digests_send()
    email = next(m for m in mailoutbox if m.to == [world.link_worker.email])
    site = "http://127.0.0.1:8000"
    first_case, second_case = sorted(
        [first, second], key=lambda c: Reminder.objects.get(object_id=c.pk, rule=Rule.FIRST_CONTACT).pk
    )
    assert email.body == (
        f"Hello {world.link_worker.get_short_name()},\n"
        "\n"
        "You have 2 reminders in Linkwork.\n"
        "\n"
        "First contact not made (2)\n"
        f"- J.S. {first_case.reference}, due 8 June 2026: {site}{reverse('clients:case', args=[first_case.pk])}\n"
        f"- J.S. {second_case.reference}, due 8 June 2026: {site}{reverse('clients:case', args=[second_case.pk])}\n"
        "\n"
        f"Sign in to see the details, mark reminders done or snooze them: {site}{reverse('notifications:inbox')}\n"
        "\n"
        "This email lists initials and references only. To stop the daily email (urgent alerts are still sent): "
        f"{site}{reverse('notifications:preferences')}\n\n"
    )


def test_a_digest_that_fails_to_send_is_not_claimed_and_the_next_run_sends_it(
    world: World, mailoutbox, monkeypatch, caplog
) -> None:
    real_send = notification_services.send_mail

    def refusing(**kwargs: Any) -> Any:
        if kwargs["recipient_list"] == [world.link_worker.email]:
            raise OSError("mail server said no")
        return real_send(**kwargs)

    _two_for_the_link_worker_one_for_the_manager(world)
    monkeypatch.setattr(notification_services, "send_mail", refusing)
    with on(2026, 6, 8, 7, 5):
        assert notification_services.digests_send() == 1
    assert [m.to for m in mailoutbox] == [[world.manager.email]]
    assert set(Digest.objects.values_list("user_id", flat=True)) == {world.manager.pk}
    assert f"Could not send the reminder digest to user {world.link_worker.pk}" in caplog.text
    monkeypatch.setattr(notification_services, "send_mail", real_send)
    with on(2026, 6, 8, 8, 5):
        assert notification_services.digests_send() == 1
        assert notification_services.digests_send() == 0
    assert [m.to for m in mailoutbox][1:] == [[world.link_worker.email]]
    assert Digest.objects.get(user=world.link_worker).items == 2


def test_a_digest_run_opens_one_mail_connection_for_everyone(world: World, mailoutbox, monkeypatch) -> None:
    """With SMTP each connection is a TCP and TLS handshake: the run opens one, not one per email."""
    from django.core import mail as django_mail

    opened = []

    def counting(**kwargs: Any) -> Any:
        opened.append(kwargs)
        return django_mail.get_connection(**kwargs)

    monkeypatch.setattr(notification_services, "get_connection", counting)
    _two_for_the_link_worker_one_for_the_manager(world)
    with on(2026, 6, 8, 7, 5):
        assert notification_services.digests_send() == 2
    assert len(mailoutbox) == 2
    assert len(opened) == 1


def test_digests_carry_no_clinical_detail(world: World, mailoutbox) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
        case.client.address = "1 Mill Lane"
        case.client.save()
    contact(case, at(2026, 6, 2, 10), attempted=True).notes  # noqa: B018
    with on(2026, 6, 8, 8):
        scan()
        notification_services.digests_send()
    (email,) = mailoutbox
    for private in ("Jane", "Smith", case.client.nhs_number, "1960", "Mill Lane", "attempt", "Accepted"):
        assert private not in email.body
        assert private not in email.subject
    assert f"J.S. {case.reference}" in email.body


def test_no_digest_for_people_who_opted_out(world: World, mailoutbox) -> None:
    _two_for_the_link_worker_one_for_the_manager(world)
    notification_services.preference_save(user=world.link_worker, email_digest=False)
    with on(2026, 6, 8, 7, 5):
        assert notification_services.digests_send() == 1
    assert [m.to for m in mailoutbox] == [[world.manager.email]]


def test_the_digest_time_is_london_time_in_winter_and_summer(world: World, settings, mailoutbox) -> None:
    factories.CommunityServiceFactory(provider__service=world.service, last_checked_on=None)
    with on(2026, 1, 14, 6):
        scan()
    # 06:30 UTC is 06:30 GMT in January (too early) and 07:30 BST in June (time to send).
    with time_machine.travel(dt.datetime(2026, 1, 14, 6, 30, tzinfo=dt.UTC), tick=False):
        assert notification_services.digests_send() == 0
    with time_machine.travel(dt.datetime(2026, 6, 10, 6, 30, tzinfo=dt.UTC), tick=False):
        assert notification_services.digests_send() == 1
    settings.LINKWORK_DIGEST_TIME = dt.time(8, 0)
    with time_machine.travel(dt.datetime(2026, 6, 11, 6, 30, tzinfo=dt.UTC), tick=False):
        assert notification_services.digests_send() == 0


def test_a_failed_send_is_retried_by_the_next_run(world: World, mailoutbox, monkeypatch) -> None:
    _two_for_the_link_worker_one_for_the_manager(world)

    def down(**kwargs: Any) -> None:
        raise ConnectionRefusedError("mail relay down")

    monkeypatch.setattr(notification_services, "send_mail", down)
    with on(2026, 6, 8, 7, 5):
        assert notification_services.digests_send() == 0
    assert not Digest.objects.exists()
    monkeypatch.undo()
    with on(2026, 6, 8, 7, 20):
        assert notification_services.digests_send() == 2
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_digest_is_claimed_for_everyone_to_see_before_it_is_sent(world: World, monkeypatch) -> None:
    """The claim is committed before the send (no transaction held open around the mail server): a run that
    starts while an email is going out sees the claim at once, and neither waits for it nor sends it again."""
    _two_for_the_link_worker_one_for_the_manager(world)
    real_send = notification_services.send_mail
    seen_by_another_run: list[int] = []

    def meanwhile(**kwargs: Any) -> Any:
        if kwargs["recipient_list"] == [world.link_worker.email]:
            seen_by_another_run.extend(_in_threads(notification_services.digests_send, n=1))
            other = _in_threads(lambda: Digest.objects.filter(user=world.link_worker).count(), n=1)
            assert other == [1]
        return real_send(**kwargs)

    monkeypatch.setattr(notification_services, "send_mail", meanwhile)
    with time_machine.travel(at(2026, 6, 8, 7, 5), tick=False):
        assert notification_services.digests_send() + sum(seen_by_another_run) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.link_worker.email, world.manager.email])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_digest_runs_at_once_send_one_email_each(world: World) -> None:
    _two_for_the_link_worker_one_for_the_manager(world)
    with time_machine.travel(at(2026, 6, 8, 7, 5), tick=False):
        results = _in_threads(notification_services.digests_send)
    assert sum(results) == 2
    assert len(mail.outbox) == 2


# --- The pages ----------------------------------------------------------------------------------------------
@pytest.fixture
def due(world: World) -> Reminder:
    """A first-contact reminder for the link worker, due today (10 June 2026)."""
    with on(2026, 6, 1):
        case_for(world, start=dt.date(2026, 6, 1))
    with on(2026, 6, 10):
        scan()
    return Reminder.objects.get(recipient=world.link_worker)


@pytest.fixture
def today() -> Iterator[None]:
    with on(2026, 6, 10, 10):
        yield


def test_the_page_lists_the_users_reminders_with_links_and_the_header_counts_them(
    client, world: World, due: Reminder, today: None
) -> None:
    login(client, world.link_worker)
    page = client.get(reverse("notifications:inbox")).text
    assert f'<a href="{due.link}">First contact due by 8 June 2026</a>' in page
    assert due.subject in page
    assert '1<span class="nhsuk-u-visually-hidden"> unread</span>' in page
    assert unread_count(user=world.link_worker) == 1


def test_the_header_count_adds_unread_notifications_to_reminders_due_for_that_user_only(
    world: World, due: Reminder, today: None
) -> None:
    """The count's SQL is compiled once a process with stand-in values (notifications.selectors._unread_sql):
    each call must still count this user's own, on this day."""
    from django.utils import timezone

    from linkwork.notifications.models import Notification

    Notification.objects.create(user=world.link_worker, title="Unread")
    Notification.objects.create(user=world.link_worker, title="Read", read_at=timezone.now())
    Notification.objects.create(user=world.colleague, title="Someone else's")
    assert unread_count(user=world.link_worker) == 2  # the unread notification and the reminder due
    assert unread_count(user=world.colleague) == 1
    assert unread_count(user=world.supervisor) == 0
    Reminder.objects.filter(pk=due.pk).update(status=ReminderStatus.SNOOZED, snoozed_until=dt.date(2026, 6, 11))
    assert unread_count(user=world.link_worker) == 1
    with on(2026, 6, 11, 10):
        assert unread_count(user=world.link_worker) == 2


@pytest.mark.parametrize(
    "persona", ["colleague", "other_link_worker", "referrer", "supervisor", "manager", "commissioner", "admin"]
)
def test_nobody_else_sees_someone_elses_reminders(client, world: World, due: Reminder, today: None, persona) -> None:
    login(client, getattr(world, persona))
    page = client.get(reverse("notifications:inbox")).text
    assert due.subject not in page
    assert client.post(reverse("notifications:done", args=[due.pk])).status_code == 404
    assert client.get(reverse("notifications:snooze", args=[due.pk])).status_code == 404
    due.refresh_from_db()
    assert due.status == ReminderStatus.OPEN


def test_marking_done(client, world: World, due: Reminder, today: None) -> None:
    login(client, world.link_worker)
    response = client.post(reverse("notifications:done", args=[due.pk]), follow=True)
    assert "Marked as done: First contact due by 8 June 2026" in response.text
    due.refresh_from_db()
    assert due.status == ReminderStatus.DONE
    assert unread_count(user=world.link_worker) == 0
    scan()  # still no first contact, but it is not asked again
    due.refresh_from_db()
    assert due.status == ReminderStatus.DONE
    assert Reminder.objects.count() == 1


def test_done_needs_a_post_and_a_sign_in(client, world: World, due: Reminder, today: None) -> None:
    response = client.post(reverse("notifications:done", args=[due.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    login(client, world.link_worker)
    assert client.get(reverse("notifications:done", args=[due.pk])).status_code == 405


def test_snoozing_to_a_date_hides_it_until_then(client, world: World, due: Reminder) -> None:
    with on(2026, 6, 10, 10):
        login(client, world.link_worker)
        assert "Snooze until" in client.get(reverse("notifications:snooze", args=[due.pk])).text
        response = client.post(
            reverse("notifications:snooze", args=[due.pk]),
            {"until_day": "15", "until_month": "6", "until_year": "2026"},
            follow=True,
        )
        assert "Snoozed until 15 June 2026" in response.text
        due.refresh_from_db()
        assert (due.status, due.snoozed_until) == (ReminderStatus.SNOOZED, dt.date(2026, 6, 15))
        assert unread_count(user=world.link_worker) == 0
        scan()
        notification_services.digests_send()
    assert not mail.outbox
    with on(2026, 6, 15, 10):
        assert unread_count(user=world.link_worker) == 1
        login(client, world.link_worker)
        page = client.get(reverse("notifications:inbox")).text
        assert "Snoozed (" not in page
        assert "First contact due by 8 June 2026" in page


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("10", "6", "2026", "The date must be in the future"),
        ("31", "2", "2026", "The date must be a real date"),
        ("", "", "", "Enter the date"),
        ("1", "1", "2028", "The date must be within a year"),
    ],
)
def test_an_impossible_snooze_date_is_explained(
    client, world: World, due: Reminder, today: None, day: str, month: str, year: str, message: str
) -> None:
    login(client, world.link_worker)
    response = client.post(
        reverse("notifications:snooze", args=[due.pk]),
        {"until_day": day, "until_month": month, "until_year": year},
    )
    assert response.status_code == 400
    assert message in response.text
    assert "There is a problem" in response.text
    if year:
        assert f'value="{year}"' in response.text
    due.refresh_from_db()
    assert due.status == ReminderStatus.OPEN


def test_a_reminder_dealt_with_since_the_last_scan_is_gone_from_the_page(
    client, world: World, due: Reminder, today: None
) -> None:
    case = client_services.Case.objects.get(pk=due.object_id)
    client_services.contact_log(case=case, by=world.link_worker, at=at(2026, 6, 10, 9), method="phone")
    login(client, world.link_worker)
    page = client.get(reverse("notifications:inbox")).text
    assert "First contact due by" not in page
    due.refresh_from_db()
    assert due.status == ReminderStatus.CLEARED


INBOX = "notifications:inbox"


def _looked_at(client: Any, user: Any) -> str:
    """Sign in and look at the reminders page: the recheck runs and is remembered."""
    login(client, user)
    return client.get(reverse(INBOX)).text


def test_a_remembered_recheck_is_run_again_once_a_contact_is_logged(
    client, world: World, due: Reminder, today: None
) -> None:
    assert "First contact due by 8 June 2026" in _looked_at(client, world.link_worker)
    case = client_services.Case.objects.get(pk=due.object_id)
    client_services.contact_log(case=case, by=world.link_worker, at=at(2026, 6, 10, 9), method="phone")
    assert "First contact due by" not in client.get(reverse(INBOX)).text
    due.refresh_from_db()
    assert due.status == ReminderStatus.CLEARED


def test_one_recheck_clears_what_no_longer_holds_under_every_rule_and_keeps_what_does(
    client, world: World, due: Reminder, today: None
) -> None:
    """The rules the user has reminders for are reconciled together (one read, one update): a reminder under each
    of two other rules, for things no rule finds due any more, are both cleared; the one still due stays."""
    stale = [
        Reminder.objects.create(
            rule=rule,
            recipient=world.link_worker,
            service=world.service,
            object_kind=due.object_kind,
            object_id=uuid.uuid4(),  # nothing the rules can find
            due_on=due.due_on,
            title=f"Stale {rule}",
            subject="J S",
            link=due.link,
        )
        for rule in (Rule.NO_CONTACT, Rule.HOME_VISIT_OVERDUE)
    ]
    login(client, world.link_worker)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse(INBOX)).text
    assert "First contact due by 8 June 2026" in page and "Stale" not in page
    reconciling = [q for q in queries.captured_queries if '"notifications_reminder"."rule" IN' in q["sql"]]
    assert len(reconciling) == 1  # three rules, one read
    assert {r.rule: r.status for r in Reminder.objects.filter(pk__in=[r.pk for r in stale])} == {
        Rule.NO_CONTACT: ReminderStatus.CLEARED,
        Rule.HOME_VISIT_OVERDUE: ReminderStatus.CLEARED,
    }
    due.refresh_from_db()
    assert due.status == ReminderStatus.OPEN


def test_a_remembered_recheck_is_run_again_once_the_services_rules_change(
    client, world: World, due: Reminder, today: None
) -> None:
    assert "First contact due by 8 June 2026" in _looked_at(client, world.link_worker)
    # Nothing under the reminders is a versioned table: the rule's setting is read from the row itself.
    ReminderSettings.objects.update_or_create(service=world.service, defaults={"first_contact_working_days": 20})
    assert "First contact due by" not in client.get(reverse(INBOX)).text
    due.refresh_from_db()
    assert due.status == ReminderStatus.CLEARED


def test_a_link_worker_who_leaves_the_service_no_longer_sees_its_reminders(
    client, world: World, due: Reminder, today: None
) -> None:
    assert "First contact due by 8 June 2026" in _looked_at(client, world.link_worker)
    Membership.objects.filter(user=world.link_worker, organisation=world.service).delete()
    assert "First contact due by" not in client.get(reverse(INBOX)).text
    due.refresh_from_db()
    assert due.status == ReminderStatus.CLEARED
    scan()  # the next scan gives the case's reminder to its manager
    assert holders(Rule.FIRST_CONTACT) == {world.manager.email}


def test_urgent_alerts_come_first(client, world: World, today: None) -> None:
    with on(2026, 6, 1):
        case = case_for(world, start=dt.date(2026, 6, 1))
    _visit(world, case)
    with on(2026, 6, 10, 11, 30):
        reminders.home_visit_alerts_scan()
        login(client, world.supervisor)
        page = client.get(reverse("notifications:inbox")).text
    assert '<h2 class="nhsuk-heading-m">Urgent</h2>' in page
    assert "Home visit not checked out: Amira Khan" in page


def test_everyone_can_choose_not_to_get_the_digest(client, world: World) -> None:
    login(client, world.supervisor)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    response = client.post(reverse("notifications:preferences"), {}, follow=True)
    assert "You will not get the daily email. Urgent alerts are still emailed" in response.text
    assert NotificationPreference.objects.get(user=world.supervisor).email_digest is False
    client.post(reverse("notifications:preferences"), {"email_digest": "on"})
    assert NotificationPreference.objects.get(user=world.supervisor).email_digest is True


def test_preferences_need_a_sign_in(client, world: World) -> None:
    assert client.get(reverse("notifications:preferences")).status_code == 302


# --- A service's reminder settings ----------------------------------------------------------------------------
def _settings_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "triage_alert_working_days": "3",
        "triage_escalate_working_days": "8",
        "first_contact_working_days": "4",
        "no_contact_days": "10",
        "ending_soon_days": "21",
        "ending_soon_below_contacts": "6",
        "review_at_contacts": "12",
        "window_ended": "on",
        "follow_up_measure": "on",
        "community_review": "",
        "home_visit_grace_minutes": "",
        "duty_contact": "",
    }
    return {**data, **overrides}


def test_a_service_manager_sets_the_rules(client, world: World) -> None:
    login(client, world.manager)
    url = reverse("notifications:settings", args=[world.service.pk])
    assert url in client.get(reverse("notifications:inbox")).text
    page = client.get(url).text
    assert 'value="10"' in page  # the default escalation
    response = client.post(url, _settings_form(duty_contact=str(world.colleague.pk)), follow=True)
    assert "Reminder settings saved for Riverside Social Prescribing" in response.text
    rules = ReminderSettings.objects.get(service=world.service)
    assert (rules.no_contact_days, rules.ending_soon_days, rules.community_review) == (10, 21, False)
    assert rules.duty_contact == world.colleague
    assert rules.updated_by == world.manager
    world.service.refresh_from_db()
    assert world.service.triage_alert_working_days == 3


@pytest.mark.parametrize(
    ("persona", "status"),
    [("link_worker", 403), ("supervisor", 403), ("other_link_worker", 404), ("referrer", 404), ("nobody", 404)],
)
def test_only_the_services_manager_may_change_its_rules(client, world: World, persona: str, status: int) -> None:
    login(client, getattr(world, persona))
    url = reverse("notifications:settings", args=[world.service.pk])
    assert client.get(url).status_code == status
    assert client.post(url, _settings_form()).status_code == status
    assert not ReminderSettings.objects.exists()


def test_settings_need_a_sign_in(client, world: World) -> None:
    response = client.get(reverse("notifications:settings", args=[world.service.pk]))
    assert response.status_code == 302


def test_invalid_settings_are_explained_and_kept(client, world: World) -> None:
    login(client, world.manager)
    url = reverse("notifications:settings", args=[world.service.pk])
    response = client.post(url, _settings_form(no_contact_days="many", ending_soon_days="500"))
    assert response.status_code == 400
    assert "Remind after this many days without contact must be a whole number" in response.text
    assert "must be 120 or fewer" in response.text
    assert 'value="many"' in response.text
    response = client.post(url, _settings_form(duty_contact=str(world.other_link_worker.pk)))
    assert response.status_code == 400
    assert not ReminderSettings.objects.exists()


def test_a_setting_of_zero_turns_a_rule_off(world: World) -> None:
    ReminderSettings.objects.create(service=world.service, first_contact_working_days=0)
    with on(2026, 6, 1):
        case_for(world, start=dt.date(2026, 6, 1))
    with on(2026, 6, 10):
        scan()
    assert not holders(Rule.FIRST_CONTACT)


def test_the_members_of_the_service_are_the_only_duty_contacts(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        notification_services.reminder_settings_save(
            service=world.service, by=world.manager, triage_alert_working_days=2, duty_contact=world.referrer
        )
    assert Role.SERVICE_MANAGER  # the manager remains the fallback


# --- The broker is down -------------------------------------------------------------------------------------
@pytest.fixture
def broker_down() -> Iterator[None]:
    """Point Celery at a port nobody listens on."""
    with broker_unreachable():
        yield


def test_queueing_never_raises_when_the_broker_is_down(broker_down: None, caplog) -> None:
    from linkwork.celery import enqueue
    from linkwork.notifications import tasks

    assert enqueue(tasks.purge_read_notifications) is False
    assert "Could not queue linkwork.notifications.tasks.purge_read_notifications" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_triage_and_contacts_work_when_the_broker_is_down(client, world: World, broker_down: None) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.link_worker)
    response = client.post(reverse("referrals:accept", args=[referral.pk]), {"assignee": str(world.colleague.pk)})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    response = client.post(
        reverse("clients:contact_new", args=[referral.case_id]),
        {
            "date_day": str(dt.date.today().day),
            "date_month": str(dt.date.today().month),
            "date_year": str(dt.date.today().year),
            "time": "00:01",
            "method": "phone",
            "duration_minutes": "10",
        },
    )
    assert response.status_code == 302
    assert referral.case.contacts.count() == 1


def test_the_page_takes_the_same_number_of_queries_for_more_reminders(client, world: World, today: None) -> None:
    def page_queries() -> int:
        forget_kept_access()  # counted as a user's first request in a process
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("notifications:inbox")).status_code == 200
        return len(queries)

    with on(2026, 6, 1):
        case_for(world, start=dt.date(2026, 6, 1))
    scan()
    login(client, world.link_worker)
    small = page_queries()
    with on(2026, 6, 1):
        for _ in range(5):
            case_for(world, start=dt.date(2026, 6, 1))
    scan()
    assert Reminder.objects.filter(recipient=world.link_worker).count() == 6
    # New reminders, so the recheck runs: the user and their two-factor device (and the session, where Redis
    # does not hold it); the user's outstanding reminders; the data versions of their services; those
    # services' reminder settings and members (what the recheck is remembered under); services with their
    # settings; who works there; SAVEPOINT; the first-contact rule for those cases; the reminders to
    # reconcile; RELEASE; the reminders listed; a page of notifications with their total; the user's roles
    # (memberships: a link worker needs no linked services); the email choice; the header count (one query).
    # The session is not written: it was renewed less than a minute ago (SessionRenewalMiddleware).
    assert page_queries() == small == 16 + SESSION_QUERIES
    # Nothing has changed since: the recheck is remembered, and the rules are not run again.
    assert page_queries() == 10 + SESSION_QUERIES
