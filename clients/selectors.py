"""Reads of clients and cases, always scoped to the requesting user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, JSONField, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from clients.models import Case, CaseStatus, Client, ClientAlert, ConnectionStatus, ContactMethod, HomeVisit
from linkwork import compiled
from linkwork.accounts.access import SERVICE_ROLES, access_for
from linkwork.accounts.models import Role, User

OPEN_STATUSES = [CaseStatus.ACTIVE, CaseStatus.PAUSED]
WRITE_ROLES = (Role.LINK_WORKER, Role.SERVICE_MANAGER)
NO_CONTACT_DAYS = 14
ENDING_SOON_DAYS = 14

_open_alerts = ClientAlert.objects.filter(resolved_at=None)
open_alerts = Prefetch("client__alerts", queryset=_open_alerts, to_attr="open_alerts")
# What caseload_for gives for each case.
CASELOAD_LINE = (
    "id",
    "status",
    "window_end",
    "client__given_name",
    "client__family_name",
    "contact_count",
    "last_contact_at",
    "next_follow_up",
    "alert_kinds",
)


def _with_counts(cases: QuerySet[Case], today: date | None = None) -> QuerySet[Case]:
    today = today or timezone.localdate()
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


def caseload_for(
    *, user: Any, worker: Any = None, filters: CaseloadFilter | None = None, today: date | None = None
) -> QuerySet[Case]:
    """Open cases of ``worker`` (default: the user) in the user's services, each as one dict of what a caseload
    line shows (``CASELOAD_LINE``): contact count, last contact, next follow-up and the kinds of the client's open
    alerts. One query whatever the size, and no model instances: building a hundred cases and clients, and
    prefetching their alerts, cost three times the query itself."""
    worker = worker or user
    return _caseload(worker.pk, tuple(_service_ids(user)), filters or CaseloadFilter(), today or timezone.localdate())


def _caseload(worker_id: UUID, service_ids: tuple[UUID, ...], filters: CaseloadFilter, today: date) -> QuerySet[Case]:
    now = timezone.now()
    cases = _with_counts(
        Case.objects.filter(link_worker=worker_id, status__in=OPEN_STATUSES, service__in=service_ids).annotate(
            alert_kinds=ArraySubquery(
                _open_alerts.filter(client=OuterRef("client_id")).order_by("-raised_at").values("kind")
            )
        ),
        today,
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
    first = F(order[0]).asc(nulls_first=True) if order[0] == "last_contact_at" else order[0]
    return cases.order_by(first, *order[1:]).values(*CASELOAD_LINE)


def caseload_lines(*, user: Any, worker: Any = None, filters: CaseloadFilter | None = None) -> list[dict[str, Any]]:
    """``caseload_for``'s dicts, with its SQL compiled once a process for each number of services, day and filter,
    and asked with the worker's and services' ids (``linkwork.compiled``): a link worker opens their caseload
    many times a day, and building and compiling the query took 1.6 ms against 2.6 ms to run it (make bench,
    scale 10). The "no contact for 14 days" filter counts from the current time, so it is built afresh each
    time."""
    filters = filters or CaseloadFilter()
    worker = worker or user
    service_ids = tuple(sorted(_service_ids(user)))
    if filters.show == "overdue" or not service_ids:
        return list(caseload_for(user=user, worker=worker, filters=filters))
    today = timezone.localdate()
    return compiled.values(
        ("clients.caseload", len(service_ids), today, filters),
        lambda worker_id, *services: _caseload(worker_id, services, filters, today),
        inputs=(worker.pk, *service_ids),
    )


def team_workers(*, user: Any) -> QuerySet[User]:
    """Link workers of the user's services (for managers and supervisors choosing a caseload to look at)."""
    return (
        User.objects.filter(
            memberships__role=Role.LINK_WORKER, memberships__organisation__in=_service_ids(user), is_active=True
        )
        .distinct()
        .order_by("full_name")
    )


def _client_with_open_alerts(client_id: UUID, service_ids: tuple[UUID, ...]) -> Client | None:
    """The client, with its practice, service and ``open_alerts``, if it is in one of these services. Both
    statements are compiled once a process and asked with this client's id (``linkwork.compiled``): every
    page about a person reads them, and Django took longer to build and compile them than PostgreSQL took to
    answer (make bench, scale 10: 1.4 ms against 0.8 ms for the client record's pair)."""
    found = compiled.instances(
        ("clients.client", len(service_ids)),
        lambda pk, *services: Client.objects.select_related("practice", "service").filter(pk=pk, service__in=services)[
            :1
        ],
        inputs=(client_id, *service_ids),
    )
    if not found:
        return None
    client = found[0]
    client.open_alerts = _open_alerts_of(client)
    return client


def _open_alerts_of(client: Client) -> list[ClientAlert]:
    alerts = compiled.instances(
        ("clients.open_alerts",), lambda pk: _open_alerts.filter(client_id=pk), inputs=(client.pk,)
    )
    for alert in alerts:
        alert.client = client
    return alerts


def cases_of_client(client: Client) -> list[Case]:
    """The client's episodes of support, newest first, with what the client record lists of each (status, start
    and link worker), by a statement compiled once a process and asked with this client's id
    (``linkwork.compiled``): built and compiled on every view of a record, it took longer than it ran (make
    bench, scale 10: 1.1-1.6 ms against 0.45 ms kept). Call it only for a client ``client_for_user`` gave."""
    cases = compiled.instances(
        ("clients.cases_of_client",),
        lambda pk: (
            Case.objects.filter(client_id=pk)
            .select_related("link_worker")
            .only("id", "client_id", "status", "start_date", "link_worker__full_name")
            .order_by("-start_date", "pk")
        ),
        inputs=(client.pk,),
    )
    for case in cases:
        case.client = client
    return cases


def _service_key(user: Any) -> tuple[UUID, ...]:
    return tuple(sorted(_service_ids(user)))


def client_for_user(user: Any, client_id: UUID, *, write: bool = False) -> Client:
    """The client if the user works in the client's service (404 otherwise). Writes need a link worker or
    service manager role in that service (403 otherwise)."""
    access = access_for(user)
    service_ids = _service_key(user)
    client = _client_with_open_alerts(client_id, service_ids) if service_ids else None
    if client is None:
        raise Http404
    if write and client.service_id not in access.service_ids(*WRITE_ROLES):
        raise PermissionDenied
    return client


def case_for_user(
    user: Any,
    case_id: UUID,
    *,
    write: bool = False,
    cases: QuerySet[Case] | None = None,
    kept_as: str | None = None,
) -> Case:
    """The case if the user works in its service (404 otherwise); writes as for ``client_for_user``.
    A link worker may open any case of their service (covering a colleague); every access is audited by
    the views. ``cases`` lets a page fetch what it shows in the same query as the case (``case_page_for_user``);
    the check is the same whatever it fetches. Without it, the case comes with its counts, client, link worker,
    service and the client's ``open_alerts``, by statements compiled once a process (as for the client).
    ``kept_as`` names ``cases`` to keep its statement a process too: ``cases`` must then be the same queryset on
    every call, whatever the user or case."""
    access = access_for(user)
    service_ids = _service_key(user)
    if cases is not None and kept_as and service_ids:
        found = compiled.instances(
            (kept_as, len(service_ids)),
            lambda pk, *services: cases.filter(pk=pk, service__in=services).order_by()[:1],
            inputs=(case_id, *service_ids),
        )
        case = found[0] if found else None
    elif cases is not None:
        case = cases.filter(pk=case_id, service__in=service_ids).first() if service_ids else None
    elif service_ids:
        today = timezone.localdate()  # the next follow-up counts from today: a statement a day
        found = compiled.instances(
            ("clients.case", len(service_ids), today),
            lambda pk, *services: (
                _with_counts(Case.objects.filter(pk=pk, service__in=services), today)
                .select_related("client", "link_worker", "service")
                .order_by()[:1]
            ),
            inputs=(case_id, *service_ids),
        )
        case = found[0] if found else None
        if case is not None:
            case.client.open_alerts = _open_alerts_of(case.client)
    else:
        case = None
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


# --- The case page -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactLine:
    """A contact as the timeline lists it."""

    at: datetime
    method: str  # its label
    attempted_only: bool
    duration_minutes: int
    notes: str
    next_step: str
    follow_up_on: date | None
    recorded_by: str  # their name

    @property
    def when(self) -> str:
        return _day_and_time(self.at)

    @property
    def follow_up(self) -> str:
        return short_date(self.follow_up_on) if self.follow_up_on else ""


def short_date(day: date) -> str:
    """ "3 Nov 2026", as the date filter's "j M Y" shows it (English month names: an England-only service),
    without its per-call cost: a busy case lists dozens of dates, a caseload two a line."""
    return f"{day.day} {day:%b %Y}"


def _day_and_time(moment: datetime) -> str:
    """ "3 Nov 2026 at 14:05", in UK time."""
    moment = timezone.localtime(moment)
    return f"{short_date(moment)} at {moment:%H:%M}"


@dataclass(frozen=True)
class TimelinePoint:
    contact: ContactLine
    day: int  # days since the case started
    percent: float  # position across the window

    @property
    def x(self) -> int:
        """Where the point sits on the strip's 1000-unit axis."""
        return round(self.percent / 100 * 1000)


@dataclass(frozen=True)
class WhatMattersLine:
    what_matters: str
    strengths: str
    worries: str
    want_to_change: str


@dataclass(frozen=True)
class PlanVersionLine:
    number: int
    saved_at: datetime
    saved_by: str
    goals: list[dict[str, Any]]
    review_on: date | None  # the plan's next review


@dataclass(frozen=True)
class VisitLine:
    id: UUID
    planned_start: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None

    @property
    def when(self) -> str:
        return _day_and_time(self.planned_start)


@dataclass(frozen=True)
class ConnectionLine:
    id: UUID
    service: str
    provider: str
    status: str  # its label
    reason: str


@dataclass
class CasePage:
    """Everything the case page shows besides the wellbeing measures (outcomes draws those)."""

    case: Case
    link_worker: str  # their name
    contacts: list[ContactLine]  # newest first
    points: list[TimelinePoint]  # oldest first
    what_matters: WhatMattersLine | None
    plan_version: PlanVersionLine | None  # the latest
    visits: list[VisitLine]  # the five latest
    connections: list[ConnectionLine]
    referral_id: UUID | None  # the first referral: closing the case goes through it


# Everything the case page lists besides the case itself, as one JSON object computed inside the case's own
# query (``clients_case`` is the outer query's table). Written as SQL because the ORM took longer to build
# these six subqueries (about 5 ms) than PostgreSQL takes to run them; each section takes only the fields the
# page shows, and the case page tests cover every one.
CASE_PAGE_SQL = """
SELECT JSONB_BUILD_OBJECT(
    'link_worker', (SELECT full_name FROM accounts_user WHERE id = clients_case.link_worker_id),
    'what_matters', (
        SELECT JSONB_BUILD_OBJECT(
            'what_matters', w.what_matters, 'strengths', w.strengths, 'worries', w.worries,
            'want_to_change', w.want_to_change
        )
        FROM clients_whatmatters w
        WHERE w.case_id = clients_case.id
    ),
    'contacts', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'at', c.at, 'method', c.method, 'attempted_only', c.attempted_only,
            'duration_minutes', c.duration_minutes, 'notes', c.notes, 'next_step', c.next_step,
            'follow_up_on', c.follow_up_on, 'recorded_by', u.full_name
        ) ORDER BY c.at DESC), '[]')
        FROM clients_contact c JOIN accounts_user u ON u.id = c.recorded_by_id
        WHERE c.case_id = clients_case.id
    ),
    'alerts', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'kind', a.kind, 'detail', a.detail
        ) ORDER BY a.raised_at DESC), '[]')
        FROM clients_clientalert a
        WHERE a.client_id = clients_case.client_id AND a.resolved_at IS NULL
    ),
    'plan_version', (
        SELECT JSONB_BUILD_OBJECT(
            'number', v.number, 'saved_at', v.saved_at, 'saved_by', u.full_name, 'goals', v.goals,
            'review_on', p.review_on
        )
        FROM clients_planversion v
        JOIN clients_plan p ON p.id = v.plan_id
        JOIN accounts_user u ON u.id = v.saved_by_id
        WHERE p.case_id = clients_case.id
        ORDER BY v.number DESC
        LIMIT 1
    ),
    'visits', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'id', h.id, 'planned_start', h.planned_start,
            'checked_in_at', h.checked_in_at, 'checked_out_at', h.checked_out_at
        ) ORDER BY h.planned_start DESC), '[]')
        FROM (
            SELECT id, planned_start, checked_in_at, checked_out_at FROM clients_homevisit
            WHERE case_id = clients_case.id ORDER BY planned_start DESC LIMIT 5
        ) h
    ),
    'connections', (
        SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT(
            'id', n.id, 'service', s.name, 'provider', p.name, 'status', n.status, 'reason', n.reason
        ) ORDER BY n.created_at DESC), '[]')
        FROM clients_connection n
        JOIN community_communityservice s ON s.id = n.service_id
        JOIN community_provider p ON p.id = s.provider_id
        WHERE n.case_id = clients_case.id
    ),
    'referral_id', (
        SELECT r.id FROM referrals_referral r WHERE r.case_id = clients_case.id ORDER BY r.received_at LIMIT 1
    )
)
"""


def _datetime_from(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date_from(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def case_page_for_user(user: Any, case_id: UUID) -> CasePage:
    """The case page's contents in one query, for a case the user may read (``case_for_user`` decides, and
    404s as it does). The case carries ``contact_count``, ``last_contact_at`` and ``next_follow_up`` as the
    caseload counts them, and its client ``open_alerts``."""
    cases = Case.objects.select_related("client").annotate(
        # A constant: nothing from the request goes into it.
        page=RawSQL(CASE_PAGE_SQL, (), output_field=JSONField())  # noqa: S611  # nosec B611
    )
    case = case_for_user(user, case_id, cases=cases, kept_as="clients.case_page")
    page = case.page
    contacts = [
        ContactLine(
            at=datetime.fromisoformat(c["at"]),
            method=ContactMethod(c["method"]).label,
            attempted_only=c["attempted_only"],
            duration_minutes=c["duration_minutes"],
            notes=c["notes"],
            next_step=c["next_step"],
            follow_up_on=_date_from(c["follow_up_on"]),
            recorded_by=c["recorded_by"],
        )
        for c in page["contacts"]
    ]
    today = timezone.localdate()
    counted = [c for c in contacts if not c.attempted_only]
    case.contact_count = len(counted)
    case.last_contact_at = max((c.at for c in counted), default=None)
    case.next_follow_up = min(
        (c.follow_up_on for c in contacts if c.follow_up_on and c.follow_up_on >= today), default=None
    )
    # For showing, never saving: the record header needs only the kind of alert and its detail.
    case.client.open_alerts = [
        ClientAlert(client=case.client, kind=a["kind"], detail=a["detail"]) for a in page["alerts"]
    ]
    span = max(1, (case.window_end - case.start_date).days)
    points = []
    for c in reversed(contacts):
        day = (timezone.localtime(c.at).date() - case.start_date).days
        points.append(TimelinePoint(c, day, max(0.0, min(100.0, 100 * day / span))))
    version = page["plan_version"]
    return CasePage(
        case=case,
        link_worker=page["link_worker"] or "",
        contacts=contacts,
        points=points,
        what_matters=WhatMattersLine(**page["what_matters"]) if page["what_matters"] else None,
        plan_version=PlanVersionLine(
            number=version["number"],
            saved_at=datetime.fromisoformat(version["saved_at"]),
            saved_by=version["saved_by"],
            goals=version["goals"],
            review_on=_date_from(version["review_on"]),
        )
        if version
        else None,
        visits=[
            VisitLine(
                id=UUID(v["id"]),
                planned_start=datetime.fromisoformat(v["planned_start"]),
                checked_in_at=_datetime_from(v["checked_in_at"]),
                checked_out_at=_datetime_from(v["checked_out_at"]),
            )
            for v in page["visits"]
        ],
        connections=[
            ConnectionLine(
                id=UUID(c["id"]),
                service=c["service"],
                provider=c["provider"],
                status=ConnectionStatus(c["status"]).label,
                reason=c["reason"],
            )
            for c in page["connections"]
        ],
        referral_id=UUID(page["referral_id"]) if page["referral_id"] else None,
    )


def weeks_left(window_end: date, today: date | None = None) -> int:
    """Whole weeks left of a support window ending on ``window_end`` (0 once it has ended)."""
    today = today or timezone.localdate()
    return max(0, (window_end - today).days // 7)
