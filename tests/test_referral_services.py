"""Referral services: submission, the state machine, duplicates, idempotency, concurrency and the loop back."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clients.models import Case, CaseStatus, Client
from linkwork.accounts.models import Role
from linkwork.notifications.models import Notification
from referrals import selectors, services
from referrals.models import (
    SNOMED_DECLINED,
    SNOMED_REFERRED,
    Channel,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from tests import factories
from tests.conftest import World


def person(**overrides):
    data = {
        "given_name": "Siobhán",
        "family_name": "O'Brien",
        "date_of_birth": dt.date(1948, 3, 15),
        "nhs_number": "9990000026",
        "postcode": "LS1 4AP",
        "phone": "07700 900982",
        "contact_preference": "phone",
        "reasons": ["loneliness"],
        "consent_given": True,
    }
    data.update(overrides)
    return data


def submit(world: World, **overrides) -> Referral:
    referral, created = services.referral_submit(
        service=world.service,
        data=person(**overrides),
        channel=Channel.STAFF,
        idempotency_key=uuid.uuid4(),
        referred_by=world.referrer,
        source_organisation=world.practice,
    )
    assert created
    return referral


def test_a_submission_gets_a_reference_and_a_history(world: World) -> None:
    referral = submit(world)
    year = timezone.localdate().year
    assert referral.reference.startswith(f"SP-{year}-")
    assert len(referral.reference) == len("SP-2026-000123")
    assert referral.status == ReferralStatus.NEW
    assert list(referral.events.values_list("kind", flat=True)) == [ReferralEvent.Kind.SUBMITTED]


def test_references_are_unique_and_increasing(world: World) -> None:
    refs = [submit(world, nhs_number="").reference for _ in range(3)]
    assert len(set(refs)) == 3
    assert refs == sorted(refs)


def test_a_submission_is_numbered_by_its_insert_with_no_statement_of_its_own(world: World) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        referral = submit(world)
    statements = [q["sql"] for q in captured.captured_queries]
    assert not any("nextval" in sql for sql in statements)
    assert [sql.split()[0:3] for sql in statements if sql.startswith("INSERT")] == [
        ["INSERT", "INTO", '"referrals_referral"'],
        ["INSERT", "INTO", '"referrals_referralevent"'],
    ]
    # The number the INSERT handed back is the one stored.
    assert Referral.objects.get(pk=referral.pk).reference == referral.reference


def test_references_made_by_the_database_read_as_the_service_makes_them(world: World) -> None:
    """Past 999,999 the number grows a digit rather than being cut; a row put in without Django is numbered too."""
    year = timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM referral_reference_seq")
        (last_value,) = cursor.fetchone()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('referral_reference_seq', 999998)")
        assert services.next_reference() == f"SP-{year}-999999"
        assert submit(world).reference == f"SP-{year}-1000000"
        with connection.cursor() as cursor:
            cursor.execute("SELECT referral_next_reference()")
            (made,) = cursor.fetchone()
        assert made == f"SP-{year}-1000001"
    finally:
        # A sequence is not rolled back with the test's transaction: later tests read six-digit numbers.
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('referral_reference_seq', %s)", [last_value])


def test_the_same_idempotency_key_creates_one_referral(world: World) -> None:
    key = uuid.uuid4()
    first, created = services.referral_submit(
        service=world.service, data=person(), channel=Channel.STAFF, idempotency_key=key
    )
    again, created_again = services.referral_submit(
        service=world.service, data=person(given_name="Changed"), channel=Channel.STAFF, idempotency_key=key
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Referral.objects.count() == 1
    assert again.given_name == first.given_name != "Changed"  # the first one's details, untouched
    assert ReferralEvent.objects.filter(referral=first).count() == 1  # and no second "submitted"


def test_extra_fields_in_the_data_are_ignored(world: World) -> None:
    referral = submit(world, status="accepted", service=world.other_service, snomed_code="123")
    assert referral.status == ReferralStatus.NEW
    assert referral.service == world.service
    assert referral.snomed_code == ""


def test_no_consent_no_referral(world: World) -> None:
    with pytest.raises(ValidationError, match="consent"):
        services.referral_submit(
            service=world.service, data=person(consent_given=False), channel=Channel.SELF, idempotency_key=uuid.uuid4()
        )
    assert Referral.objects.count() == 0


def test_referrals_only_go_to_an_active_service(world: World) -> None:
    with pytest.raises(ValidationError):
        services.referral_submit(
            service=world.practice, data=person(), channel=Channel.STAFF, idempotency_key=uuid.uuid4()
        )


# --- The state machine --------------------------------------------------------------------------------
def test_accept_opens_a_case_with_a_new_client_and_records_the_snomed_code(world: World) -> None:
    referral = submit(world)
    case = services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.case == case
    assert referral.snomed_code == SNOMED_REFERRED
    assert referral.decided_by == world.link_worker
    assert case.link_worker == world.colleague
    assert case.status == CaseStatus.ACTIVE
    assert case.window_end == case.start_date + dt.timedelta(weeks=world.service.support_window_weeks)
    client = case.client
    assert (client.given_name, client.family_name, client.nhs_number) == ("Siobhán", "O'Brien", "9990000026")
    assert client.practice == world.practice
    assert [e.kind for e in referral.events.all()] == ["submitted", "accepted"]


def test_accept_reuses_the_client_with_the_same_nhs_number(world: World) -> None:
    existing = factories.ClientFactory(service=world.service, nhs_number="9990000026")
    case = services.referral_accept(referral=submit(world), by=world.link_worker, assignee=world.link_worker)
    assert case.client == existing
    assert Client.objects.count() == 1


def test_accept_can_merge_into_an_open_case(world: World) -> None:
    open_case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.colleague)
    referral = submit(world)
    case = services.referral_accept(referral=referral, by=world.link_worker, assignee=None, into_case=open_case)
    assert case == open_case
    assert Case.objects.count() == 1
    assert referral.events.last().kind == ReferralEvent.Kind.MERGED


def test_accept_refuses_an_assignee_who_is_not_a_link_worker_of_the_service(world: World) -> None:
    referral = submit(world)
    for wrong in (world.supervisor, world.other_link_worker, world.referrer):
        with pytest.raises(ValidationError, match="link worker in this service"):
            services.referral_accept(referral=referral, by=world.link_worker, assignee=wrong)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW
    assert Case.objects.count() == 0  # nothing half-saved


def test_decline_records_reason_and_code(world: World) -> None:
    referral = services.referral_decline(
        referral=submit(world), by=world.link_worker, reason="statutory", note="Needs the community mental health team"
    )
    assert referral.status == ReferralStatus.DECLINED
    assert referral.decline_reason == "statutory"
    assert referral.snomed_code == ""  # the service declined: not "social prescribing declined"
    assert "Needs a statutory or clinical service" in referral.events.last().note


def test_the_person_declining_records_the_declined_code(world: World) -> None:
    referral = services.referral_decline(referral=submit(world), by=world.link_worker, reason="person_declined")
    assert referral.snomed_code == SNOMED_DECLINED


def test_decline_needs_a_coded_reason(world: World) -> None:
    with pytest.raises(ValidationError):
        services.referral_decline(referral=submit(world), by=world.link_worker, reason="because")


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("decline", "accept", "already been declined"),
        ("accept", "decline", "already been accepted by Amira Khan"),
        ("accept", "accept", "already been accepted by Amira Khan"),
        ("decline", "decline", "already been declined"),
        ("decline", "redirect", "Only a referral waiting for triage"),
        ("accept", "redirect", "Only a referral waiting for triage"),
    ],
)
def test_illegal_transitions_are_refused(world: World, first: str, then: str, message: str) -> None:
    referral = submit(world)
    actions = {
        "accept": lambda: services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague),
        "decline": lambda: services.referral_decline(referral=referral, by=world.link_worker, reason="duplicate"),
        "redirect": lambda: services.referral_redirect(
            referral=referral, by=world.link_worker, to_service=world.other_service
        ),
    }
    actions[first]()
    before = Referral.objects.get(pk=referral.pk)
    with pytest.raises(services.TransitionError, match=message):
        actions[then]()
    after = Referral.objects.get(pk=referral.pk)
    assert (after.status, after.service_id, after.case_id) == (before.status, before.service_id, before.case_id)


def test_a_closed_referral_cannot_be_closed_again(world: World) -> None:
    referral = submit(world)
    services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague)
    services.referral_close(referral=referral, by=world.colleague, reason="goals_met", summary="Joined a choir.")
    with pytest.raises(services.TransitionError):
        services.referral_close(referral=referral, by=world.colleague, reason="goals_met", summary="Again")


def test_redirect_moves_the_referral_to_the_other_service_for_triage(world: World) -> None:
    referral = services.referral_redirect(
        referral=submit(world), by=world.link_worker, to_service=world.other_service, note="Lives in Hillside"
    )
    assert referral.service == world.other_service
    assert referral.status == ReferralStatus.NEW
    assert "From Riverside Social Prescribing to Hillside Social Prescribing: Lives in Hillside" in (
        referral.events.last().note
    )
    with pytest.raises(ValidationError):
        services.referral_redirect(referral=referral, by=world.link_worker, to_service=world.other_service)


def test_closing_sends_the_outcome_summary_back_and_closes_the_case(world: World) -> None:
    referral = submit(world)
    services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague)
    mail.outbox.clear()
    referral = services.referral_close(
        referral=referral, by=world.colleague, reason="connected", summary="Now goes to a walking group weekly."
    )
    assert referral.status == ReferralStatus.CLOSED
    assert referral.outcome_summary == "Now goes to a walking group weekly."
    assert referral.case.status == CaseStatus.CLOSED
    assert referral.case.closure_reason == "connected"


# --- Duplicates ---------------------------------------------------------------------------------------
def test_duplicates_by_nhs_number_or_name_and_birth_date_in_the_same_service_only(world: World) -> None:
    referral = submit(world)
    same_nhs = factories.NewReferralFactory(service=world.service, nhs_number="9990000026", given_name="Other")
    same_person = factories.NewReferralFactory(
        service=world.service,
        nhs_number="",
        given_name="SIOBHÁN",
        family_name="o'brien",
        date_of_birth=dt.date(1948, 3, 15),
    )
    factories.NewReferralFactory(service=world.other_service, nhs_number="9990000026")  # another service
    factories.DeclinedReferralFactory(service=world.service, nhs_number="9990000026")  # not open
    open_case = factories.ActiveCaseFactory(client__service=world.service, client__nhs_number="9990000026")
    factories.ClosedCaseFactory(client__service=world.service, client__nhs_number="9990000026")
    found = selectors.duplicates_for(referral)
    assert {r.pk for r in found.referrals} == {same_nhs.pk, same_person.pk}
    assert found.cases == [open_case]


def _queue(*, user, today=None):  # noqa: ANN001, ANN202
    """The whole triage queue, as the page builds each of its pages."""
    services, referrals = selectors.waiting_referrals(user=user)
    return services, selectors.queue_rows(referrals, today=today)


def test_the_queue_flags_duplicates_risk_and_interpreters(world: World) -> None:
    plain = submit(world, nhs_number="", given_name="Plain", family_name="Person")
    risky = submit(world, nhs_number="", given_name="Risky", risk_information="Dog")
    interp = submit(world, nhs_number="", given_name="Ana", interpreter_needed=True, language="Portuguese")
    dup_a = submit(world, nhs_number="9990000026")
    factories.ActiveCaseFactory(client__service=world.service, client__nhs_number="9990000042")
    dup_b = submit(world, nhs_number="9990000042", given_name="Bea")
    _, rows = _queue(user=world.link_worker)
    by_id = {row.referral.pk: row.referral for row in rows}
    assert not by_id[plain.pk].possible_duplicate
    assert by_id[dup_b.pk].possible_duplicate  # matches an open case
    assert not by_id[dup_a.pk].possible_duplicate  # the only one with that number
    assert by_id[risky.pk].risk_information and by_id[interp.pk].interpreter_needed
    assert [row.referral.pk for row in rows] == [plain.pk, risky.pk, interp.pk, dup_a.pk, dup_b.pk]  # oldest first


def test_waiting_time_counts_working_days_and_skips_bank_holidays(world: World) -> None:
    with time_machine.travel(dt.datetime(2026, 12, 23, 10, 0, tzinfo=dt.UTC), tick=False):
        referral = submit(world)  # Wednesday before Christmas
    _, rows = _queue(user=world.link_worker, today=dt.date(2026, 12, 29))
    row = next(r for r in rows if r.referral.pk == referral.pk)
    # Thu 24 counts; Fri 25, Sat, Sun, Mon 28 (Boxing Day observed) do not; Tue 29 counts
    assert row.waiting_working_days == 2
    assert not row.overdue
    _, rows = _queue(user=world.link_worker, today=dt.date(2026, 12, 30))
    assert next(r for r in rows if r.referral.pk == referral.pk).overdue  # 3 > 2 working days


def test_the_queue_is_scoped_to_my_services(world: World) -> None:
    mine = submit(world)
    theirs = factories.NewReferralFactory(service=world.other_service)
    _, rows = _queue(user=world.link_worker)
    assert [r.referral.pk for r in rows] == [mine.pk]
    _, rows = _queue(user=world.other_link_worker)
    assert [r.referral.pk for r in rows] == [theirs.pk]


def test_the_queue_takes_a_constant_number_of_queries(world: World, django_assert_num_queries) -> None:
    for i in range(3):
        submit(world, nhs_number="", given_name=f"Person{'abc'[i]}")
    # memberships (a link worker's organisation is the service: no linked services), the queue with its duplicate
    # flags
    with django_assert_num_queries(2):
        _queue(user=world.link_worker)
    for i in range(10):
        submit(world, nhs_number="", given_name=f"More{'abcdefghij'[i]}")
    world.link_worker._linkwork_access = None
    with django_assert_num_queries(2):
        _queue(user=world.link_worker)


# --- Concurrency --------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_link_workers_accepting_at_once_exactly_one_wins(django_db_blocker) -> None:
    service = factories.ServiceFactory()
    workers = [factories.UserFactory() for _ in range(2)]
    for w in workers:
        factories.MembershipFactory(user=w, organisation=service, role=Role.LINK_WORKER)
    referral = factories.NewReferralFactory(service=service)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(worker) -> None:
        try:
            barrier.wait()
            services.referral_accept(referral=referral, by=worker, assignee=worker)
            outcomes.append("won")
        except services.TransitionError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[1] == "won"
    assert sorted(outcomes)[0].startswith("This referral has already been accepted by")
    assert Case.objects.count() == 1
    assert ReferralEvent.objects.filter(kind="accepted").count() == 1


# --- The loop back --------------------------------------------------------------------------------------
def test_the_referrer_is_told_in_app_and_by_email_without_clinical_detail(
    world: World, eager_celery, django_capture_on_commit_callbacks
) -> None:
    referral = submit(world, hopes="Feels very low since her husband died", risk_information="Dog")
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague)
    notification = Notification.objects.get(user=world.referrer)
    assert notification.title == f"Referral {referral.reference} (S.O.) has been accepted"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["reception@example.nhs.uk"]
    for secret in ("Siobhán", "O'Brien", "9990000026", "husband", "Dog", "1948"):
        assert secret not in email.subject + email.body
    assert f"/referrals/sent/{referral.pk}/" in email.body


def test_an_agency_link_referrer_is_emailed_on_decline(
    world: World, eager_celery, django_capture_on_commit_callbacks
) -> None:
    referral, _ = services.referral_submit(
        service=world.service,
        data=person(referrer_name="Dev Patel", referrer_email="dev@foodbank.example", referrer_organisation_name="FB"),
        channel=Channel.AGENCY_LINK,
        idempotency_key=uuid.uuid4(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_decline(referral=referral, by=world.link_worker, reason="not_eligible")
    assert [m.to for m in mail.outbox] == [["dev@foodbank.example"]]
    assert "has been declined" in mail.outbox[0].subject
    assert not Notification.objects.exists()


def test_nothing_is_sent_if_the_decision_fails(world: World, django_capture_on_commit_callbacks) -> None:
    referral = submit(world)
    services.referral_decline(referral=referral, by=world.link_worker, reason="duplicate")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(services.TransitionError):
        services.referral_decline(referral=referral, by=world.link_worker, reason="duplicate")
    assert callbacks == []


# --- Agency links -----------------------------------------------------------------------------------------
def test_agency_links_store_only_a_hash_and_can_be_revoked(world: World) -> None:
    link, token = services.agency_link_create(service=world.service, agency_name="Foodbank", by=world.manager)
    assert len(token) >= 40
    assert token not in link.token_hash
    assert selectors.agency_link_by_token(services.hash_token(token)) == link
    services.agency_link_revoke(link=link, by=world.manager)
    assert selectors.agency_link_by_token(services.hash_token(token)) is None
    with pytest.raises(ValidationError, match="already been revoked"):
        services.agency_link_revoke(link=link, by=world.manager)
