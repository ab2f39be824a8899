from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from linkwork import db_router
from linkwork.accounts.access import SERVICE_ROLES, access_for, local_link_worker_title, role_required
from linkwork.accounts.models import Role
from linkwork.accounts.templatetags import nhsuk_forms
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from outcomes import (
    downloads,
    freshness,
    report_forms,
    reports,
    selectors,
    supervision_forms,
    supervision_selectors,
)
from outcomes.report_forms import ReportForm

REPORT_ROLES = (Role.COMMISSIONER, *SERVICE_ROLES)


@role_required(Role.SUPERVISOR, Role.SERVICE_MANAGER)
def dashboard(request: HttpRequest) -> HttpResponse:
    """The supervisor's caseload dashboard, filtered by practice, link worker and period. Filter values from
    outside the user's services are refused (400)."""
    form = supervision_forms.DashboardFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return render(request, "outcomes/dashboard.html", {"form": form, "board": None}, status=400)
    board = selectors.caseload_dashboard(user=request.user, filters=form.to_filter(), team=list(form.workers.values()))
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="outcomes.dashboard",
        summary=f"Caseload dashboard: {len(board.flags)} flags, {len(board.concerns)} concerns shown",
    )
    return render(
        request, "outcomes/dashboard.html", {"form": form, "board": board, "figures": _figures(request, board)}
    )


DASHBOARD_FIGURES = ("_glance.html", "_figures.html", "_worker_row.html", "_trend.html", "_flow_row.html")


def _figures(request: HttpRequest, board: selectors.Dashboard) -> dict[str, str]:
    """The dashboard's cards, table of link workers, trends and referral flow, as HTML: some 300 drill-down links
    took most of the page's time to render. They are made from the cached figures, the link workers' names and
    the local title for a link worker, so the HTML is cached on all three (outcomes.freshness): a new figure, a
    renamed link worker or another filter renders afresh. Flags and concerns stay outside, read every time."""
    title = local_link_worker_title(request.user)
    context = {"board": board, "link_worker_title": title, "period": board.filters.period}
    context["practice"] = board.practice_param

    def render_figures() -> dict[str, str]:
        return {part: render_to_string(f"outcomes/supervision/_{part}.html", context) for part in ("glance", "figures")}

    names = tuple((row.worker.pk if row.worker else None, row.name) for row in board.rows)
    html = freshness.cached(
        "dashboard-html",
        render_figures,
        service_ids=board.service_ids,
        parts=(*board.key_parts, board.span, title, names),
        code=(
            selectors,
            supervision_selectors,
            sys.modules[__name__],
            *(SUPERVISION_TEMPLATES / name for name in DASHBOARD_FIGURES),
        ),
        known_versions=board.versions,
    )
    # Our own templates' output, autoescaped when it was rendered.
    return {"glance": mark_safe(html["glance"]), "tables": mark_safe(html["figures"])}  # noqa: S308  # nosec B308 B703


@role_required(*REPORT_ROLES)
def report(request: HttpRequest) -> HttpResponse:
    """Outcome reports for a period and scope, on screen, as CSV (zipped), XLSX, or a printable summary.
    Commissioners only ever get aggregate, small-number-suppressed figures; service staff may see their own
    service's figures unsuppressed (or choose the suppressed view to check what will be shared)."""
    access = access_for(request.user)
    services = access.services(*REPORT_ROLES)
    form = ReportForm(request.GET or {"period": "last_quarter"}, services=services)
    if not form.is_valid():
        return render(request, "outcomes/report.html", {"form": form, "sections": None}, status=400)
    data = form.cleaned_data
    chosen = [data["service"]] if data["service"] else services
    own = access.service_ids(*SERVICE_ROLES)
    suppressed = request.GET.get("suppress") == "1" or any(s.pk not in own for s in chosen)
    scope = reports.Scope(
        services=tuple(chosen), start=data["start"], end=data["end"], pcn=data["pcn"], practice=data["practice"]
    )
    with db_router.replica_reads():  # the figures, and the HTML made from them, keyed on one reading of versions
        versions_now = freshness.versions(scope.service_ids)
    fmt = request.GET.get("format", "")
    # The figures, from their cache: downloads need them, the page only when its HTML is not cached already.
    sections = reports.build(scope, known_versions=versions_now) if fmt in ("csv", "svg", "xlsx") else None
    who = request.user.email
    stamp = timezone.localdate().isoformat()
    if fmt in ("csv", "xlsx"):
        audit_record(
            request=request,
            action=Action.EXPORT,
            object_type="outcomes.report",
            summary=f"{fmt.upper()} report, {scope.describe()}"[:300],
        )
    if fmt == "csv":
        response = HttpResponse(
            downloads.csv_zip(sections, scope, suppressed=suppressed, generated_by=who), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="linkwork-report-{stamp}.zip"'
        return response
    if fmt == "svg":
        table = next((t for _, _, tables in sections for t in tables if t.key == request.GET.get("chart")), None)
        if table is None:
            from django.http import Http404

            raise Http404
        svg = downloads.bar_chart_svg(table, suppressed=suppressed)
        response = HttpResponse(svg, content_type="image/svg+xml")
        response["Content-Disposition"] = f'attachment; filename="linkwork-{table.key}-{stamp}.svg"'
        return response
    if fmt == "xlsx":
        handle = downloads.xlsx(sections, scope, suppressed=suppressed, generated_by=who)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"linkwork-report-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    query = request.GET.urlencode()

    def tables_html() -> str:
        # Aggregates only (suppressed or the service's own), so the HTML may be cached like the figures.
        figures = reports.build(scope, known_versions=versions_now)
        return render_to_string(
            "outcomes/_report_tables.html",
            {"sections": _shown(figures, suppressed), "charts": _charts(figures, suppressed), "query": query},
        )

    with db_router.replica_reads():  # the versions keying the HTML come from where its figures came from
        html = freshness.cached(
            "report-html",
            tables_html,
            service_ids=scope.service_ids,
            parts=(reports.scope_parts(scope), suppressed, query),
            code=(reports, downloads, sys.modules[__name__], TABLES_TEMPLATE),
            known_versions=versions_now,
        )
    context = {
        "form": form,
        "sections": [(key, title, None) for key, title, _ in reports.SECTIONS],
        # Our own template's output, autoescaped when it was rendered.
        "tables_html": mark_safe(html),  # noqa: S308  # nosec B308 B703
        "scope": scope,
        "suppressed": suppressed,
        "rule": reports.SUPPRESSION_RULE,
        "query": query,
        "can_unsuppress": all(s.pk in own for s in chosen),
    }
    if fmt == "print":
        return render(request, "outcomes/report_print.html", context)
    everywhere = {s.pk for s in services}  # the form lists all the user's services, whichever was chosen
    context["form_html"] = _report_form_html(
        form, services=everywhere, versions=versions_now if everywhere == set(scope.service_ids) else None
    )
    return render(request, "outcomes/report.html", context)


# What draws the filter form: a release changing any of it draws the form afresh.
FORM_CODE = (
    report_forms,
    nhsuk_forms,
    *sorted((Path(settings.BASE_DIR) / "linkwork" / "forms").glob("*.py")),
    *sorted((Path(settings.BASE_DIR) / "templates" / "nhsuk").rglob("*.html")),
)


def _report_form_html(
    form: ReportForm, *, services: set[Any], versions: tuple[tuple[str, int], ...] | None
) -> SafeString:
    """The filter form as HTML, cached: drawing its lists of services, networks and practices (three queries and
    some 80 options) was a third of the page's time. The HTML follows only from what was asked (the form's own
    fields of the query string) and those lists, which are organisations: shared tables, whose data version
    (outcomes.freshness) is in the key with the services'. A valid form only: one with errors is drawn afresh.
    No CSRF token: the form is a GET. ``versions``: those services' data versions, if the page has read them
    already (for the figures, when they cover all the user's services); None reads them here."""
    data = form.data
    asked = tuple(
        (name, tuple(data.getlist(name)) if hasattr(data, "getlist") else (data[name],))
        for name in sorted(data)
        if name.split("_")[0] in form.fields  # a date's fields are start_day, start_month, start_year
    )
    html = freshness.cached(
        "report-form-html",
        lambda: str(render_crispy_form(form)),
        service_ids=services,
        parts=(asked,),
        code=FORM_CODE,
        known_versions=versions,
    )
    # Our own templates' output, autoescaped when it was rendered.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


CHARTS = ("referrals_by_source", "referrals_by_reason", "contacts_per_case", "connections_by_category")
TABLES_TEMPLATE = Path(settings.BASE_DIR) / "templates" / "outcomes" / "_report_tables.html"
SUPERVISION_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "outcomes" / "supervision"


def _shown(sections: list[Any], suppressed: bool) -> list[Any]:
    return [(key, title, [(t, t.shown(suppressed=suppressed)) for t in tables]) for key, title, tables in sections]


def _charts(sections: list[Any], suppressed: bool) -> dict[str, str]:
    return {
        table.key: downloads.bar_chart_svg(table, suppressed=suppressed)
        for _, _, tables in sections
        for table in tables
        if table.key in CHARTS
    }


@role_required(*SERVICE_ROLES)
def demand(request: HttpRequest) -> HttpResponse:
    """Connections per community service over the last 12 months: which groups are full, which under-used."""
    months, rows = selectors.directory_demand(user=request.user)
    return render(request, "outcomes/demand.html", {"months": months, "rows": rows})
