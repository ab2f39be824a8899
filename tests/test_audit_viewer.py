"""The audit trail for service managers: who has looked at a person's record, what each user did, and
downloads of both. Every look at the trail is itself audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Case, Client
from linkwork.accounts.access import forget_kept_access
from linkwork.accounts.models import Role, User
from linkwork.audit.models import Action, AuditEvent
from linkwork.audit.services import audit_record
from tests import factories
from tests.conftest import World, login

LOCAL = timezone.get_fixed_timezone(0)


@pytest.fixture
def person(world: World) -> Client:
    """Nora, with an accepted referral and an active case held by Amira (the link worker)."""
    referral = factories.AcceptedReferralFactory(
        service=world.service,
        given_name="Nora",
        family_name="Quinn",
        case__link_worker=world.link_worker,
    )
    return referral.case.client


def other_manager(world: World) -> User:
    manager = factories.UserFactory(email="hillside-manager@example.nhs.uk", full_name="Hari Hill")
    factories.MembershipFactory(user=manager, organisation=world.other_service, role=Role.SERVICE_MANAGER)
    return manager


def person_url(client: Client) -> str:
    return reverse("person_audit:events", args=[client.pk])


def csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


# --- Who has looked at this record ----------------------------------------------------------------------------
def test_manager_sees_everyone_who_looked_at_the_person_and_what_belongs_to_them(
    client: HttpClient, world: World, person: Client
) -> None:
    case = person.cases.get()
    referral = case.referrals.get()
    someone_else = factories.ActiveCaseFactory(client__service=world.service, client__given_name="Zed").client
    worker = login(HttpClient(), world.link_worker)
    worker.get(reverse("clients:client", args=[person.pk]), REMOTE_ADDR="10.0.0.7")
    worker.get(reverse("clients:case", args=[case.pk]), REMOTE_ADDR="10.0.0.7")
    worker.get(reverse("clients:plan_history", args=[case.pk]), REMOTE_ADDR="10.0.0.7")
    login(HttpClient(), world.colleague).get(reverse("referrals:detail", args=[referral.pk]), REMOTE_ADDR="10.0.0.9")
    worker.get(reverse("clients:client", args=[someone_else.pk]), REMOTE_ADDR="10.0.0.7")

    login(client, world.manager)
    response = client.get(person_url(person), REMOTE_ADDR="10.9.9.9")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Who has looked at the record of Nora Quinn" in page
    rows = page.split('<tbody class="nhsuk-table__body">')[1]
    # Newest first: the colleague's look at the referral, then the plan history, the case and the record.
    assert rows.index(referral.reference) < rows.index("Plan history") < rows.index("Case viewed")
    assert "Tom Evans" in rows and "colleague@example.nhs.uk" in rows and "10.0.0.9" in rows
    assert "Amira Khan" in rows and "10.0.0.7" in rows
    assert f'href="{reverse("clients:case", args=[case.pk])}"' in rows
    assert f'href="{reverse("referrals:detail", args=[referral.pk])}"' in rows
    assert "Zed" not in rows  # another person's record is not theirs
    assert "Showing events 1 to 5 of 5" in page  # 4 looks by staff + the manager's own look just now


def test_looking_at_the_trail_is_itself_audited(client: HttpClient, world: World, person: Client) -> None:
    login(client, world.manager)
    client.get(person_url(person), {"action": "view", "apply": "Apply filters"}, REMOTE_ADDR="10.9.9.9")
    event = AuditEvent.objects.get(actor=world.manager, object_type="clients.client")
    assert event.action == Action.VIEW
    assert event.object_id == str(person.pk)
    assert event.ip_address == "10.9.9.9"
    assert event.summary == "Who has looked at this record (action view)"


def test_the_record_links_to_the_trail_for_managers_only(client: HttpClient, world: World, person: Client) -> None:
    link = f'href="{person_url(person)}"'
    login(client, world.manager)
    assert link in client.get(reverse("clients:client", args=[person.pk])).content.decode()
    login(client, world.link_worker)
    assert link not in client.get(reverse("clients:client", args=[person.pk])).content.decode()


def test_filters_by_date_range_and_action(client: HttpClient, world: World, person: Client) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(days=10)):
        audit_record(actor=world.link_worker, action=Action.VIEW, obj=person, summary="Old look")
    audit_record(actor=world.link_worker, action=Action.UPDATE, obj=person, summary="Recent change")
    audit_record(actor=world.link_worker, action=Action.VIEW, obj=person, summary="Recent look")
    login(client, world.manager)
    start = timezone.localdate() - dt.timedelta(days=3)

    recent = client.get(
        person_url(person), {"start_day": start.day, "start_month": start.month, "start_year": start.year}
    ).content.decode()
    assert "Recent change" in recent and "Recent look" in recent and "Old look" not in recent

    changes = client.get(person_url(person), {"action": "update"}).content.decode()
    assert "Recent change" in changes and "Recent look" not in changes and "Old look" not in changes


def test_an_end_before_the_start_is_refused_with_a_message(client: HttpClient, world: World, person: Client) -> None:
    login(client, world.manager)
    response = client.get(
        person_url(person),
        {"start_day": 10, "start_month": 3, "start_year": 2026, "end_day": 1, "end_month": 3, "end_year": 2026},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The end date must be the same as or after the start date" in page
    assert 'value="10"' in page  # what was typed is kept
    assert not AuditEvent.objects.filter(actor=world.manager, object_type="clients.client").exists()


def test_another_services_manager_gets_404(client: HttpClient, world: World, person: Client) -> None:
    login(client, other_manager(world))
    assert client.get(person_url(person)).status_code == 404
    assert client.get(reverse("person_audit:export", args=[person.pk])).status_code == 404


def test_a_manager_elsewhere_who_only_works_in_this_service_gets_403(
    client: HttpClient, world: World, person: Client
) -> None:
    manager = other_manager(world)
    factories.MembershipFactory(user=manager, organisation=world.service, role=Role.LINK_WORKER)
    login(client, manager)
    assert client.get(person_url(person)).status_code == 403


@pytest.mark.parametrize("persona", ["link_worker", "supervisor", "referrer", "commissioner", "admin", "nobody"])
def test_other_roles_get_403(client: HttpClient, world: World, person: Client, persona: str) -> None:
    login(client, getattr(world, persona))
    urls = [
        person_url(person),
        reverse("person_audit:export", args=[person.pk]),
        reverse("audit:users"),
        reverse("audit:user", args=[world.link_worker.pk]),
        reverse("audit:user_export", args=[world.link_worker.pk]),
    ]
    assert [client.get(url).status_code for url in urls] == [403] * len(urls)


def test_anonymous_people_are_sent_to_sign_in(client: HttpClient, world: World, person: Client) -> None:
    for url in [
        person_url(person),
        reverse("person_audit:export", args=[person.pk]),
        reverse("audit:users"),
        reverse("audit:user", args=[world.link_worker.pk]),
        reverse("audit:user_export", args=[world.link_worker.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def _trail(person: Client, world: World, *, cases: int, events: int) -> None:
    for _ in range(cases - 1):
        factories.ContactFactory(case=factories.ActiveCaseFactory(client=person, link_worker=world.link_worker))
    targets: list[Any] = [person, *Case.objects.filter(client=person)]
    for i in range(events):
        audit_record(actor=world.link_worker, action=Action.VIEW, obj=targets[i % len(targets)], summary=f"Look {i}")


def _queries(client: HttpClient, url: str, **params: Any) -> int:

    forget_kept_access()  # counted as a user's first request in a process
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_trail(client: HttpClient, world: World, person: Client) -> None:
    login(client, world.manager)
    _trail(person, world, cases=1, events=2)
    # session and user, memberships and linked services, the client with open alerts (2), the person's objects
    # (one UNION), the audit insert, count and page of events (with actors): the same at both sizes
    small = _queries(client, person_url(person))
    _trail(person, world, cases=4, events=120)
    large = _queries(client, person_url(person), page=2)
    assert large == small


def test_a_long_trail_is_shown_fifty_at_a_time(client: HttpClient, world: World, person: Client) -> None:
    _trail(person, world, cases=1, events=60)
    login(client, world.manager)
    first = client.get(person_url(person), {"action": "view"}).content.decode()
    assert "Showing events 1 to 50 of 61" in first  # 60 + the manager's own look
    assert 'class="nhsuk-pagination nhsuk-pagination--numbered"' in first
    assert 'href="?action=view&amp;page=2" class="nhsuk-pagination__next"' in first
    second = client.get(person_url(person), {"action": "view", "page": 2}).content.decode()
    assert "Showing events 51 to 62 of 62" in second
    assert 'aria-current="page">2</a>' in second.replace("\n", "").replace("  ", "")


# --- Downloads ------------------------------------------------------------------------------------------------
def test_the_person_download_is_formula_safe_and_audited(client: HttpClient, world: World, person: Client) -> None:
    AuditEvent.objects.create(
        actor=world.link_worker,
        actor_label='=HYPERLINK("http://evil.example")',
        action=Action.VIEW,
        object_type="clients.client",
        object_id=str(person.pk),
        summary="+SUM(1,2)",
        path="/caseload/clients/?q=@x",
        ip_address="10.0.0.7",
    )
    login(client, world.manager)
    response = client.get(reverse("person_audit:export", args=[person.pk]), REMOTE_ADDR="10.9.9.9")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="linkwork-audit-person-')
    header, *rows = csv_rows(response)
    assert header[:4] == ["When (UK time)", "Who", "Email at the time", "Action"]
    planted = next(r for r in rows if r[1] == "Amira Khan")
    assert planted[2] == '\'=HYPERLINK("http://evil.example")'
    assert planted[3:7] == ["Viewed", "Person's record", str(person.pk), "'+SUM(1,2)"]
    assert planted[7:] == ["/caseload/clients/?q=@x", "10.0.0.7"]
    assert len(rows) == 1  # the trail as it stood when asked for, without this download's own event

    export = AuditEvent.objects.get(action=Action.EXPORT)
    assert (export.actor, export.object_type, export.object_id) == (world.manager, "clients.client", str(person.pk))
    assert export.ip_address == "10.9.9.9"
    assert export.summary == "Audit trail of this record downloaded as CSV: 1 events, all events"


def test_the_person_download_keeps_the_filters(client: HttpClient, world: World, person: Client) -> None:
    audit_record(actor=world.link_worker, action=Action.VIEW, obj=person, summary="A look")
    audit_record(actor=world.link_worker, action=Action.UPDATE, obj=person, summary="A change")
    login(client, world.manager)
    _, *rows = csv_rows(client.get(reverse("person_audit:export", args=[person.pk]), {"action": "update"}))
    assert [r[6] for r in rows] == ["A change"]


def test_the_person_download_as_excel(client: HttpClient, world: World, person: Client) -> None:
    from openpyxl import load_workbook

    audit_record(actor=world.link_worker, action=Action.VIEW, obj=person, summary="=1+1")
    login(client, world.manager)
    response = client.get(reverse("person_audit:export", args=[person.pk]), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "When (UK time)"
    assert values[1][6] == "'=1+1"
    assert "XLSX" in AuditEvent.objects.get(action=Action.EXPORT).summary


# --- What each user did ---------------------------------------------------------------------------------------
def test_the_user_list_shows_only_people_in_the_managers_service(client: HttpClient, world: World) -> None:
    login(client, world.manager)
    page = client.get(reverse("audit:users")).content.decode()
    for name in ["Amira Khan", "Tom Evans", "Dr Helen O&#x27;Neill", "Grace Okafor"]:
        assert name in page
    for name in ["Olive Other", "Sally Brown", "Peter Lewis", "No Role"]:
        assert name not in page
    assert AuditEvent.objects.filter(actor=world.manager, object_type="audit.user_list").exists()


def test_the_manager_sees_everything_a_user_did(client: HttpClient, world: World, person: Client) -> None:
    worker = login(HttpClient(), world.link_worker)
    worker.get(reverse("clients:client", args=[person.pk]), REMOTE_ADDR="10.0.0.7")
    worker.get(reverse("clients:caseload"), REMOTE_ADDR="10.0.0.8")
    login(HttpClient(), world.colleague).get(reverse("clients:caseload"), REMOTE_ADDR="10.0.0.9")

    login(client, world.manager)
    response = client.get(reverse("audit:user", args=[world.link_worker.pk]))

    assert response.status_code == 200
    rows = response.content.decode().split('<tbody class="nhsuk-table__body">')[1]
    assert rows.index("Caseload of Amira Khan") < rows.index("Record viewed")  # newest first
    assert "10.0.0.7" in rows and "10.0.0.8" in rows
    assert "10.0.0.9" not in rows  # the colleague's events are theirs
    event = AuditEvent.objects.get(actor=world.manager, object_id=str(world.link_worker.pk))
    assert (event.action, event.object_type) == (Action.VIEW, "accounts.user")


def test_a_user_of_another_service_is_not_found(client: HttpClient, world: World) -> None:
    login(client, world.manager)
    for name in ["audit:user", "audit:user_export"]:
        assert client.get(reverse(name, args=[world.other_link_worker.pk])).status_code == 404
        assert client.get(reverse(name, args=[world.referrer.pk])).status_code == 404
    login(client, other_manager(world))
    assert client.get(reverse("audit:user", args=[world.link_worker.pk])).status_code == 404


def test_the_user_download_is_formula_safe_and_audited(client: HttpClient, world: World) -> None:
    audit_record(actor=world.link_worker, action=Action.EXPORT, object_type="outcomes.report", summary="-1 rows")
    login(client, world.manager)
    response = client.get(reverse("audit:user_export", args=[world.link_worker.pk]), {"action": "export"})
    header, *rows = csv_rows(response)
    assert len(rows) == 1
    assert rows[0][1:7] == ["Amira Khan", "lw@example.nhs.uk", "Downloaded", "Outcome report", "", "'-1 rows"]
    export = AuditEvent.objects.get(actor=world.manager, action=Action.EXPORT)
    assert (export.object_type, export.object_id) == ("accounts.user", str(world.link_worker.pk))
    assert export.summary == "Audit trail of Amira Khan downloaded as CSV: 1 events, action export"
