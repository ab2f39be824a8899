"""Which audit events are about a person: the record itself and everything that belongs to them (cases,
contacts, plans, referrals, measures, home visits, safeguarding ...). Lives in outcomes because it reads
clients, referrals and outcomes; the audit trail itself (``linkwork.audit``) knows none of them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Model, QuerySet, Value
from django.db.models.functions import Cast

from clients import models as clients
from clients.selectors import client_for_user
from linkwork.audit.selectors import manager_service_ids
from outcomes import models as outcomes
from referrals import models as referrals


def client_for_audit(user: Any, client_id: UUID) -> clients.Client:
    """The client, for a service manager of the client's service. 404 for another service's client (as
    ``client_for_user``); 403 for someone who works in the service without managing it."""
    client = client_for_user(user, client_id)
    if client.service_id not in manager_service_ids(user):
        raise PermissionDenied
    return client


def _belonging_to(client: clients.Client) -> list[QuerySet[Any]]:
    """For each kind of object audit events name, the ones that are this person's."""
    by_case = {"case__client": client}
    return [
        clients.Client.objects.filter(pk=client.pk),
        clients.ClientAlert.objects.filter(client=client),
        clients.Case.objects.filter(client=client),
        clients.Contact.objects.filter(**by_case),
        clients.HomeVisit.objects.filter(**by_case),
        clients.Connection.objects.filter(**by_case),
        clients.ConnectionEvent.objects.filter(connection__case__client=client),
        clients.CaseAssignment.objects.filter(**by_case),
        clients.WhatMatters.objects.filter(**by_case),
        clients.Plan.objects.filter(**by_case),
        clients.PlanVersion.objects.filter(plan__case__client=client),
        clients.CaseSupervisionFlag.objects.filter(**by_case),
        clients.SafeguardingConcern.objects.filter(**by_case),
        clients.SafeguardingDecision.objects.filter(concern__case__client=client),
        referrals.Referral.objects.filter(**by_case),
        referrals.ReferralEvent.objects.filter(referral__case__client=client),
        outcomes.Assessment.objects.filter(**by_case),
        outcomes.SystemUse.objects.filter(**by_case),
        # A session that discussed one of their cases: its page shows them.
        outcomes.SupervisionSession.objects.filter(cases_discussed__client=client),
    ]


def _pairs(objects: QuerySet[Any]) -> QuerySet[Any]:
    model: type[Model] = objects.model
    return (
        objects.order_by()
        .annotate(
            audit_type=Value(model._meta.label_lower, output_field=CharField()),
            audit_id=Cast("pk", output_field=CharField()),
        )
        .values_list("audit_type", "audit_id")
    )


def person_audit_targets(client: clients.Client) -> dict[str, list[str]]:
    """Object type -> ids (as ``audit_record`` writes them: model label and primary key) of everything that is
    this person's. One query (a UNION), however many cases and contacts they have.

    Referrals count once they are linked to one of the person's cases; before triage a referral belongs to
    no client record, and its events are found from the referral itself."""
    first, *rest = (_pairs(objects) for objects in _belonging_to(client))
    targets: dict[str, list[str]] = {}
    for object_type, object_id in first.union(*rest):
        targets.setdefault(object_type, []).append(object_id)
    return targets
