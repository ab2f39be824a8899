"""Dashboards and reports: read from every other app, always scoped to the requesting user."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clients.models import Contact
from linkwork import compiled
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Organisation, Role, User
from linkwork.links import object_url
from outcomes import freshness
from outcomes import supervision_selectors as sv


# --- The supervisor's caseload dashboard ----------------------------------------------------------------------------
@dataclass
class WorkerRow:
    """One link worker's figures (or the service totals, or cases with no link worker). Field names are the
    measure keys of ``supervision_selectors.MEASURES``."""

    name: str
    worker: User | None = None
    is_total: bool = False
    active: int = 0
    new: int = 0
    first_contact_overdue: int = 0
    no_contact_14: int = 0
    past_window: int = 0
    at_12_plus: int = 0
    closed: int = 0
    closed_contacts: int = 0
    alerts: int = 0
    awaiting_first_contact: int = 0
    visits_this_week: int = 0

    @property
    def average_contacts(self) -> float | None:
        """Contacts per case closed in the period."""
        return self.closed_contacts / self.closed if self.closed else None

    @property
    def worker_param(self) -> str:
        """The ``worker`` value of this row's drill-down links: blank for totals, "none" for unassigned cases."""
        if self.is_total:
            return ""
        return str(self.worker.pk) if self.worker else "none"

    def add(self, other: WorkerRow) -> None:
        for name in (*sv.CASE_MEASURE_KEYS, "closed_contacts", "visits_this_week"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    week: date
    value: int


@dataclass
class Trend:
    """A weekly series over the last 12 weeks, drawn as a small bar chart (server-side SVG) and a table."""

    key: str
    title: str
    weeks: list[date]
    values: list[int]

    WIDTH = 300
    HEIGHT = 120
    TOP = 18
    BOTTOM = 100

    @property
    def top_value(self) -> int:
        return max([*self.values, 1])

    @property
    def bars(self) -> list[Bar]:
        slot = self.WIDTH / max(1, len(self.values))
        scale = (self.BOTTOM - self.TOP) / self.top_value
        bars = []
        for i, (week, value) in enumerate(zip(self.weeks, self.values, strict=True)):
            height = round(value * scale, 1)
            bars.append(
                Bar(round(i * slot + 2, 1), round(self.BOTTOM - height, 1), round(slot - 4, 1), height, week, value)
            )
        return bars

    @property
    def latest(self) -> int:
        return self.values[-1] if self.values else 0


@dataclass
class FlowRow:
    """Referrals from one practice (or from everywhere else): received per month of the period, waiting for
    triage now, and the median days from referral to first contact for those received in the period."""

    name: str
    practice: Organisation | None = None
    is_total: bool = False
    months: list[date] = field(default_factory=list)
    by_month: list[int] = field(default_factory=list)
    waiting: int = 0
    seen: int = 0
    median_days: float | None = None

    @property
    def received(self) -> int:
        return sum(self.by_month)

    @property
    def month_cells(self) -> list[tuple[date, int]]:
        return list(zip(self.months, self.by_month, strict=True))

    @property
    def practice_param(self) -> str:
        """The ``practice`` value of this row's drill-down links."""
        if self.practice is not None:
            return str(self.practice.pk)
        return "" if self.is_total else "other"


@dataclass
class Dashboard:
    services: list[Organisation]
    filters: sv.DashboardFilter
    span: sv.Span
    today: date
    rows: list[WorkerRow] = field(default_factory=list)
    totals: WorkerRow = field(default_factory=lambda: WorkerRow(name="Service total", is_total=True))
    trends: list[Trend] = field(default_factory=list)
    months: list[date] = field(default_factory=list)
    flow: list[FlowRow] = field(default_factory=list)
    flow_total: FlowRow = field(default_factory=lambda: FlowRow(name="All sources", is_total=True))
    flags: list[ListedFlag] = field(default_factory=list)
    concerns: list[ListedConcern] = field(default_factory=list)
    versions: tuple[tuple[str, int], ...] = ()  # the services' data versions the figures were read at
    service_ids: set[UUID] = field(default_factory=set)  # the services the figures cover
    key_parts: tuple[Any, ...] = ()  # the filters the figures were cached under

    @property
    def waiting_referrals(self) -> int:
        return self.flow_total.waiting

    @property
    def practice_param(self) -> str:
        return str(self.filters.practice.pk) if self.filters.practice else ""


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _days(later: str, earlier: str) -> Func:
    return Func(
        F(later) - F(earlier), template="EXTRACT(EPOCH FROM %(expressions)s) / 86400.0", output_field=FloatField()
    )


# The fields of a flag or concern the dashboard shows: whose case, held by whom, raised by whom and when.
@dataclass(frozen=True)
class ListedFlag:
    """A case flagged for supervision, as the dashboard lists it: links and the date ready to show (``{% url %}``
    and ``|date`` per line were most of the list's time)."""

    case_url: str
    client_name: str
    worker_url: str  # the link worker's supervision record; "" when the case has nobody
    worker_name: str | None
    question: str
    raised_by: str
    raised_on: str  # "3 November 2026", UK time


@dataclass(frozen=True)
class ListedConcern:
    """A safeguarding concern waiting for a decision, as the dashboard lists it."""

    url: str
    client_name: str
    worker_name: str | None
    raised_by: str
    raised_on: str  # "3 November 2026"
    raised_at_time: str  # "14:05", UK time


def _long_date(moment: datetime) -> str:
    """ "3 November 2026", as ``|date:"j F Y"`` shows it in UK time (English month names: England only)."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y}"


# What the dashboard lists of a flag or a concern, read as plain values: a flag with its case, client, link worker
# and raiser as four model instances took longer to build than to fetch.
LISTED = (
    "case__client__given_name",
    "case__client__family_name",
    "case__link_worker__full_name",
    "raised_by__full_name",
    "raised_at",
)


FLAG_COLUMNS = ("case_id", "case__link_worker_id", "question", *LISTED)
CONCERN_COLUMNS = ("pk", *LISTED)


def _listed_flags(service_ids: set[UUID], filters: sv.DashboardFilter) -> list[ListedFlag]:
    """The flags waiting for supervision, as the dashboard lists them. The statement is kept a process
    (linkwork.compiled) for the number of services and which filters are chosen, and asked with the services and
    the chosen practice and link worker: the dashboard reads the list on every look, and the ORM building and
    compiling it and the concerns' (five tables each) took 1.8 ms a look on session 17's machine."""
    ids = tuple(sorted(service_ids))
    if not ids:
        return []
    practice = filters.practice.pk if filters.practice is not None else None
    worker = filters.worker.pk if filters.worker is not None else None
    chosen = tuple(pk for pk in (practice, worker) if pk is not None)

    def build(*inputs: UUID) -> QuerySet[Any]:
        rest = iter(inputs[len(ids) :])
        return sv.open_flags(
            service_ids=inputs[: len(ids)],
            practice_id=next(rest) if practice is not None else None,
            worker_id=next(rest) if worker is not None else None,
        ).values(*FLAG_COLUMNS)

    key = ("outcomes.dashboard_flags", len(ids), practice is not None, worker is not None)
    return [
        ListedFlag(
            case_url=object_url("clients:case", row["case_id"]),
            client_name=f"{row['case__client__given_name']} {row['case__client__family_name']}",
            worker_url=(
                object_url("supervision:worker", row["case__link_worker_id"]) if row["case__link_worker_id"] else ""
            ),
            worker_name=row["case__link_worker__full_name"],
            question=row["question"],
            raised_by=row["raised_by__full_name"],
            raised_on=_long_date(row["raised_at"]),
        )
        for row in compiled.values(key, build, inputs=(*ids, *chosen))
    ]


def _listed_concerns(service_ids: set[UUID]) -> list[ListedConcern]:
    """The safeguarding concerns waiting for a decision, as the dashboard lists them, by a statement kept as the
    flags' is (``_listed_flags``)."""
    ids = tuple(sorted(service_ids))
    if not ids:
        return []
    rows = compiled.values(
        ("outcomes.dashboard_concerns", len(ids)),
        lambda *inputs: sv.undecided_concerns(service_ids=inputs).values(*CONCERN_COLUMNS),
        inputs=ids,
    )
    return [
        ListedConcern(
            url=object_url("supervision:concern", row["pk"]),
            client_name=f"{row['case__client__given_name']} {row['case__client__family_name']}",
            worker_name=row["case__link_worker__full_name"],
            raised_by=row["raised_by__full_name"],
            raised_on=_long_date(row["raised_at"]),
            raised_at_time=f"{timezone.localtime(row['raised_at']):%H:%M}",
        )
        for row in rows
    ]


def caseload_dashboard(
    *,
    user: Any,
    filters: sv.DashboardFilter | None = None,
    today: date | None = None,
    team: list[User] | None = None,
) -> Dashboard:
    """Per link worker in the services the user supervises or manages, the figures that say whether anyone is
    at risk, overloaded or not being seen; service totals; 12-week trends; referral flow per practice; cases
    flagged for supervision and safeguarding concerns waiting for a decision.

    Every figure is aggregated in the database, so the number of queries is fixed whatever the size of the
    service: cases by worker, home visits by worker, the workers (unless ``team`` has them all), three trend
    series, two referral-flow groupings and the service median, practices, flags and concerns. ``team``: the
    services' active link workers by name (``supervision_selectors.workers_for_supervision``), when the caller has
    read them already."""
    filters = filters or sv.DashboardFilter()
    today = today or timezone.localdate()
    span = sv.period_span(filters.period, today)
    service_ids = sv.supervision_service_ids(user)
    board = Dashboard(
        services=access_for(user).services(*sv.SUPERVISION_ROLES), filters=filters, span=span, today=today
    )
    # The figures are aggregates over whole services: cached until a service's data changes (outcomes.freshness).
    # Names of link workers, flags and concerns are read afresh each time and never cached.
    board.service_ids = service_ids
    board.key_parts = (
        filters.period,
        filters.practice.pk if filters.practice else None,
        filters.worker.pk if filters.worker else None,
        filters.unassigned,
        filters.other_sources,
    )

    def figures() -> DashboardFigures:
        flow = Dashboard(services=[], filters=filters, span=span, today=today)
        practices = [filters.practice] if filters.practice is not None else list(sv.practices_of(service_ids))
        weeks = _trend_weeks(today)
        referrals = _referral_figures(service_ids, filters, span, practices, weeks)
        _referral_flow(flow, practices, referrals)
        visits = (
            sv.visits_this_week(service_ids=service_ids, filters=filters, today=today)
            .values_list("link_worker_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return DashboardFigures(
            case_counts=_case_counts_by_worker(service_ids, filters, today, span),
            visits=list(visits),
            trends=_trends(service_ids, filters, weeks, referrals.weekly),
            months=flow.months,
            flow=flow.flow,
            flow_total=flow.flow_total,
        )

    board.versions = freshness.versions(service_ids)
    cached = freshness.cached(
        "dashboard",
        figures,
        service_ids=service_ids,
        parts=board.key_parts,
        code=(sys.modules[__name__], sv),
        known_versions=board.versions,
    )
    _worker_rows(board, service_ids, cached, team)
    board.trends, board.months = cached.trends, cached.months
    board.flow, board.flow_total = cached.flow, cached.flow_total
    board.flags = _listed_flags(service_ids, filters)
    board.concerns = _listed_concerns(service_ids)
    return board


@dataclass
class DashboardFigures:
    """The dashboard's aggregates, as cached: counts per link worker id, trends, referral flow by practice id."""

    case_counts: list[tuple[Any, ...]]
    visits: list[tuple[Any, int]]
    trends: list[Trend]
    months: list[date]
    flow: list[FlowRow]
    flow_total: FlowRow


def _worker_rows(board: Dashboard, service_ids: set[UUID], figures: DashboardFigures, team: list[User] | None) -> None:
    filters = board.filters
    found: dict[Any, WorkerRow] = defaultdict(lambda: WorkerRow(name=""))
    for link_worker_id, *counts in figures.case_counts:
        row = found[link_worker_id]
        for key, value in zip((*sv.CASE_MEASURE_KEYS, "closed_contacts"), counts, strict=True):
            setattr(row, key, value)
    for link_worker_id, n in figures.visits:
        found[link_worker_id].visits_this_week = n

    # The service's link workers, and anyone else still holding cases in it (someone who has left, say).
    holding = {pk for pk in found if pk is not None}
    if filters.worker is not None:
        workers = [filters.worker]
    elif team is not None and holding <= {worker.pk for worker in team}:
        workers = team  # the filter form's list: nobody outside it holds cases here
    else:
        team_or_holding = Q(
            memberships__role=Role.LINK_WORKER, memberships__organisation__in=service_ids, is_active=True
        ) | Q(pk__in=holding)
        # Names only: a row links to the worker by id and shows the name (DISTINCT over whole users cost more).
        workers = list(User.objects.filter(team_or_holding).only("id", "full_name").distinct().order_by("full_name"))
    rows = []
    for worker in workers:
        row = found.pop(worker.pk, None) or WorkerRow(name="")
        row.name, row.worker = worker.full_name, worker
        rows.append(row)
    unassigned = found.pop(None, None)
    if unassigned is not None and not filters.worker:
        unassigned.name = "Not assigned to anyone"
        rows.append(unassigned)
    board.rows = rows
    for row in rows:
        board.totals.add(row)


def _case_counts_by_worker(
    service_ids: set[UUID], filters: sv.DashboardFilter, today: date, span: sv.Span
) -> list[tuple[Any, ...]]:
    """One row per link worker: the count of cases meeting each measure's condition, and the contacts of cases
    closed in the period. Django builds the per-case query (figures and one true/false column per measure,
    from ``case_measure_filters``); this wraps it to count the true ones per link worker, because the ORM
    cannot group an aggregate over another aggregate."""
    conditions = sv.case_measure_filters(today=today, span=span)
    per_case = (
        sv.with_case_figures(sv.cases_in_scope(service_ids=service_ids, filters=filters))
        .filter(sv.relevant_cases(span=span))
        .annotate(
            **{f"is_{key}": ExpressionWrapper(conditions[key], output_field=BooleanField()) for key in conditions}
        )
        .values("link_worker_id", "counted", *(f"is_{key}" for key in sv.CASE_MEASURE_KEYS))
        .order_by()
    )
    inner, params = per_case.query.sql_with_params()
    # Column names come from MEASURES' keys, never from the request; the values stay parameters.
    counts = ", ".join(f'COUNT(*) FILTER (WHERE "is_{key}")' for key in sv.CASE_MEASURE_KEYS)
    sql = (
        f'SELECT "link_worker_id", {counts}, COALESCE(SUM("counted") FILTER (WHERE "is_closed"), 0) '  # noqa: S608  # nosec B608
        f'FROM ({inner}) AS per_case GROUP BY "link_worker_id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _trend_weeks(today: date) -> list[date]:
    """The first day of each of the trends' twelve weeks, oldest first."""
    first = sv.week_start(today) - timedelta(weeks=sv.TREND_WEEKS - 1)
    return [first + timedelta(weeks=i) for i in range(sv.TREND_WEEKS)]


def _week_bounds(weeks: list[date]) -> list[tuple[datetime, datetime]]:
    return [(sv.local_midnight(w), sv.local_midnight(w + timedelta(days=7))) for w in weeks]


def _trends(
    service_ids: set[UUID], filters: sv.DashboardFilter, weeks: list[date], referrals: list[int]
) -> list[Trend]:
    """Open cases at the end of each week, new cases and contacts per week: two queries, one per table, each
    counting all twelve weeks at once. Referrals received per week come with the referral flow's statement."""
    first = weeks[0]
    ends = [w + timedelta(days=6) for w in weeks]

    cases = sv.cases_in_scope(service_ids=service_ids, filters=filters).filter(
        Q(closed_on=None) | Q(closed_on__gte=first)
    )
    case_counts = cases.aggregate(
        **{
            f"open_{i}": Count("id", filter=Q(start_date__lte=end) & (Q(closed_on=None) | Q(closed_on__gt=end)))
            for i, end in enumerate(ends)
        },
        **{
            f"new_{i}": Count("id", filter=Q(start_date__gte=w, start_date__lte=w + timedelta(days=6)))
            for i, w in enumerate(weeks)
        },
    )

    bounds = _week_bounds(weeks)
    # Only cases open at some point in the window can have contacts in it (a closed case takes no contacts), so
    # PostgreSQL looks up a few thousand cases' contacts by (case, at), not ten years of a service's cases.
    contacts = Contact.objects.filter(
        case__in=cases,
        attempted_only=False,
        at__gte=bounds[0][0],
        at__lt=bounds[-1][1],
    )
    contact_counts = contacts.aggregate(
        **{f"w_{i}": Count("id", filter=Q(at__gte=start, at__lt=end)) for i, (start, end) in enumerate(bounds)}
    )
    n = range(sv.TREND_WEEKS)
    return [
        Trend("open", "Open cases at the end of each week", weeks, [case_counts[f"open_{i}"] for i in n]),
        Trend("new", "New cases each week", weeks, [case_counts[f"new_{i}"] for i in n]),
        Trend("contacts", "Contacts each week (not attempts)", weeks, [contact_counts[f"w_{i}"] for i in n]),
        Trend("referrals", "Referrals received each week", weeks, referrals),
    ]


@dataclass
class ReferralFigures:
    """Every referral figure on the dashboard, from one statement (``_referral_figures``)."""

    by_month: list[tuple[UUID | None, datetime, int]]  # (source, local month (naive), received in the period)
    by_source: list[tuple[UUID | None, int, int, float | None]]  # (source, waiting, seen, median days)
    median_days: float | None  # all sources
    other_median: float | None  # sources that are not one of the flow's practices
    weekly: list[int]  # received in each of the trends' twelve weeks


# The groupings of _referral_figures' statement. Column names are ours; every value is a parameter.
REFERRAL_FIGURES_SQL = """
SELECT GROUPING("source_organisation_id", "month"), "source_organisation_id", "month",
       COUNT(*) FILTER (WHERE "is_received"),
       COUNT(*) FILTER (WHERE "is_waiting"),
       COUNT(*) FILTER (WHERE "is_received" AND "days" IS NOT NULL),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY "days") FILTER (WHERE "is_received" AND "days" IS NOT NULL),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY "days")
           FILTER (WHERE "is_received" AND "days" IS NOT NULL AND "is_elsewhere"),
       {weeks}
FROM ({inner}) AS "referral"
GROUP BY GROUPING SETS (("source_organisation_id", "month"), ("source_organisation_id"), ())
"""


def _referral_figures(
    service_ids: set[UUID],
    filters: sv.DashboardFilter,
    span: sv.Span,
    practices: list[Organisation],
    weeks: list[date],
) -> ReferralFigures:
    """The referrals received per source and month of the period, waiting for triage per source, the median
    days to first contact per source, overall and for other sources, and those received in each trend week:
    one pass over the services' referrals with GROUPING SETS, instead of a statement for each (four before).
    Django builds the per-referral query; the grouping wraps it, as the ORM has no GROUPING SETS."""
    conditions = sv.referral_measure_filters(span=span)
    bounds = _week_bounds(weeks)
    in_weeks = Q(received_at__gte=bounds[0][0], received_at__lt=bounds[-1][1])
    received = conditions["received"]
    elsewhere: Any = ExpressionWrapper(~Q(source_organisation__in=practices), output_field=BooleanField())
    per_referral = (
        sv.referrals_in_scope(service_ids=service_ids, filters=filters)
        .filter(conditions["waiting_triage"] | received | in_weeks)
        .annotate(
            month=TruncMonth("received_at"),
            is_received=ExpressionWrapper(received, output_field=BooleanField()),
            is_waiting=ExpressionWrapper(conditions["waiting_triage"], output_field=BooleanField()),
            is_elsewhere=elsewhere if practices else Value(True),
            # Looked up only for the referrals the medians read: not for those in the trend weeks alone.
            first_contact=Case(When(received, then=sv.first_contact_at())),
            days=_days("first_contact", "received_at"),
        )
        .values("source_organisation_id", "month", "received_at", "is_received", "is_waiting", "is_elsewhere", "days")
        .order_by()
    )
    inner, params = per_referral.query.sql_with_params()
    weekly = ", ".join('COUNT(*) FILTER (WHERE "received_at" >= %s AND "received_at" < %s)' for _ in bounds)
    sql = REFERRAL_FIGURES_SQL.format(weeks=weekly, inner=inner)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(moment for pair in bounds for moment in pair), *params])
        rows = cursor.fetchall()
    figures = ReferralFigures(by_month=[], by_source=[], median_days=None, other_median=None, weekly=[0] * len(bounds))
    for grouping, source, month, received_n, waiting, seen, median, other_median, *weekly_n in rows:
        if grouping == 0:
            if received_n:
                figures.by_month.append((source, month, received_n))
        elif grouping == 1:
            figures.by_source.append((source, waiting, seen, median))
        else:
            figures.median_days, figures.other_median, figures.weekly = median, other_median, list(weekly_n)
    return figures


def _referral_flow(board: Dashboard, practices: list[Organisation], figures: ReferralFigures) -> None:
    filters = board.filters
    board.months = board.span.months
    rows = {
        p.pk: FlowRow(name=p.name, practice=p, months=board.months, by_month=[0] * len(board.months)) for p in practices
    }
    other = FlowRow(
        name="Other sources (agencies, self-referral, phone)", months=board.months, by_month=[0] * len(board.months)
    )
    month_index = {m: i for i, m in enumerate(board.months)}
    for source, month, n in figures.by_month:
        # TruncMonth's local month, as the raw statement returns it: a timestamp without a time zone.
        local_month = month.date().replace(day=1)
        rows.get(source, other).by_month[month_index[local_month]] += n
    for source, waiting, seen, median_days in figures.by_source:
        row = rows.get(source)
        if row is None:
            other.waiting += waiting
            other.seen += seen
        else:
            row.waiting, row.seen, row.median_days = waiting, seen, median_days
    other.median_days = figures.other_median
    board.flow = [*rows.values()]
    if filters.practice is None:
        board.flow.append(other)
    total = board.flow_total
    total.practice = filters.practice
    total.months = board.months
    total.by_month = [sum(r.by_month[i] for r in board.flow) for i in range(len(board.months))]
    total.waiting = sum(r.waiting for r in board.flow)
    total.seen = sum(r.seen for r in board.flow)
    total.median_days = figures.median_days


@dataclass
class DemandRow:
    service: Any
    by_month: list[int]
    attending_now: int
    total: int


def directory_demand(*, user: Any, months: int = 12) -> tuple[list[date], list[DemandRow]]:
    """People connected to each directory service per month (suggested or further) and attending now.
    Two queries: the services, and the connection counts grouped by service and month."""
    from clients.models import Connection
    from community.models import CommunityService
    from linkwork.accounts.access import SERVICE_ROLES

    service_ids = access_for(user).service_ids(*SERVICE_ROLES)
    first = timezone.localdate().replace(day=1)
    month_starts = []
    current = first
    for _ in range(months):
        month_starts.insert(0, current)
        current = (current - timedelta(days=1)).replace(day=1)
    services = list(
        CommunityService.objects.filter(provider__service__in=service_ids).select_related("provider").order_by("name")
    )
    counts = (
        Connection.objects.filter(service__in=services, created_at__date__gte=month_starts[0])
        .annotate(month=TruncMonth("created_at"))
        .values("service_id", "month")
        .annotate(n=Count("id"))
    )
    attending = dict(
        Connection.objects.filter(service__in=services, status__in=["attended_first", "attending"])
        .values("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    grid: dict[Any, dict[date, int]] = defaultdict(dict)
    for row in counts:
        grid[row["service_id"]][timezone.localtime(row["month"]).date().replace(day=1)] = row["n"]
    rows = [
        DemandRow(
            service=s,
            by_month=[grid[s.pk].get(m, 0) for m in month_starts],
            attending_now=attending.get(s.pk, 0),
            total=sum(grid[s.pk].values()),
        )
        for s in services
    ]
    rows.sort(key=lambda r: (-r.total, r.service.name))
    return month_starts, rows
