"""Agency referral links, made and revoked by service managers."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linkwork.accounts.access import role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from referrals import forms, selectors, services


@never_cache
@role_required(Role.SERVICE_MANAGER)
def links(request: HttpRequest) -> HttpResponse:
    managed = selectors.staff_services(user=request.user, roles=(Role.SERVICE_MANAGER,))
    form = forms.AgencyLinkForm(request.POST or None, services=managed)
    context = {"form": form, "links": selectors.agency_links_for(user=request.user), "new_url": None}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/links.html", context, status=400)
        link, token = services.agency_link_create(
            service=form.cleaned_data["service"], agency_name=form.cleaned_data["agency_name"], by=request.user
        )
        audit_record(request=request, action=Action.CREATE, obj=link, summary=f"Agency link for {link.agency_name}")
        # Shown once: only the hash is stored.
        context.update(
            new_url=request.build_absolute_uri(reverse("refer:agency", args=[token])),
            new_link=link,
            form=forms.AgencyLinkForm(services=managed),
        )
    return render(request, "referrals/links.html", context)


@require_POST
@role_required(Role.SERVICE_MANAGER)
def revoke(request: HttpRequest, link_id: UUID) -> HttpResponse:
    link = selectors.agency_link_for_manager(request.user, link_id)
    try:
        services.agency_link_revoke(link=link, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("referrals:links")
    audit_record(request=request, action=Action.UPDATE, obj=link, summary=f"Revoked link for {link.agency_name}")
    messages.success(request, f"The referral link for {link.agency_name} no longer works")
    return redirect("referrals:links")
