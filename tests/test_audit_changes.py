"""The audit trail says which fields of a person's record changed (never their values)."""

from __future__ import annotations

from django.urls import reverse

from linkwork.audit.models import Action, AuditEvent
from tests import factories
from tests.conftest import World, login


def test_a_record_change_is_audited_with_the_fields_that_changed(client, world: World) -> None:
    case = factories.ActiveCaseFactory(
        client__service=world.service, link_worker=world.link_worker, client__given_name="Nora"
    )
    person = case.client
    login(client, world.link_worker)
    data = {
        "version": str(person.version),
        "given_name": "Nora",
        "family_name": person.family_name,
        "preferred_name": "Nonie",
        "date_of_birth_day": str(person.date_of_birth.day),
        "date_of_birth_month": str(person.date_of_birth.month),
        "date_of_birth_year": str(person.date_of_birth.year),
        "nhs_number": person.nhs_number,
        "postcode": person.postcode,
        "share_with_gp": "summary",
        "consent_to_contact": "on",
    }
    response = client.post(reverse("clients:client_edit", args=[person.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=Action.UPDATE, object_id=str(person.pk))
    assert event.actor == world.link_worker
    assert event.summary.startswith("Record updated: ")
    assert "preferred name" in event.summary
    assert "share with gp" in event.summary.lower()
    assert "Nonie" not in event.summary  # names of fields, not what was typed
    assert event.ip_address == "127.0.0.1"
