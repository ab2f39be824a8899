from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clients import selectors
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record

FILTERS = {
    "": "All open cases",
    "overdue": "No contact for 14 days",
    "ending": "Window ending soon",
    "paused": "Paused",
}
SORT_LABELS = {"window": "Window end", "last_contact": "Last contact (longest ago first)", "name": "Name"}


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
    cases = list(selectors.caseload_for(user=request.user, worker=worker, filters=filters))
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="clients.caseload",
        object_id=str(worker.pk),
        summary=f"Caseload of {worker.full_name}: {len(cases)} cases",
    )
    now = timezone.now()
    for case in cases:
        case.days_since_contact = (now - case.last_contact_at).days if case.last_contact_at else None
        case.weeks_left = selectors.weeks_left(case)
    return render(
        request,
        "clients/caseload.html",
        {
            "cases": cases,
            "worker": worker,
            "workers": workers,
            "filters": FILTERS,
            "sorts": SORT_LABELS,
            "current": filters,
            "own": worker == request.user,
            "today": timezone.localdate(),
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
