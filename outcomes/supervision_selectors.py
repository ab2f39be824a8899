"""Reads for supervision, always scoped to the requesting user: what each figure on the caseload dashboard
means (one definition, used both for the dashboard's counts and for the list behind each count), the
drill-down lists, supervision sessions and actions, cases flagged for supervision and safeguarding concerns."""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from clients.models import (
    AlertKind,
    Case,
    CaseStatus,
    CaseSupervisionFlag,
    ClientAlert,
    Contact,
    HomeVisit,
    SafeguardingConcern,
    SafeguardingDecision,
)
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from outcomes.models import SupervisionAction, SupervisionSession
from referrals.models import Referral, ReferralStatus

SUPERVISION_ROLES = (Role.SUPERVISOR, Role.SERVICE_MANAGER)
OPEN_STATUSES = (CaseStatus.ACTIVE, CaseStatus.PAUSED)
FIRST_CONTACT_DAYS = 7  # a new case should have its first contact within a week
NO_CONTACT_DAYS = 14
MANY_CONTACTS = 12  # the top of the 6 to 12 contacts a person is expected to need
ALERT_KINDS = (AlertKind.SAFEGUARDING, AlertKind.LONE_WORKER)
TREND_WEEKS = 12


# --- Periods and filters ------------------------------------------------------------------------------------------
class Period(models.TextChoices):
    THIS_MONTH = "this_month", "This month"
    LAST_MONTH = "last_month", "Last month"
    LAST_3_MONTHS = "3_months", "Last 3 months"
    LAST_12_MONTHS = "12_months", "Last 12 months"


@dataclass(frozen=True)
class Span:
    """A period as dates, both ends included."""

    start: date
    end: date

    @property
    def months(self) -> list[date]:
        """The first day of each month in the span, oldest first."""
        months, current = [], self.start.replace(day=1)
        while current <= self.end:
            months.append(current)
            current = _add_months(current, 1)
        return months

    def starts_at(self) -> datetime:
        return local_midnight(self.start)

    def ends_before(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def period_span(period: str, today: date) -> Span:
    first = today.replace(day=1)
    if period == Period.LAST_MONTH:
        start = _add_months(first, -1)
        return Span(start, first - timedelta(days=1))
    if period == Period.LAST_3_MONTHS:
        return Span(_add_months(first, -2), today)
    if period == Period.LAST_12_MONTHS:
        return Span(_add_months(first, -11), today)
    return Span(first, today)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboard and its lists are narrowed to. ``unassigned`` picks cases with no link worker;
    ``other_sources`` picks people and referrals from outside the services' practices."""

    period: str = Period.THIS_MONTH
    practice: Organisation | None = None
    worker: User | None = None
    unassigned: bool = False
    other_sources: bool = False


def supervision_service_ids(user: Any) -> set[UUID]:
    return access_for(user).service_ids(*SUPERVISION_ROLES)


def workers_for_supervision(*, user: Any) -> QuerySet[User]:
    """Link workers of the services the user supervises or manages, by name."""
    return workers_of(supervision_service_ids(user))


def workers_of(service_ids: Iterable[UUID]) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__role=Role.LINK_WORKER, memberships__organisation__in=service_ids, is_active=True
        )
        .distinct()
        .order_by("full_name")
    )


def practices_for_supervision(*, user: Any) -> QuerySet[Organisation]:
    """GP practices linked to the services the user supervises or manages, by name."""
    return practices_of(supervision_service_ids(user))


def practices_of(service_ids: set[UUID]) -> QuerySet[Organisation]:
    return (
        Organisation.objects.filter(kind=OrganisationKind.PRACTICE, services__in=service_ids)
        .distinct()
        .order_by("name")
    )


# --- The measures -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    kind: str  # "cases", "visits" or "referrals": what the list behind the number shows
    description: str


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in [
        Measure("active", "Active cases", "cases", "Cases that are active now (not paused or closed)."),
        Measure("new", "New cases", "cases", "Cases that started in the period."),
        Measure(
            "first_contact_overdue",
            "First contact overdue",
            "cases",
            f"Active cases more than {FIRST_CONTACT_DAYS} days old with no contact yet (attempts do not count).",
        ),
        Measure(
            "no_contact_14",
            f"No contact for {NO_CONTACT_DAYS} days or more",
            "cases",
            f"Active cases whose last contact, or start if never seen, was {NO_CONTACT_DAYS} or more days ago.",
        ),
        Measure("past_window", "Past their support window", "cases", "Open cases whose support window has ended."),
        Measure(
            "at_12_plus",
            f"At {MANY_CONTACTS} or more contacts",
            "cases",
            f"Open cases that have had {MANY_CONTACTS} or more contacts: the top of the usual 6 to 12.",
        ),
        Measure(
            "closed",
            "Closed cases",
            "cases",
            "Cases closed in the period, with their contacts (the average is contacts per closed case).",
        ),
        Measure(
            "alerts",
            "Open alerts",
            "cases",
            "Open cases whose record has an open safeguarding or lone-worker risk alert.",
        ),
        Measure(
            "awaiting_first_contact",
            "Waiting for a first contact",
            "cases",
            "Active cases (accepted referrals) where the person has not been reached yet.",
        ),
        Measure("visits_this_week", "Home visits this week", "visits", "Home visits planned for this week."),
        Measure("waiting_triage", "Referrals waiting for triage", "referrals", "Referrals not yet triaged."),
        Measure("received", "Referrals received", "referrals", "Referrals received in the period."),
        Measure(
            "first_contact_time",
            "Time to first contact",
            "referrals",
            "Referrals received in the period whose person has had a first contact, with the days it took.",
        ),
    ]
}
CASE_MEASURE_KEYS = [k for k, m in MEASURES.items() if m.kind == "cases"]


def has_open_alert() -> Exists:
    return Exists(ClientAlert.objects.filter(client=OuterRef("client"), kind__in=ALERT_KINDS, resolved_at=None))


def with_case_figures(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with ``counted`` (contacts that reached the person: attempts do not count toward the 6 to 12),
    ``last_contact`` (the latest of those) and ``has_alert`` (an open safeguarding or lone-worker alert). The
    contacts are joined and grouped by case, so PostgreSQL computes each figure once per case however many
    measures use it; conditions on them filter with HAVING."""
    reached = Q(contacts__attempted_only=False)
    return cases.annotate(
        counted=Count("contacts", filter=reached),
        last_contact=Max("contacts__at", filter=reached),
        has_alert=has_open_alert(),
    )


def case_measure_filters(*, today: date, span: Span, now: datetime | None = None) -> dict[str, Q]:
    """What each case measure counts, as a condition on cases carrying ``with_case_figures``. The dashboard
    counts with these conditions and the lists behind its numbers filter with them, so each list is exactly as
    long as its number."""
    now = now or timezone.now()
    no_contact_since = now - timedelta(days=NO_CONTACT_DAYS)
    return {
        "active": Q(status=CaseStatus.ACTIVE),
        "new": Q(start_date__gte=span.start, start_date__lte=span.end),
        "first_contact_overdue": Q(
            status=CaseStatus.ACTIVE, counted=0, start_date__lt=today - timedelta(days=FIRST_CONTACT_DAYS)
        ),
        "no_contact_14": Q(status=CaseStatus.ACTIVE)
        & (Q(last_contact__lt=no_contact_since) | Q(last_contact__isnull=True, start_date__lt=no_contact_since.date())),
        "past_window": Q(status__in=OPEN_STATUSES, window_end__lt=today),
        "at_12_plus": Q(status__in=OPEN_STATUSES, counted__gte=MANY_CONTACTS),
        "closed": Q(status=CaseStatus.CLOSED, closed_on__gte=span.start, closed_on__lte=span.end),
        "alerts": Q(status__in=OPEN_STATUSES, has_alert=True),
        "awaiting_first_contact": Q(status=CaseStatus.ACTIVE, counted=0),
    }


def relevant_cases(*, span: Span) -> Q:
    """The cases any measure can count: open ones, and ones that started or closed in the period."""
    return Q(status__in=OPEN_STATUSES) | Q(start_date__gte=span.start) | Q(closed_on__gte=span.start)


def cases_in_scope(*, service_ids: set[UUID], filters: DashboardFilter) -> QuerySet[Case]:
    cases = Case.objects.filter(service__in=service_ids)
    if filters.practice is not None:
        cases = cases.filter(client__practice=filters.practice)
    elif filters.other_sources:
        cases = cases.exclude(client__practice__in=practices_of(service_ids))
    if filters.worker is not None:
        cases = cases.filter(link_worker=filters.worker)
    elif filters.unassigned:
        cases = cases.filter(link_worker=None)
    return cases


def visits_this_week(*, service_ids: set[UUID], filters: DashboardFilter, today: date) -> QuerySet[HomeVisit]:
    """Home visits planned from Monday to Sunday of this week, counted for the link worker doing the visit."""
    start = week_start(today)
    visits = HomeVisit.objects.filter(
        case__service__in=service_ids,
        planned_start__gte=local_midnight(start),
        planned_start__lt=local_midnight(start + timedelta(days=7)),
    )
    if filters.practice is not None:
        visits = visits.filter(case__client__practice=filters.practice)
    elif filters.other_sources:
        visits = visits.exclude(case__client__practice__in=practices_of(service_ids))
    if filters.worker is not None:
        visits = visits.filter(link_worker=filters.worker)
    elif filters.unassigned:
        visits = visits.none()
    return visits


def first_contact_at() -> Subquery:
    return Subquery(Contact.objects.filter(case=OuterRef("case"), attempted_only=False).order_by("at").values("at")[:1])


def referrals_in_scope(*, service_ids: set[UUID], filters: DashboardFilter) -> QuerySet[Referral]:
    """Referrals to the services, from the chosen practice. The link worker filter does not apply: a referral
    waiting for triage has no link worker yet."""
    referrals = Referral.objects.filter(service__in=service_ids)
    if filters.practice is not None:
        referrals = referrals.filter(source_organisation=filters.practice)
    elif filters.other_sources:
        referrals = referrals.exclude(source_organisation__in=practices_of(service_ids))
    return referrals


def referral_measure_filters(*, span: Span) -> dict[str, Q]:
    received = Q(received_at__gte=span.starts_at(), received_at__lt=span.ends_before())
    return {
        "waiting_triage": Q(status=ReferralStatus.NEW),
        "received": received,
        "first_contact_time": received & Q(first_contact__isnull=False),
    }


# --- The lists behind the numbers ----------------------------------------------------------------------------------
def drilldown_cases(*, user: Any, measure: str, filters: DashboardFilter, today: date | None = None) -> list[Case]:
    """The cases behind one number on the dashboard: the same condition as the count, so the list is as long as
    the number. Each carries ``counted``, ``last_contact`` and ``has_alert``."""
    today = today or timezone.localdate()
    span = period_span(filters.period, today)
    condition = case_measure_filters(today=today, span=span)[measure]
    cases = with_case_figures(cases_in_scope(service_ids=supervision_service_ids(user), filters=filters)).filter(
        condition
    )
    return list(cases.select_related("client", "link_worker").order_by("start_date", "client__family_name"))


def drilldown_visits(*, user: Any, filters: DashboardFilter, today: date | None = None) -> list[HomeVisit]:
    today = today or timezone.localdate()
    visits = visits_this_week(service_ids=supervision_service_ids(user), filters=filters, today=today)
    return list(visits.select_related("case__client", "link_worker").order_by("planned_start"))


def drilldown_referrals(
    *, user: Any, measure: str, filters: DashboardFilter, month: date | None = None, today: date | None = None
) -> list[Referral]:
    """Referrals behind a referral-flow number; ``month`` narrows "received" to one month of the period. Each
    carries ``first_contact`` and, once seen, ``days_to_first_contact``."""
    today = today or timezone.localdate()
    span = period_span(filters.period, today)
    if month is not None:
        span = Span(max(span.start, month), min(span.end, _add_months(month, 1) - timedelta(days=1)))
    referrals = (
        referrals_in_scope(service_ids=supervision_service_ids(user), filters=filters)
        .annotate(first_contact=first_contact_at())
        .filter(referral_measure_filters(span=span)[measure])
        .select_related("source_organisation", "case__link_worker")
        .order_by("received_at")
    )
    found = list(referrals)
    for referral in found:
        referral.days_to_first_contact = (
            max(0, (referral.first_contact - referral.received_at).days) if referral.first_contact else None
        )
    return found


# --- Flags and safeguarding concerns -------------------------------------------------------------------------------
def open_flags(
    *, service_ids: Collection[UUID], practice_id: UUID | None = None, worker_id: UUID | None = None
) -> QuerySet[CaseSupervisionFlag]:
    """Flags not yet discussed in a supervision session, oldest first; of the chosen practice's people and
    the chosen link worker's cases, when the dashboard is filtered to them."""
    flags = CaseSupervisionFlag.objects.filter(case__service__in=service_ids, discussed_at=None)
    if practice_id is not None:
        flags = flags.filter(case__client__practice_id=practice_id)
    if worker_id is not None:
        flags = flags.filter(case__link_worker_id=worker_id)
    return flags.select_related("case__client", "case__link_worker", "raised_by").order_by("raised_at")


def undecided_concerns(*, service_ids: Collection[UUID]) -> QuerySet[SafeguardingConcern]:
    """Safeguarding concerns with no decision yet, oldest first. The dashboard's filters do not apply: a
    supervisor must not miss a concern because of a filter."""
    return (
        SafeguardingConcern.objects.filter(case__service__in=service_ids)
        .exclude(Exists(SafeguardingDecision.objects.filter(concern=OuterRef("pk"))))
        .select_related("case__client", "case__link_worker", "raised_by")
        .order_by("raised_at")
    )


def concern_for_user(user: Any, concern_id: UUID, *, write: bool = False) -> SafeguardingConcern:
    """A safeguarding concern on a case of a service the user supervises or manages (404 otherwise).
    Recording a decision needs the supervisor role there (403 for a service manager)."""
    access = access_for(user)
    concern = (
        SafeguardingConcern.objects.select_related("case__client", "case__link_worker", "case__service", "raised_by")
        .filter(pk=concern_id, case__service__in=access.service_ids(*SUPERVISION_ROLES))
        .first()
    )
    if concern is None:
        raise Http404
    if write and concern.case.service_id not in access.service_ids(Role.SUPERVISOR):
        raise PermissionDenied
    return concern


def decision_history(concern: SafeguardingConcern) -> list[SafeguardingDecision]:
    """Every decision on a concern: the original, then each correction after the decision it corrects, with
    ``in_force`` true only for the last."""
    return SafeguardingDecision.in_order(
        list(SafeguardingDecision.objects.filter(concern=concern).select_related("by"))
    )


# --- Supervision sessions and actions -----------------------------------------------------------------------------
def worker_for_user(user: Any, worker_id: UUID) -> tuple[User, Organisation]:
    """A link worker of a service the user supervises or manages, with that service (404 otherwise)."""
    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(
            user_id=worker_id,
            user__is_active=True,
            role=Role.LINK_WORKER,
            organisation__in=supervision_service_ids(user),
        )
        .order_by("organisation__name")
        .first()
    )
    if membership is None:
        raise Http404
    return membership.user, membership.organisation


def may_record_sessions(user: Any, service: Organisation) -> bool:
    return service.pk in access_for(user).service_ids(Role.SUPERVISOR)


def sessions_for_worker(*, user: Any, worker: User) -> QuerySet[SupervisionSession]:
    """The worker's sessions in the services the user supervises or manages, newest first."""
    return (
        SupervisionSession.objects.filter(link_worker=worker, service__in=supervision_service_ids(user))
        .select_related("supervisor")
        .annotate(case_count=Count("cases_discussed", distinct=True))
        .order_by("-held_on", "-created_at")
    )


def session_for_user(user: Any, session_id: UUID) -> SupervisionSession:
    """A supervision session the user may read: their own (as the link worker supervised) or one in a service
    they supervise or manage. Anyone else gets 404, colleagues included."""
    session = (
        SupervisionSession.objects.select_related("link_worker", "supervisor", "service")
        .prefetch_related(
            Prefetch(
                "cases_discussed",
                queryset=Case.objects.select_related("client").order_by("client__family_name"),
            ),
            Prefetch("actions", queryset=SupervisionAction.objects.select_related("owner", "done_by")),
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise Http404
    if session.link_worker_id != user.pk and session.service_id not in supervision_service_ids(user):
        raise Http404
    return session


def action_for_user(user: Any, action_id: UUID) -> SupervisionAction:
    """An agreed action the user may mark done: one they own, or any from a session in a service they
    supervise. The link worker of the session may see the others but not complete them (403); anyone else
    gets 404."""
    action = SupervisionAction.objects.select_related("session").filter(pk=action_id).first()
    if action is None:
        raise Http404
    if action.owner_id == user.pk or action.session.service_id in access_for(user).service_ids(Role.SUPERVISOR):
        return action
    if action.session.link_worker_id == user.pk or action.session.service_id in supervision_service_ids(user):
        raise PermissionDenied
    raise Http404


def open_actions_for_worker(*, user: Any, worker: User) -> QuerySet[SupervisionAction]:
    return (
        SupervisionAction.objects.filter(
            session__link_worker=worker, session__service__in=supervision_service_ids(user), done_at=None
        )
        .select_related("owner", "session")
        .order_by("due_on")
    )


@dataclass
class MySupervision:
    sessions: list[SupervisionSession] = field(default_factory=list)
    open_actions: list[SupervisionAction] = field(default_factory=list)
    done_actions: list[SupervisionAction] = field(default_factory=list)
    flags: list[CaseSupervisionFlag] = field(default_factory=list)


def my_supervision(*, user: Any) -> MySupervision:
    """A link worker's own supervision: sessions, the actions agreed in them (theirs and their supervisor's),
    and the cases they have flagged that are waiting to be discussed."""
    sessions = list(
        SupervisionSession.objects.filter(link_worker=user)
        .select_related("supervisor")
        .annotate(case_count=Count("cases_discussed", distinct=True))
        .order_by("-held_on", "-created_at")
    )
    actions = list(
        SupervisionAction.objects.filter(Q(session__link_worker=user) | Q(owner=user))
        .select_related("owner", "session", "done_by")
        .order_by("due_on")
    )
    flags = list(
        CaseSupervisionFlag.objects.filter(raised_by=user, discussed_at=None)
        .select_related("case__client")
        .order_by("raised_at")
    )
    return MySupervision(
        sessions=sessions,
        open_actions=[a for a in actions if a.done_at is None],
        done_actions=[a for a in actions if a.done_at is not None][-10:],
        flags=flags,
    )


def cases_for_session(*, worker: User, service: Organisation) -> QuerySet[Case]:
    """Cases that may be discussed in a session with ``worker``: their open cases in the service, and any case
    of the service with a flag waiting for supervision raised by them. Each carries ``open_flags``."""
    flagged = CaseSupervisionFlag.objects.filter(case=OuterRef("pk"), discussed_at=None)
    return (
        with_case_figures(Case.objects.filter(service=service))
        .filter(Q(link_worker=worker, status__in=OPEN_STATUSES) | Q(Exists(flagged.filter(raised_by=worker))))
        .select_related("client")
        .prefetch_related(
            Prefetch(
                "supervision_flags",
                queryset=CaseSupervisionFlag.objects.filter(discussed_at=None).order_by("raised_at"),
                to_attr="open_flags",
            )
        )
        .order_by("client__family_name", "client__given_name")
    )
