"""Service managers give GP and agency systems API keys for the FHIR API, and revoke them.

Modelled on the agency referral links: the key is shown once, on the page that made it; only its digest is kept.
Mounted at /referrals/api-keys/."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linkwork.accounts.access import access_for, role_required
from linkwork.accounts.api_clients import api_client_create, api_client_revoke
from linkwork.accounts.models import ApiClient, Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from referrals.forms import ApiClientForm


def _clients_for(user: Any) -> Any:
    managed = access_for(user).service_ids(Role.SERVICE_MANAGER)
    return ApiClient.objects.filter(service__in=managed).select_related("organisation", "service", "created_by")


@role_required(Role.SERVICE_MANAGER)
def api_keys(request: HttpRequest) -> HttpResponse:
    services = access_for(request.user).services(Role.SERVICE_MANAGER)
    form = ApiClientForm(request.POST or None, services=services)
    context: dict[str, Any] = {"form": form, "clients": _clients_for(request.user), "new_key": None}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/api_keys.html", context, status=400)
        organisation, service = form.cleaned_data["route"]
        try:
            client, key = api_client_create(
                name=form.cleaned_data["name"], organisation=organisation, service=service, by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
            return render(request, "referrals/api_keys.html", context, status=400)
        # Shown once: only the digest is stored.
        context.update(new_key=key, new_client=client, form=ApiClientForm(services=services))
    else:
        audit_record(request=request, action=Action.VIEW, object_type="accounts.apiclient", summary="API keys")
    return render(request, "referrals/api_keys.html", context)


@require_POST
@role_required(Role.SERVICE_MANAGER)
def api_key_revoke(request: HttpRequest, api_client_id: UUID) -> HttpResponse:
    client = _clients_for(request.user).filter(pk=api_client_id).first()
    if client is None:
        raise Http404
    api_client_revoke(client=client, by=request.user)
    messages.success(request, f"The API key {client.prefix}… for {client.name} no longer works")
    return redirect("api_keys:list")
