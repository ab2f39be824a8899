"""Reads of clients and cases, always scoped to the requesting user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clients.models import Case, CaseStatus, Client, ClientAlert, Contact, HomeVisit
from linkwork.accounts.access import SERVICE_ROLES, access_for
from linkwork.accounts.models import Role, User

OPEN_STATUSES = [CaseStatus.ACTIVE, CaseStatus.PAUSED]
WRITE_ROLES = (Role.LINK_WORKER, Role.SERVICE_MANAGER)
NO_CONTACT_DAYS = 14
ENDING_SOON_DAYS = 14

_open_alerts = ClientAlert.objects.filter(resolved_at=None)
open_alerts = Prefetch("client__alerts", queryset=_open_alerts, to_attr="open_alerts")
CASELOAD_FIELDS = ("status", "window_end", "start_date", "client__given_name", "client__family_name")


def _with_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    today = timezone.localdate()
    return cases.annotate(
        contact_count=Count("contacts", filter=Q(contacts__attempted_only=False), distinct=True),
        last_contact_at=Max("contacts__at", filter=Q(contacts__attempted_only=False)),
        next_follow_up=Min("contacts__follow_up_on", filter=Q(contacts__follow_up_on__gte=today)),
    )


def _service_ids(user: Any, *roles: str) -> set[UUID]:
    return access_for(user).service_ids(*(roles or SERVICE_ROLES))


@dataclass(frozen=True)
class CaseloadFilter:
    show: str = ""  # "", "overdue", "ending", "paused"
    sort: str = "window"  # "window", "last_contact", "name"


SORTS = {
    "window": ("window_end", "client__family_name"),
    "last_contact": ("last_contact_at", "client__family_name"),
    "name": ("client__family_name", "client__given_name"),
}


def caseload_for(*, user: Any, worker: Any = None, filters: CaseloadFilter | None = None) -> QuerySet[Case]:
    """Open cases of ``worker`` (default: the user) in the user's services, with contact counts, last
    contact, next follow-up and open alerts. A constant number of queries whatever the size."""
    filters = filters or CaseloadFilter()
    worker = worker or user
    now = timezone.now()
    today = timezone.localdate()
    cases = _with_counts(
        Case.objects.filter(link_worker=worker, status__in=OPEN_STATUSES, service__in=_service_ids(user))
        .select_related("client")
        # Only what a caseload line shows: a hundred whole cases and clients cost more to build than to fetch.
        .only(*CASELOAD_FIELDS)
        .prefetch_related(
            Prefetch("client__alerts", queryset=_open_alerts.only("client_id", "kind"), to_attr="open_alerts")
        )
    )
    if filters.show == "overdue":
        cutoff = now - timedelta(days=NO_CONTACT_DAYS)
        cases = cases.filter(status=CaseStatus.ACTIVE).filter(
            Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True, start_date__lt=cutoff.date())
        )
    elif filters.show == "ending":
        cases = cases.filter(window_end__lte=today + timedelta(days=ENDING_SOON_DAYS))
    elif filters.show == "paused":
        cases = cases.filter(status=CaseStatus.PAUSED)
    order = SORTS.get(filters.sort, SORTS["window"])
    from django.db.models import F

    first = F(order[0]).asc(nulls_first=True) if order[0] == "last_contact_at" else order[0]
    return cases.order_by(first, *order[1:])


def team_workers(*, user: Any) -> QuerySet[User]:
    """Link workers of the user's services (for managers and supervisors choosing a caseload to look at)."""
    return (
        User.objects.filter(
            memberships__role=Role.LINK_WORKER, memberships__organisation__in=_service_ids(user), is_active=True
        )
        .distinct()
        .order_by("full_name")
    )


def client_for_user(user: Any, client_id: UUID, *, write: bool = False) -> Client:
    """The client if the user works in the client's service (404 otherwise). Writes need a link worker or
    service manager role in that service (403 otherwise)."""
    access = access_for(user)
    client = (
        Client.objects.select_related("practice", "service")
        .prefetch_related(
            Prefetch("alerts", queryset=ClientAlert.objects.filter(resolved_at=None), to_attr="open_alerts")
        )
        .filter(pk=client_id, service__in=access.service_ids(*SERVICE_ROLES))
        .first()
    )
    if client is None:
        raise Http404
    if write and client.service_id not in access.service_ids(*WRITE_ROLES):
        raise PermissionDenied
    return client


def case_for_user(user: Any, case_id: UUID, *, write: bool = False) -> Case:
    """The case if the user works in its service (404 otherwise); writes as for ``client_for_user``.
    A link worker may open any case of their service (covering a colleague); every access is audited by
    the views."""
    access = access_for(user)
    case = (
        _with_counts(Case.objects.all())
        .select_related("client", "link_worker", "service")
        .prefetch_related(open_alerts)
        .filter(pk=case_id, service__in=access.service_ids(*SERVICE_ROLES))
        .first()
    )
    if case is None:
        raise Http404
    if write and case.service_id not in access.service_ids(*WRITE_ROLES):
        raise PermissionDenied
    return case


def visit_for_user(user: Any, visit_id: UUID) -> HomeVisit:
    """A home visit the user may check in to or out of: their own, in a service where they work."""
    visit = (
        HomeVisit.objects.select_related("case__client", "case__service")
        .filter(pk=visit_id, case__service__in=_service_ids(user, *WRITE_ROLES))
        .first()
    )
    if visit is None:
        raise Http404
    if visit.link_worker_id != user.pk:
        raise PermissionDenied
    return visit


def search_clients(*, user: Any, query: str, limit: int = 50) -> list[Client]:
    """Clients of the user's services by name, NHS number (with or without spaces) or referral reference."""
    query = " ".join(query.split())
    if len(query) < 2:
        return []
    digits = query.replace(" ", "")
    condition = Q(given_name__icontains=query) | Q(family_name__icontains=query) | Q(preferred_name__icontains=query)
    parts = query.split(" ")
    if len(parts) == 2:
        condition |= Q(given_name__iexact=parts[0], family_name__icontains=parts[1])
    if digits.isdigit():
        condition |= Q(nhs_number=digits)
    if query.upper().startswith("SP-"):
        condition |= Q(cases__referrals__reference__iexact=query)
    return list(
        Client.objects.filter(condition, service__in=_service_ids(user)).distinct().order_by("family_name")[:limit]
    )


@dataclass
class TimelinePoint:
    contact: Contact
    day: int  # days since the case started
    percent: float  # position across the window


def timeline(case: Case) -> tuple[list[Contact], list[TimelinePoint]]:
    """Contacts newest first, and their positions across the support window (for the timeline strip)."""
    contacts = list(case.contacts.select_related("recorded_by").order_by("-at"))
    span = max(1, (case.window_end - case.start_date).days)
    points = []
    for c in reversed(contacts):
        day = (timezone.localtime(c.at).date() - case.start_date).days
        points.append(TimelinePoint(c, day, max(0.0, min(100.0, 100 * day / span))))
    return contacts, points


def weeks_left(case: Case, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return max(0, (case.window_end - today).days // 7)
