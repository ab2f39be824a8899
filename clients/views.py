from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clients import selectors
from linkwork.accounts.access import role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


@role_required(Role.LINK_WORKER)
def caseload(request: HttpRequest) -> HttpResponse:
    cases = list(selectors.caseload_for(user=request.user))
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="clients.caseload",
        summary=f"Caseload of {len(cases)} open cases",
    )
    return render(request, "clients/caseload.html", {"cases": cases, "today": timezone.localdate()})
