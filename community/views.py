from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from community import selectors
from linkwork.accounts.access import SERVICE_ROLES, role_required


@role_required(*SERVICE_ROLES)
def directory(request: HttpRequest) -> HttpResponse:
    services = list(selectors.directory_for(user=request.user))
    return render(request, "community/directory.html", {"services": services})
