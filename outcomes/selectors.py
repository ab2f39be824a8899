"""Dashboards and reports: read from every other app, always scoped to the requesting user."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clients.models import Case, CaseStatus
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Membership, Organisation, Role
from referrals.models import Referral, ReferralStatus


@dataclass
class WorkerRow:
    name: str
    active: int = 0
    paused: int = 0
    no_contact_14: int = 0
    past_window: int = 0
    at_12_plus: int = 0


@dataclass
class Dashboard:
    services: list[Organisation]
    rows: list[WorkerRow] = field(default_factory=list)
    totals: WorkerRow = field(default_factory=lambda: WorkerRow(name="All link workers"))
    waiting_referrals: int = 0


def caseload_dashboard(*, user: Any, today: date | None = None) -> Dashboard:
    """Per link worker in the supervisor's or manager's services: open cases and the ones needing attention.
    A constant number of queries whatever the caseload size: memberships, workers, open cases, waiting."""
    today = today or timezone.localdate()
    access = access_for(user)
    service_ids = access.service_ids(Role.SUPERVISOR, Role.SERVICE_MANAGER)
    board = Dashboard(services=access.services(Role.SUPERVISOR, Role.SERVICE_MANAGER))
    workers = (
        Membership.objects.filter(organisation__in=service_ids, role=Role.LINK_WORKER)
        .select_related("user")
        .order_by("user__full_name")
    )
    rows: dict[Any, WorkerRow] = {}
    for m in workers:
        rows.setdefault(m.user_id, WorkerRow(name=m.user.full_name))
    cutoff = timezone.now() - timedelta(days=14)
    cases = (
        Case.objects.filter(service__in=service_ids, status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED])
        .annotate(
            contact_count=Count("contacts", filter=Q(contacts__attempted_only=False)),
            last_contact=Max("contacts__at", filter=Q(contacts__attempted_only=False)),
        )
        .values("link_worker_id", "status", "window_end", "contact_count", "last_contact", "start_date")
    )
    counts: dict[Any, WorkerRow] = defaultdict(lambda: WorkerRow(name="Unassigned"))
    counts.update(rows)
    for c in cases:
        row = counts[c["link_worker_id"]]
        for target in (row, board.totals):
            if c["status"] == CaseStatus.ACTIVE:
                target.active += 1
            else:
                target.paused += 1
            last = c["last_contact"]
            if c["status"] == CaseStatus.ACTIVE and (last or _midnight(c["start_date"])) < cutoff:
                target.no_contact_14 += 1
            if c["window_end"] < today:
                target.past_window += 1
            if c["contact_count"] >= 12:
                target.at_12_plus += 1
    board.rows = sorted(counts.values(), key=lambda r: r.name)
    board.waiting_referrals = Referral.objects.filter(service__in=service_ids, status=ReferralStatus.NEW).count()
    return board


def _midnight(day: date) -> Any:
    from datetime import datetime, time

    return timezone.make_aware(datetime.combine(day, time.min))


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
