from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from clients import selectors
from clients.models import AlertKind, CaseStatus
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.links import object_url

FILTERS = {
    "": "All open cases",
    "overdue": "No contact for 14 days",
    "ending": "Window ending soon",
    "paused": "Paused",
}
SORT_LABELS = {"window": "Window end", "last_contact": "Last contact (longest ago first)", "name": "Name"}


@dataclass(frozen=True)
class Row:
    """One line of the caseload, worked out here rather than in the template: a busy link worker has a hundred
    open cases, and per-row template logic (tags, filters, ``{% url %}``) was most of the page's time. The line's
    HTML is made here too (``rows_html``): a hundred lines of ten template variables each were still a third of
    the page's time, for markup that never varies but for these values."""

    url: str
    name: str
    alerts: list[str]
    tag: str  # the status tag's colour
    status: str
    contacts: int
    last_contact: str
    next_planned: str
    weeks_left: str
    ends: str


# One line of the caseload table (NHS.UK responsive table); rows_html escapes every value.
ROW_HTML = """    <tr role="row" class="nhsuk-table__row">
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Person </span><a href="{}">{}</a>
        {}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Status </span>
        <strong class="nhsuk-tag nhsuk-tag--{}">{}</strong></td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Contacts </span>contact {} of 6–12</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Last contact </span>{}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Next planned </span>{}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Window </span>{}<br><span class="nhsuk-body-s">ends {}</span></td>
    </tr>
"""  # noqa: E501 - the markup as the page shows it


def rows_html(rows: list[Row]) -> SafeString:
    """The caseload table's lines: what a ``{% for %}`` over ``rows`` wrote, at a tenth of its cost. Every value
    is a plain string or number, escaped here as Django's ``escape`` would (it is ``html.escape``), without its
    per-call lazy-string wrapping: that wrapping was most of the cost of ``format_html`` over a thousand values."""
    lines = []
    for row in rows:
        alerts = "".join(
            f'<br><strong class="nhsuk-tag nhsuk-tag--red">{escape(alert)}</strong>' for alert in row.alerts
        )
        lines.append(
            ROW_HTML.format(
                escape(row.url),
                escape(row.name),
                alerts,
                escape(row.tag),
                escape(row.status),
                row.contacts,  # a number
                escape(row.last_contact),
                escape(row.next_planned),
                escape(row.weeks_left),
                escape(row.ends),
            )
        )
    return mark_safe("".join(lines))  # noqa: S308  # nosec B308 B703 - every value escaped above


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def caseload_row(case: dict[str, Any], *, now: dt.datetime, today: dt.date) -> Row:
    """A line from one of ``selectors.caseload_for``'s dicts."""
    last_contact_at = case["last_contact_at"]
    days = (now - last_contact_at).days if last_contact_at else None
    if case["status"] == CaseStatus.PAUSED:
        tag, status = "grey", "Paused"
    elif case["window_end"] < today:
        tag, status = "red", "Window ended"
    elif days is None or days >= selectors.NO_CONTACT_DAYS:
        tag, status = "orange", "Contact overdue"
    else:
        tag, status = "green", "Active"
    return Row(
        url=object_url("clients:case", case["id"]),
        name=f"{case['client__given_name']} {case['client__family_name']}",
        alerts=[AlertKind(kind).label for kind in case["alert_kinds"]],
        tag=tag,
        status=status,
        contacts=case["contact_count"],
        last_contact="None yet" if days is None else f"{_plural(days, 'day')} ago",
        next_planned=selectors.short_date(case["next_follow_up"]) if case["next_follow_up"] else "Not planned",
        weeks_left=f"{_plural(selectors.weeks_left(case['window_end'], today), 'week')} left",
        ends=selectors.short_date(case["window_end"]),
    )


@role_required(*SERVICE_ROLES)
def caseload(request: HttpRequest) -> HttpResponse:
    """A link worker's own caseload; managers and supervisors choose whose caseload to look at."""
    access = access_for(request.user)
    workers = (
        list(selectors.team_workers(user=request.user)) if access.has(Role.SERVICE_MANAGER, Role.SUPERVISOR) else []
    )
    worker = request.user
    if request.GET.get("worker") and workers:
        worker = next((w for w in workers if str(w.pk) == request.GET["worker"]), None)
        if worker is None:
            raise Http404
    elif not access.has(Role.LINK_WORKER):
        worker = workers[0] if workers else request.user
    filters = selectors.CaseloadFilter(
        show=request.GET.get("show", "") if request.GET.get("show", "") in FILTERS else "",
        sort=request.GET.get("sort", "window") if request.GET.get("sort") in SORT_LABELS else "window",
    )
    cases = selectors.caseload_lines(user=request.user, worker=worker, filters=filters)
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="clients.caseload",
        object_id=str(worker.pk),
        summary=f"Caseload of {worker.full_name}: {len(cases)} cases",
    )
    now, today = timezone.now(), timezone.localdate()
    rows = [caseload_row(case, now=now, today=today) for case in cases]
    return render(
        request,
        "clients/caseload.html",
        {
            "rows": rows,
            "rows_html": rows_html(rows),
            "worker": worker,
            "workers": workers,
            "filters": FILTERS,
            "sorts": SORT_LABELS,
            "current": filters,
            "own": worker == request.user,
        },
    )


@role_required(*SERVICE_ROLES)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    results = selectors.search_clients(user=request.user, query=query) if query else []
    if query:
        audit_record(
            request=request,
            action=Action.VIEW,
            object_type="clients.search",
            summary=f"Searched clients ({len(results)} found)",
        )
    return render(request, "clients/search.html", {"query": query, "results": results})
