"""Subject access: a service manager downloads everything held about one person in one action (a zip with the
PDF to send them and the same as JSON); every other role is refused, and the download is audited."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import (
    CaseAssignment,
    CaseSupervisionFlag,
    Client,
    ClientAlert,
    Connection,
    ConnectionEvent,
    HomeVisit,
    Plan,
    PlanVersion,
    SafeguardingConcern,
    SafeguardingDecision,
    WhatMatters,
)
from linkwork.accounts.models import Role
from linkwork.audit.models import Action, AuditEvent
from linkwork.audit.services import audit_record
from linkwork.notifications.models import Notification, Reminder
from outcomes.models import Assessment, Instrument, SupervisionSession, SystemUse
from referrals.models import Referral, ReferralEvent
from tests import factories
from tests.conftest import World, login

NHS = "9990000026"


@dataclass
class Record:
    client: Client
    case: Any
    referral: Referral
    declined: Referral


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


@pytest.fixture
def record(world: World) -> Record:
    """One person with something in every model that holds data about them."""
    lw, manager, supervisor = world.link_worker, world.manager, world.supervisor
    client = factories.ClientFactory(
        service=world.service,
        given_name="Mabel",
        family_name="Quince",
        preferred_name="Mae",
        date_of_birth=dt.date(1948, 3, 9),
        nhs_number=NHS,
        address="12 Orchard Row",
        postcode="LS1 4AP",
        phone="07700 900123",
        email="mabel@example.com",
        practice=world.practice,
        ethnic_category="A",
        sex="female",
        deprivation_decile=3,
        accessibility_needs="Large print",
    )
    ClientAlert.objects.create(client=client, kind="lone_worker", detail="Dog in the house", raised_by=lw)
    case = factories.ClosedCaseFactory(
        client=client,
        link_worker=lw,
        start_date=dt.date(2024, 2, 1),
        window_end=dt.date(2024, 5, 2),
        closed_on=dt.date(2024, 5, 1),
        closing_summary="Joined the choir and feels less alone",
    )
    referral = factories.AcceptedReferralFactory(
        service=world.service,
        case=case,
        status="closed",
        given_name="Mabel",
        family_name="Quince",
        nhs_number=NHS,
        source_organisation=world.practice,
        received_at=at(2024, 1, 20),
        hopes="To feel less alone",
        risk_information="Lives alone with a large dog",
    )
    ReferralEvent.objects.create(referral=referral, kind="accepted", to_status="accepted", by=manager, note="Ok")
    declined = factories.DeclinedReferralFactory(
        service=world.service,
        given_name="Mabel",
        family_name="Quince",
        nhs_number=NHS,
        received_at=at(2025, 3, 1),
        decline_note="Already supported by the service",
    )
    factories.DeclinedReferralFactory(service=world.service, given_name="Someone", family_name="Else")
    contact = factories.ContactFactory(
        case=case, at=at(2024, 2, 8), notes="Talked about the allotment", next_step="Find a choir", recorded_by=lw
    )
    factories.ContactFactory(case=case, at=at(2024, 2, 5), attempted_only=True, notes="No answer", recorded_by=lw)
    CaseAssignment.objects.create(case=case, to_worker=lw, reason="Covering leave", by=manager)
    WhatMatters.objects.create(case=case, what_matters="Seeing my grandchildren", worries="Falling", updated_by=lw)
    plan = Plan.objects.create(case=case, version=1)
    PlanVersion.objects.create(
        plan=plan,
        number=1,
        saved_by=lw,
        goals=[
            {
                "goal": "Join a walking group",
                "status": "in_progress",
                "progress": "Went twice",
                "actions": [{"what": "Call the group", "who": "Mabel", "by_when": "2024-03-01"}],
            }
        ],
    )
    HomeVisit.objects.create(case=case, link_worker=lw, planned_start=at(2024, 2, 8), contact=contact)
    group = factories.CommunityServiceFactory(provider__service=world.service, name="Riverside Choir")
    connection = Connection.objects.create(case=case, service=group, status="attending", created_by=lw)
    ConnectionEvent.objects.create(connection=connection, to_status="attending", note="Loves singing", by=lw)
    Assessment.objects.create(
        case=case,
        instrument=Instrument.objects.get(code="swemwbs"),
        timepoint="baseline",
        taken_on=dt.date(2024, 2, 8),
        answers={"optimistic": 3},
        score="19.98",
        recorded_by=lw,
    )
    SystemUse.objects.create(case=case, period="before", gp_appointments=6, recorded_by=lw)
    CaseSupervisionFlag.objects.create(case=case, question="Is she safe at home?", raised_by=lw)
    concern = SafeguardingConcern.objects.create(case=case, raised_by=lw, detail="Bruising seen on her arm")
    SafeguardingDecision.objects.create(
        concern=concern, decision="no_further_action", note="Fell in garden", by=supervisor
    )
    session = SupervisionSession.objects.create(
        service=world.service,
        link_worker=lw,
        supervisor=supervisor,
        held_on=dt.date(2024, 3, 1),
        wellbeing="well",
        concerns="Talked through Mabel's falls",
    )
    session.cases_discussed.add(case)
    Reminder.objects.create(
        rule="no_contact",
        recipient=lw,
        service=world.service,
        object_kind="case",
        object_id=case.pk,
        due_on=dt.date(2024, 3, 1),
        title="No recent contact",
        subject=f"M.Q. {referral.reference}",
        link=reverse("clients:case", args=[case.pk]),
    )
    Notification.objects.create(
        user=supervisor,
        title="Safeguarding concern raised about M.Q.: your decision is needed",
        link=reverse("clients:case_supervision", args=[case.pk]),
    )
    Notification.objects.create(user=supervisor, title="About someone else", link="/caseload/cases/x/")
    audit_record(actor=lw, action=Action.VIEW, obj=client, summary="Mabel Quince")
    audit_record(actor=supervisor, action=Action.VIEW, obj=case, summary="Case of Mabel Quince")
    # Someone else's record, which must not leak into Mabel's export.
    other_case = factories.ClosedCaseFactory(client__service=world.service, link_worker=lw)
    factories.ContactFactory(case=other_case, notes="Another person's private note", recorded_by=lw)
    return Record(client=client, case=case, referral=referral, declined=declined)


def download(client, record: Record) -> tuple[dict[str, Any], bytes]:
    response = client.post(reverse("privacy:export", args=[record.client.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="subject-access-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["subject-access.json", "subject-access.pdf"]
        return json.loads(archive.read("subject-access.json")), archive.read("subject-access.pdf")


def records(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(s for s in document["sections"] if s["key"] == key)["records"]


def test_it_downloads_everything_held_about_the_person_as_json_and_pdf_in_one_zip(client, world: World, record) -> None:
    login(client, world.manager)
    document, pdf = download(client, record)

    assert pdf.startswith(b"%PDF")
    assert document["format"] == "linkwork-subject-access"
    assert document["person_id"] == str(record.client.pk)
    person = records(document, "person")[0]
    assert person["given_name"] == "Mabel"
    assert person["family_name"] == "Quince"
    assert person["date_of_birth"] == "1948-03-09"
    assert person["nhs_number"] == NHS
    assert person["address"] == "12 Orchard Row"
    assert person["phone"] == "07700 900123"
    assert person["ethnic_category"] == "White: British"
    assert person["sex"] == "Female"
    assert person["practice"] == "Riverside Surgery"
    assert person["consent_to_contact"] is True
    assert records(document, "alerts")[0]["detail"] == "Dog in the house"
    case = records(document, "cases")[0]
    assert case["status"] == "Closed"
    assert case["closed_on"] == "2024-05-01"
    assert case["closing_summary"] == "Joined the choir and feels less alone"
    assert records(document, "case_reassignments")[0]["reason"] == "Covering leave"
    contacts = records(document, "contacts")
    assert [c["notes"] for c in contacts] == ["No answer", "Talked about the allotment"]
    assert contacts[0]["attempted_only"] is True
    assert contacts[1]["at"].startswith("2024-02-08T10:00:00")
    assert records(document, "what_matters")[0]["what_matters"] == "Seeing my grandchildren"
    goals = records(document, "plan_versions")[0]["goals"]
    assert goals[0]["goal"] == "Join a walking group"
    assert goals[0]["actions"][0]["what"] == "Call the group"
    assert records(document, "home_visits")[0]["link_worker"] == "Amira Khan"
    referrals = {r["reference"]: r for r in records(document, "referrals")}
    assert set(referrals) == {record.referral.reference, record.declined.reference}
    assert referrals[record.referral.reference]["hopes"] == "To feel less alone"
    assert referrals[record.referral.reference]["reason_labels"] == ["Loneliness or isolation"]
    assert referrals[record.declined.reference]["decline_reason"] == "Not eligible for this service"
    assert referrals[record.declined.reference]["decline_note"] == "Already supported by the service"
    assert records(document, "referral_history")[0]["kind"] == "Accepted and assigned"
    assessment = records(document, "assessments")[0]
    assert (assessment["score"], assessment["answers"], assessment["timepoint"]) == (
        "19.98",
        {"optimistic": 3},
        "Baseline",
    )
    assert records(document, "system_use")[0]["gp_appointments"] == 6
    assert records(document, "connections")[0]["service"] == "Riverside Choir"
    assert records(document, "connection_history")[0]["note"] == "Loves singing"
    assert records(document, "supervision_flags")[0]["question"] == "Is she safe at home?"
    assert records(document, "supervision_sessions")[0]["concerns"] == "Talked through Mabel's falls"
    assert records(document, "safeguarding_concerns")[0]["detail"] == "Bruising seen on her arm"
    assert records(document, "safeguarding_decisions")[0]["note"] == "Fell in garden"
    assert [r["subject"] for r in records(document, "reminders")] == [f"M.Q. {record.referral.reference}"]
    assert [n["title"] for n in records(document, "notifications")] == [
        "Safeguarding concern raised about M.Q.: your decision is needed"
    ]
    access = [(e["actor_label"], e["summary"]) for e in records(document, "access_log")]
    assert ("lw@example.nhs.uk", "Mabel Quince") in access
    assert ("gp@example.nhs.uk", "Case of Mabel Quince") in access
    # Nothing about anyone else.
    text = json.dumps(document)
    assert "Another person's private note" not in text
    assert "Someone" not in text
    assert "About someone else" not in text


def test_every_section_names_its_fields(client, world: World, record) -> None:
    login(client, world.manager)
    document, _ = download(client, record)
    person = next(s for s in document["sections"] if s["key"] == "person")
    labels = {f["key"]: f["label"] for f in person["fields"]}
    assert labels["nhs_number"] == "NHS number"
    assert labels["date_of_birth"] == "Date of birth"
    for section in document["sections"]:
        assert section["title"]
        keys = [f["key"] for f in section["fields"]]
        assert all(list(r) == keys for r in section["records"])  # every record has the same keys, in order


def test_the_download_is_audited(client, world: World, record) -> None:
    login(client, world.manager)
    download(client, record)
    event = AuditEvent.objects.get(action=Action.EXPORT, object_id=str(record.client.pk))
    assert event.actor == world.manager
    assert event.object_type == "clients.client"
    assert "Subject access" in event.summary


def test_the_page_offers_the_download_and_is_audited(client, world: World, record) -> None:
    login(client, world.manager)
    response = client.get(reverse("privacy:person", args=[record.client.pk]))
    assert response.status_code == 200
    assert b"Download subject access export" in response.content
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(record.client.pk), actor=world.manager).exists()


def test_the_record_links_to_it_for_managers_only(client, world: World, record) -> None:
    url = reverse("privacy:person", args=[record.client.pk]).encode()
    login(client, world.manager)
    assert url in client.get(reverse("clients:client", args=[record.client.pk])).content
    login(client, world.link_worker)
    assert url not in client.get(reverse("clients:client", args=[record.client.pk])).content


@pytest.mark.parametrize("persona", ["link_worker", "supervisor", "referrer", "commissioner", "admin", "nobody"])
@pytest.mark.parametrize("name", ["person", "export", "erase"])
def test_only_service_managers_may_use_it(client, world: World, record, persona: str, name: str) -> None:
    login(client, getattr(world, persona))
    url = reverse(f"privacy:{name}", args=[record.client.pk])
    response = client.post(url) if name == "export" else client.get(url)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("name", ["person", "export", "erase"])
def test_another_services_manager_gets_not_found(client, world: World, record, name: str) -> None:
    outsider = factories.UserFactory(email="other.manager@example.nhs.uk")
    factories.MembershipFactory(user=outsider, organisation=world.other_service, role=Role.SERVICE_MANAGER)
    login(client, outsider)
    url = reverse(f"privacy:{name}", args=[record.client.pk])
    response = client.post(url) if name == "export" else client.get(url)
    assert response.status_code == 404


def test_a_manager_who_is_only_a_link_worker_in_the_persons_service_is_refused(client, world: World, record) -> None:
    both = factories.UserFactory(email="two.hats@example.nhs.uk")
    factories.MembershipFactory(user=both, organisation=world.other_service, role=Role.SERVICE_MANAGER)
    factories.MembershipFactory(user=both, organisation=world.service, role=Role.LINK_WORKER)
    login(client, both)
    assert client.post(reverse("privacy:export", args=[record.client.pk])).status_code == 403


@pytest.mark.parametrize("name", ["person", "export", "erase"])
def test_anonymous_people_are_sent_to_sign_in(client, record, name: str) -> None:
    url = reverse(f"privacy:{name}", args=[record.client.pk])
    response = client.post(url) if name == "export" else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_export_is_a_post(client, world: World, record) -> None:
    login(client, world.manager)
    assert client.get(reverse("privacy:export", args=[record.client.pk])).status_code == 405


def test_after_erasure_the_export_shows_what_remains(client, world: World, record) -> None:
    from outcomes import privacy

    privacy.client_erase(client=record.client, by=world.manager, basis="17_1_a", reason="Asked in person")
    login(client, world.manager)
    document, pdf = download(client, record)
    assert pdf.startswith(b"%PDF")
    person = records(document, "person")[0]
    assert (person["given_name"], person["nhs_number"], person["date_of_birth"]) == ("Anonymised", "", "1948-01-01")
    assert person["anonymised_at"]
    assert records(document, "contacts")[1]["notes"] == ""
    assert [r["reference"] for r in records(document, "referrals")] == [record.referral.reference]
    assert "Talked about the allotment" not in json.dumps(document)
