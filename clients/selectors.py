"""Reads of clients and cases, always scoped to the requesting user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clients.models import Case, CaseStatus, Client
from linkwork.accounts.access import SERVICE_ROLES, access_for
from linkwork.accounts.models import Role

OPEN_STATUSES = [CaseStatus.ACTIVE, CaseStatus.PAUSED]


def _with_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.annotate(
        contact_count=Count("contacts", filter=Q(contacts__attempted_only=False)),
        last_contact_at=Max("contacts__at", filter=Q(contacts__attempted_only=False)),
    )


def caseload_for(*, user: Any) -> QuerySet[Case]:
    """The link worker's own open cases, ending soonest first, with their counted contacts."""
    return _with_counts(
        Case.objects.filter(link_worker=user, status__in=OPEN_STATUSES, service__in=_service_ids(user))
        .select_related("client")
        .order_by("window_end", "client__family_name")
    )


def _service_ids(user: Any) -> set[UUID]:
    return access_for(user).service_ids(*SERVICE_ROLES)


def client_for_user(user: Any, client_id: UUID, *, write: bool = False) -> Client:
    """The client if the user works in the client's service (404 otherwise). Writes need a link worker or
    service manager role in that service (403 otherwise)."""
    access = access_for(user)
    client = Client.objects.filter(pk=client_id, service__in=access.service_ids(*SERVICE_ROLES)).first()
    if client is None:
        raise Http404
    if write and client.service_id not in access.service_ids(Role.LINK_WORKER, Role.SERVICE_MANAGER):
        raise PermissionDenied
    return client


def case_for_user(user: Any, case_id: UUID, *, write: bool = False) -> Case:
    """The case if the user works in its service (404 otherwise); writes as for ``client_for_user``."""
    access = access_for(user)
    case = (
        Case.objects.select_related("client", "link_worker")
        .filter(pk=case_id, service__in=access.service_ids(*SERVICE_ROLES))
        .first()
    )
    if case is None:
        raise Http404
    if write and case.service_id not in access.service_ids(Role.LINK_WORKER, Role.SERVICE_MANAGER):
        raise PermissionDenied
    return case


def no_contact_cutoff(days: int = 14) -> Any:
    return timezone.now() - timedelta(days=days)
