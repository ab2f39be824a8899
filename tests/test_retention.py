"""Retention: people whose cases are all closed are anonymised once their last contact is more than
LINKWORK_RETENTION_YEARS ago (nightly, and on demand), keeping the coded data reports count; and erasure on
request, by a service manager, through the same code."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import (
    CaseStatus,
    Client,
    ClientAlert,
    Connection,
    Contact,
    Plan,
    PlanVersion,
    SafeguardingConcern,
    SafeguardingDecision,
    WhatMatters,
)
from community.models import PostcodeArea
from linkwork.audit.models import Action, AuditEvent
from linkwork.notifications.models import Notification, Reminder
from outcomes import privacy, reports
from outcomes.models import Assessment, Instrument, SystemUse
from referrals.models import Referral
from tests import factories
from tests.conftest import World, login

TODAY = timezone.localdate()
EIGHT_YEARS_AGO = TODAY - relativedelta(years=8)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def person(world: World, *, last_contact: dt.date, name: str = "Mabel", open_case: bool = False) -> Client:
    """A person with a closed case whose last contact was on ``last_contact``, with notes, a plan, measures,
    a connection, a safeguarding concern, reminders and notifications; with ``open_case``, a second case still
    active (started long ago, never contacted)."""
    lw = world.link_worker
    start = last_contact - dt.timedelta(days=60)
    client = factories.ClientFactory(
        service=world.service,
        given_name=name,
        family_name="Quince",
        preferred_name="Mae",
        date_of_birth=dt.date(1948, 7, 9),
        address="12 Orchard Row",
        postcode="LS1 4AP",
        phone="07700 900123",
        email=f"{name.lower()}@example.com",
        practice=world.practice,
        ethnic_category="A",
        sex="female",
        lsoa_code="E01011365",
        deprivation_decile=3,
        gender_identity="Woman",
    )
    case = factories.ClosedCaseFactory(
        client=client,
        link_worker=lw,
        start_date=start,
        window_end=start + dt.timedelta(weeks=13),
        closed_on=last_contact,
        closure_reason="connected",
        closing_summary="Joined the choir",
    )
    referral = factories.AcceptedReferralFactory(
        service=world.service,
        case=case,
        status="closed",
        given_name=name,
        family_name="Quince",
        date_of_birth=client.date_of_birth,
        nhs_number=client.nhs_number,
        postcode="LS1 4AP",
        phone="07700 900123",
        source_organisation=world.practice,
        received_at=at(start - dt.timedelta(days=5)),
        reasons=["loneliness", "other"],
        reason_other="Recently widowed",
        hopes="To feel less alone",
        risk_information="Large dog",
    )
    factories.DeclinedReferralFactory(
        service=world.service,
        given_name=name,
        family_name="Quince",
        date_of_birth=client.date_of_birth,
        nhs_number="",
        # Outside the deprivation lookup: an anonymised referral never accepted loses its decile (see
        # test_reports_add_up_the_same_after_anonymisation).
        postcode="ZZ9 9ZZ",
        received_at=at(start - dt.timedelta(days=40)),
        decline_reason="duplicate",
        decline_note="Sent twice",
    )
    factories.ContactFactory(case=case, at=at(start + dt.timedelta(days=3)), notes="First chat", recorded_by=lw)
    factories.ContactFactory(case=case, at=at(last_contact), notes="Talked about the allotment", recorded_by=lw)
    ClientAlert.objects.create(client=client, kind="other", detail="Hard of hearing", raised_by=lw)
    WhatMatters.objects.create(case=case, what_matters="Seeing my grandchildren", updated_by=lw)
    plan = Plan.objects.create(case=case, version=1)
    PlanVersion.objects.create(
        plan=plan,
        number=1,
        saved_by=lw,
        goals=[
            {
                "goal": "Join a walking group",
                "status": "achieved",
                "progress": "Goes every week with her neighbour Jean",
                "actions": [{"what": "Call the group", "who": "Mabel", "by_when": "2024-03-01"}],
            }
        ],
    )
    group = factories.CommunityServiceFactory(provider__service=world.service)
    Connection.objects.create(case=case, service=group, status="attending", reason="", created_by=lw)
    swemwbs = Instrument.objects.get(code="swemwbs")
    for timepoint, score, day in (("baseline", "14.08", start), ("follow_up", "19.25", last_contact)):
        Assessment.objects.create(
            case=case,
            instrument=swemwbs,
            timepoint=timepoint,
            taken_on=day,
            answers={"optimistic": 3},
            score=score,
            recorded_by=lw,
        )
    SystemUse.objects.create(case=case, period="before", gp_appointments=6, recorded_by=lw)
    SystemUse.objects.create(case=case, period="after", gp_appointments=2, recorded_by=lw)
    concern = SafeguardingConcern.objects.create(case=case, raised_by=lw, detail="Bruising on Mabel's arm")
    SafeguardingDecision.objects.create(concern=concern, decision="other", note="Spoke to her son", by=world.supervisor)
    Reminder.objects.create(
        rule="no_contact",
        recipient=lw,
        service=world.service,
        object_kind="case",
        object_id=case.pk,
        due_on=start,
        title="No recent contact",
        subject=f"M.Q. {referral.reference}",
        detail="Last contact 20 days ago",
        link=reverse("clients:case", args=[case.pk]),
    )
    Notification.objects.create(
        user=world.supervisor,
        title="Safeguarding concern raised about M.Q.",
        link=reverse("clients:case_supervision", args=[case.pk]),
    )
    if open_case:
        factories.ActiveCaseFactory(client=client, link_worker=lw, start_date=start, window_end=last_contact)
    return client


def run(**kwargs: Any) -> privacy.RetentionResult:
    return privacy.retention_apply(today=TODAY, **kwargs)


def test_a_person_whose_last_contact_is_past_the_period_is_anonymised(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    case = client.cases.get()
    referral = Referral.objects.get(case=case)
    age_at_referral = client.age_on(referral.received_at.date())

    assert run() == privacy.RetentionResult(due=1, anonymised=1)

    client.refresh_from_db()
    assert client.anonymised_at is not None
    assert (client.given_name, client.family_name, client.preferred_name) == ("Anonymised", "person", "")
    assert client.date_of_birth == dt.date(1948, 1, 1)  # the year only
    assert (client.nhs_number, client.address, client.phone, client.email) == ("", "", "", "")
    assert client.postcode == "LS1"  # the district
    assert (client.lsoa_code, client.gender_identity) == ("", "")
    # Coded data reports count stays.
    assert (client.deprivation_decile, client.ethnic_category, client.sex) == (3, "A", "female")
    assert client.practice == world.practice
    case.refresh_from_db()
    assert (case.status, case.closure_reason, case.closing_summary) == (CaseStatus.CLOSED, "connected", "")
    assert set(Contact.objects.filter(case=case).values_list("notes", flat=True)) == {""}
    assert Contact.objects.filter(case=case).count() == 2
    assert WhatMatters.objects.get(case=case).what_matters == ""
    goals = PlanVersion.objects.get(plan__case=case).goals
    assert goals == [
        {
            "goal": "Goal 1",
            "status": "achieved",
            "progress": "",
            "actions": [{"what": "Action 1", "who": "", "by_when": "2024-03-01"}],
        }
    ]
    assert ClientAlert.objects.get(client=client).detail == ""
    assert SafeguardingConcern.objects.get(case=case).detail == privacy.REMOVED
    decision = SafeguardingDecision.objects.get(concern__case=case)
    assert (decision.decision, decision.note) == ("other", privacy.REMOVED)
    assert sorted(Assessment.objects.filter(case=case).values_list("score", flat=True)) == [
        Decimal("14.08"),
        Decimal("19.25"),
    ]
    referral.refresh_from_db()
    assert (referral.given_name, referral.family_name, referral.nhs_number, referral.phone) == (
        "Anonymised",
        "person",
        "",
        "",
    )
    assert (referral.hopes, referral.risk_information, referral.reason_other, referral.postcode) == ("", "", "", "LS1")
    assert referral.reasons == ["loneliness", "other"]
    assert referral.snomed_code == "871731000000106"
    # The age at referral, which the equity report bands, is unchanged; nothing finer is left.
    received = referral.received_at.date()
    assert referral.date_of_birth == received - relativedelta(years=age_at_referral)
    declined = Referral.objects.get(case=None, status="declined")
    assert (declined.given_name, declined.decline_reason, declined.decline_note) == ("Anonymised", "duplicate", "")
    assert Reminder.objects.get(object_id=case.pk).subject == privacy.ANONYMISED_SUBJECT
    assert Notification.objects.get(user=world.supervisor).title == privacy.ANONYMISED_NOTIFICATION
    event = AuditEvent.objects.get(object_type="clients.client", object_id=str(client.pk), action=Action.UPDATE)
    assert event.actor is None
    assert event.summary == "Anonymised: the retention period (8 years after the last contact) has passed"


def test_a_person_a_day_short_of_the_period_is_kept(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO + dt.timedelta(days=1))
    assert run() == privacy.RetentionResult(due=0, anonymised=0)
    client.refresh_from_db()
    assert (client.anonymised_at, client.given_name) == (None, "Mabel")
    # Eight years to the day is not yet past: the day after is.
    assert privacy.retention_status(client).due_on == TODAY + dt.timedelta(days=2)


def test_a_person_with_an_open_case_is_kept(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=30), open_case=True)
    assert run().due == 0
    client.refresh_from_db()
    assert client.anonymised_at is None
    assert Contact.objects.filter(notes="Talked about the allotment").exists()


def test_a_person_with_a_referral_waiting_for_triage_is_kept(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=30))
    factories.NewReferralFactory(service=world.service, nhs_number=client.nhs_number)
    assert run().due == 0


def test_without_contacts_the_period_runs_from_the_case_closure(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    Contact.objects.filter(case__client=client).delete()
    case = client.cases.get()
    case.closed_on = EIGHT_YEARS_AGO + dt.timedelta(days=2)
    case.save()
    assert run().due == 0
    case.closed_on = EIGHT_YEARS_AGO - dt.timedelta(days=2)
    case.save()
    assert run().anonymised == 1


def test_other_people_are_untouched(world: World) -> None:
    person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    recent = person(world, last_contact=TODAY - dt.timedelta(days=10), name="Nora")
    run()
    recent.refresh_from_db()
    assert (recent.given_name, recent.nhs_number != "", recent.anonymised_at) == ("Nora", True, None)
    assert Contact.objects.filter(case__client=recent, notes="Talked about the allotment").exists()
    assert SafeguardingConcern.objects.get(case__client=recent).detail == "Bruising on Mabel's arm"
    assert Referral.objects.filter(given_name="Nora").count() == 2


def test_it_is_idempotent(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    assert run().anonymised == 1
    client.refresh_from_db()
    first = (client.anonymised_at, client.date_of_birth, client.postcode, client.version)
    assert run() == privacy.RetentionResult(due=0, anonymised=0)
    client.refresh_from_db()
    assert (client.anonymised_at, client.date_of_birth, client.postcode, client.version) == first
    assert AuditEvent.objects.filter(object_id=str(client.pk), action=Action.UPDATE).count() == 1
    # Called again directly for the same person, it does nothing either.
    assert privacy.anonymise_clients(client_ids=[client.pk], summary="again") == []


def test_it_works_in_batches(world: World) -> None:
    for i in range(5):
        person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1 + i), name=f"Batch{i}")
    assert run(batch_size=2) == privacy.RetentionResult(due=5, anonymised=5)
    assert not Client.objects.filter(anonymised_at=None).exists()
    assert AuditEvent.objects.filter(object_type="clients.client", action=Action.UPDATE).count() == 5


def _figures(world: World) -> list[Any]:
    scope = reports.Scope(services=(world.service,), start=TODAY - relativedelta(years=10), end=TODAY)
    return [(t.key, t.rows) for _, _, tables in reports.build(scope) for t in tables]


def test_reports_add_up_the_same_after_anonymisation(world: World) -> None:
    """Every table of every report section is unchanged: ages at referral, coded reasons and outcomes, measures,
    connections and GP appointments stay, and the deprivation decile an anonymised person's postcode gave is
    counted from their record. (A referral never accepted has no record to keep it on, so it would move to
    "Not known": these people's declined referrals come from a postcode outside the lookup.)"""
    PostcodeArea.objects.create(postcode="LS14AP", lsoa_code="E01011365", imd_decile=3)
    person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=200), name="Ada")
    person(world, last_contact=TODAY - dt.timedelta(days=20), name="Nora")
    before = _figures(world)
    figures = dict(before)
    assert figures["equity_deprivation"][0][:2] == ["Decile 3", 3]  # the three accepted referrals
    assert figures["decisions"][0][:2] == ["Accepted", 3]
    assert next(r for r in figures["wellbeing_change"] if r[0] == "SWEMWBS")[1] == 3
    assert figures["gp_appointments"][0][1] == 3

    assert run().anonymised == 2

    assert _figures(world) == before


def test_the_period_is_a_setting(world: World, settings) -> None:
    settings.LINKWORK_RETENTION_YEARS = 2
    client = person(world, last_contact=TODAY - relativedelta(years=2) - dt.timedelta(days=1))
    assert run() == privacy.RetentionResult(due=1, anonymised=1)
    event = AuditEvent.objects.get(object_id=str(client.pk), action=Action.UPDATE)
    assert "(2 years after the last contact)" in event.summary


@pytest.mark.parametrize("value", ["0", "101"])
def test_a_retention_period_out_of_range_is_refused(value: str) -> None:
    from tests.test_settings import _import_settings

    result = _import_settings(LINKWORK_RETENTION_YEARS=value)
    assert result.returncode != 0
    assert "LINKWORK_RETENTION_YEARS must be a whole number of years from 1 to 100" in result.stderr


def test_the_nightly_task_anonymises_when_the_time_comes(world: World) -> None:
    from linkwork.celery import app
    from outcomes import tasks

    assert app.conf.beat_schedule["apply-retention"]["task"] == "outcomes.tasks.apply_retention"
    client = person(world, last_contact=TODAY)
    with time_machine.travel(at(TODAY + relativedelta(years=8)), tick=False):
        assert tasks.apply_retention() == {"due": 0, "anonymised": 0}
    with time_machine.travel(at(TODAY + relativedelta(years=8) + dt.timedelta(days=1)), tick=False):
        assert tasks.apply_retention() == {"due": 1, "anonymised": 1}
    client.refresh_from_db()
    assert client.anonymised_at is not None


def test_the_command_counts_on_a_dry_run_and_changes_nothing(world: World) -> None:
    client = person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1))
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "Would anonymise 1 people, with 1 cases, 1 referrals and 2 contacts" in out.getvalue()
    client.refresh_from_db()
    assert client.anonymised_at is None
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "Anonymised 1 of 1 people due" in out.getvalue()
    client.refresh_from_db()
    assert client.anonymised_at is not None


def test_the_work_does_not_grow_with_the_number_of_people(world: World) -> None:
    def queries(n: int) -> int:
        for i in range(n):
            person(world, last_contact=EIGHT_YEARS_AGO - dt.timedelta(days=1 + i), name=f"P{n}x{i}")
        with CaptureQueriesContext(connection) as captured:
            assert run().anonymised == n
        return len(captured)

    # Who is due; SAVEPOINT; claim the batch (FOR UPDATE SKIP LOCKED); their referrals, cases and home visits;
    # one UPDATE each of referral, referral event, client, alert, case, contact, reassignment, what matters, plan
    # version, connection, connection event and supervision flag; the trigger's flag on, UPDATE safeguarding
    # concern and decision, flag off; UPDATE reminder and notification; one INSERT of audit events; RELEASE.
    assert queries(2) == queries(6) == 26


# --- Erasure on request ---------------------------------------------------------------------------------------
def erase_url(client: Client) -> str:
    return reverse("privacy:erase", args=[client.pk])


VALID = {"basis": "17_1_b", "reason": "Asked by letter on 3 March; consent was the basis for sharing", "confirm": "on"}


def test_a_manager_erases_a_persons_details_on_request(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10))
    login(client, world.manager)
    assert client.get(erase_url(person_)).status_code == 200

    response = client.post(erase_url(person_), VALID)

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:person", args=[person_.pk])
    person_.refresh_from_db()
    assert person_.anonymised_at is not None
    event = AuditEvent.objects.get(object_id=str(person_.pk), action=Action.UPDATE, actor=world.manager)
    assert event.summary == (
        "Anonymised: erased on request under UK GDPR Article 17(1)(b). "
        "Reason: Asked by letter on 3 March; consent was the basis for sharing"
    )
    # The record page no longer shows who they were.
    page = client.get(reverse("clients:client", args=[person_.pk])).content.decode()
    for gone in ("Mabel", "Quince", "12 Orchard Row", "LS1 4AP", "07700 900123", "mabel@example.com"):
        assert gone not in page
    assert "This record was anonymised on" in page
    assert "1948 (year only)" in page
    assert "9 July 1948" not in page
    case_page = client.get(reverse("clients:case", args=[person_.cases.get().pk])).content.decode()
    assert "Talked about the allotment" not in case_page
    assert "Mabel" not in case_page


def test_erasure_needs_a_reason_and_a_confirmation(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10))
    login(client, world.manager)
    response = client.post(erase_url(person_), {"basis": "17_1_b", "reason": "   "})
    assert response.status_code == 400
    assert b"Enter the reason for erasure" in response.content
    assert b"Confirm that you have checked the request" in response.content
    response = client.post(erase_url(person_), {**VALID, "basis": ""})
    assert b"Select the lawful basis for erasure" in response.content
    person_.refresh_from_db()
    assert person_.anonymised_at is None
    assert not AuditEvent.objects.filter(object_id=str(person_.pk), action=Action.UPDATE).exists()


def test_erasure_is_refused_while_a_case_is_open(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10), open_case=True)
    login(client, world.manager)
    page = client.get(erase_url(person_))
    assert page.status_code == 200
    assert privacy.OPEN_CASE_REFUSAL.encode() in page.content
    assert b"Erase the person" not in page.content
    response = client.post(erase_url(person_), VALID)
    assert response.status_code == 400
    assert privacy.OPEN_CASE_REFUSAL.encode() in response.content
    person_.refresh_from_db()
    assert (person_.anonymised_at, person_.given_name) == (None, "Mabel")
    # The service refuses too, whatever the page did.
    with pytest.raises(ValidationError, match="open case"):
        privacy.client_erase(client=person_, by=world.manager, basis="17_1_b", reason="x")


def test_an_erased_record_cannot_be_erased_again(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10))
    login(client, world.manager)
    client.post(erase_url(person_), VALID)
    response = client.post(erase_url(person_), VALID)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(object_id=str(person_.pk), action=Action.UPDATE).count() == 1


def test_the_person_page_explains_when_erasure_is_not_possible(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10), open_case=True)
    login(client, world.manager)
    page = client.get(reverse("privacy:person", args=[person_.pk])).content
    assert privacy.OPEN_CASE_REFUSAL.encode() in page
    assert erase_url(person_).encode() not in page


def test_erasure_is_a_service_manager_decision(client, world: World) -> None:
    person_ = person(world, last_contact=TODAY - dt.timedelta(days=10))
    login(client, world.link_worker)
    assert client.post(erase_url(person_), VALID).status_code == 403
    person_.refresh_from_db()
    assert person_.anonymised_at is None


def test_safeguarding_records_stay_append_only_outside_anonymisation(world: World) -> None:
    from django.db import DatabaseError, transaction

    client = person(world, last_contact=TODAY - dt.timedelta(days=10))
    concerns = SafeguardingConcern.objects.filter(case__client=client)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        concerns.update(detail="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        privacy._allow_safeguarding_redaction(True)
        concerns.update(raised_by=world.manager)  # only the text may change, even while anonymising
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        privacy._allow_safeguarding_redaction(True)
        SafeguardingDecision.objects.filter(concern__case__client=client).delete()
    assert concerns.get().detail == "Bruising on Mabel's arm"
