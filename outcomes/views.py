from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkwork.accounts.access import SERVICE_ROLES, role_required
from linkwork.accounts.models import Role
from outcomes import selectors


@role_required(Role.SUPERVISOR, Role.SERVICE_MANAGER)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "outcomes/dashboard.html", {"board": selectors.caseload_dashboard(user=request.user)})


@role_required(Role.COMMISSIONER, Role.SERVICE_MANAGER)
def reports(request: HttpRequest) -> HttpResponse:
    services, rows = selectors.referral_activity(user=request.user)
    return render(request, "outcomes/reports.html", {"services": services, "rows": rows})


@role_required(*SERVICE_ROLES)
def demand(request: HttpRequest) -> HttpResponse:
    """Connections per community service over the last 12 months: which groups are full, which under-used."""
    months, rows = selectors.directory_demand(user=request.user)
    return render(request, "outcomes/demand.html", {"months": months, "rows": rows})
