from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from linkwork.audit.models import Action, AuditEvent
from tests.conftest import World, login


def test_viewing_a_caseload_is_audited_with_who_and_where(client, world: World) -> None:
    login(client, world.link_worker)
    client.get(reverse("clients:caseload"), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action=Action.VIEW)
    assert event.actor == world.link_worker
    assert event.actor_label == "lw@example.nhs.uk"
    assert event.ip_address == "10.1.2.3"
    assert event.path == "/caseload/"


def test_audit_events_cannot_be_changed_or_deleted(world: World) -> None:
    event = AuditEvent.objects.create(actor=world.link_worker, action=Action.VIEW, object_type="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == ""
