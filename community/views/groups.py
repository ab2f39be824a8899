"""Training and funding opportunities to share with community groups."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from community import forms, selectors, services
from community.models import Opportunity
from linkwork.accounts.access import SERVICE_ROLES, role_required
from linkwork.accounts.models import Role


@role_required(*SERVICE_ROLES)
def opportunities(request: HttpRequest) -> HttpResponse:
    access = selectors.access_for(request.user)
    owners = access.services(Role.SERVICE_MANAGER, Role.LINK_WORKER)
    form = forms.OpportunityForm(request.POST or None)
    if request.method == "POST":
        if not owners:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            services.opportunity_add(service=owners[0], by=request.user, **form.cleaned_data)
            messages.success(request, "Opportunity added")
            return redirect("community:opportunities")
    items = Opportunity.objects.filter(service__in=access.service_ids(*SERVICE_ROLES)).select_related("created_by")
    return render(
        request,
        "community/opportunities.html",
        {"form": form, "items": items, "can_add": bool(owners)},
        status=400 if request.method == "POST" else 200,
    )
