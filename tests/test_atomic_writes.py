"""A request that writes is saved whole or not at all: a change is never kept without its audit row.

The failures are real PostgreSQL errors: a trigger that refuses audit rows stands for the audit store failing
(a full disk, a lost connection) at the moment after the change itself was written."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from clients.models import ClientAlert, Contact
from linkwork.audit.models import AuditEvent
from linkwork.transactions import AtomicWritesMiddleware
from tests import factories
from tests.conftest import World, contact_data, login

# These tests commit, as production does: the failure must undo what the request had already written, which a
# test's own enclosing transaction would hide.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def refuse_audit() -> Iterator[Callable[[], None]]:
    """Call it to make every INSERT into the audit table fail, as a write to a full disk does, until the test
    ends (after signing in, which is audited too)."""
    installed = False

    def install() -> None:
        nonlocal installed
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the audit store is unavailable'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
            )
        installed = True

    yield install
    if installed:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_audit ON audit_auditevent")
            cursor.execute("DROP FUNCTION test_refuse_audit()")


@pytest.fixture
def open_case(world: World):
    return factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)


def _signed_in(user) -> HttpClient:
    # The error page, not the exception: what the person sees, and what gunicorn's worker answers.
    return login(HttpClient(raise_request_exception=False), user)


def test_a_contact_whose_audit_row_cannot_be_written_is_not_saved(world: World, open_case, refuse_audit) -> None:
    client = _signed_in(world.link_worker)
    refuse_audit()
    response = client.post(reverse("clients:contact_new", args=[open_case.pk]), contact_data())
    assert response.status_code == 500
    # Nothing kept: no contact without its audit row, and so nothing to log twice when they try again.
    assert not Contact.objects.filter(case=open_case).exists()


def test_an_alert_whose_audit_row_cannot_be_written_is_not_raised(world: World, open_case, refuse_audit) -> None:
    client = _signed_in(world.link_worker)
    refuse_audit()
    response = client.post(
        reverse("clients:alert_add", args=[open_case.client.pk]),
        {"kind": "lone_worker", "detail": "Dog at the property"},
    )
    assert response.status_code == 500
    assert not ClientAlert.objects.filter(client=open_case.client).exists()


def test_when_the_audit_store_is_back_the_same_contact_is_saved_once_with_its_audit_row(
    world: World, open_case, refuse_audit
) -> None:
    client = _signed_in(world.link_worker)
    refuse_audit()
    url = reverse("clients:contact_new", args=[open_case.pk])
    assert client.post(url, contact_data()).status_code == 500
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER test_refuse_audit")
    assert client.post(url, contact_data()).status_code == 302
    (contact,) = Contact.objects.filter(case=open_case)
    assert AuditEvent.objects.filter(object_type="clients.contact", object_id=str(contact.pk)).count() == 1


def test_a_write_request_runs_in_one_transaction_and_a_read_in_none() -> None:
    seen: dict[str, bool] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen[request.method] = connection.in_atomic_block
        return HttpResponse()

    middleware = AtomicWritesMiddleware(view)
    factory = RequestFactory()
    for make in (factory.get, factory.head, factory.options, factory.post, factory.put, factory.patch, factory.delete):
        middleware(make("/"))
    assert seen == {
        "GET": False,
        "HEAD": False,
        "OPTIONS": False,
        "POST": True,
        "PUT": True,
        "PATCH": True,
        "DELETE": True,
    }


def test_an_error_response_rolls_back_what_the_request_wrote(world: World) -> None:
    """Django hands a middleware the 500 page, not the exception: the page is enough to roll back."""

    def view(request: HttpRequest) -> HttpResponse:
        AuditEvent.objects.create(action="view", summary="written before the failure")
        return HttpResponseServerError()

    AtomicWritesMiddleware(view)(RequestFactory().post("/"))
    assert not AuditEvent.objects.filter(summary="written before the failure").exists()


def test_a_successful_write_request_commits(world: World) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        AuditEvent.objects.create(action="view", summary="written by a request that succeeded")
        return HttpResponse(status=302)

    AtomicWritesMiddleware(view)(RequestFactory().post("/"))
    assert AuditEvent.objects.filter(summary="written by a request that succeeded").exists()
