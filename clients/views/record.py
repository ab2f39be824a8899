"""The person's record: details, equality monitoring, consent and alerts."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clients import forms, selectors, services
from clients.models import ClientAlert
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.forms.kept import blank_form_html


@role_required(*SERVICE_ROLES)
def client_detail(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = selectors.client_for_user(request.user, client_id)
    audit_record(request=request, action=Action.VIEW, obj=client, summary="Record viewed")
    cases = selectors.cases_of_client(client)
    access = access_for(request.user)
    # The blank form's drawing is kept by the process (None under DEBUG); a form with mistakes is drawn by
    # alert_add.
    alert_form_html = blank_form_html(forms.AlertForm)
    return render(
        request,
        "clients/client.html",
        {
            "client": client,
            "cases": cases,
            "can_write": client.service_id in access.service_ids(*selectors.WRITE_ROLES),
            "can_audit": client.service_id in access.service_ids(Role.SERVICE_MANAGER),
            "alert_form_html": alert_form_html,
            "alert_form": None if alert_form_html else forms.AlertForm(),
        },
    )


@role_required(*selectors.WRITE_ROLES)
def client_edit(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = selectors.client_for_user(request.user, client_id, write=True)
    fields = services.CLIENT_EDITABLE
    if request.method == "POST":
        form = forms.ClientForm(request.POST, client=client)
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in fields}
            try:
                client = services.client_update(
                    client=client, by=request.user, expected_version=form.cleaned_data["version"], **data
                )
            except services.ConcurrentEdit as error:
                form.add_error(None, error)
            else:
                changed = ", ".join(client.changed_fields) or "nothing"
                audit_record(request=request, action=Action.UPDATE, obj=client, summary=f"Record updated: {changed}")
                messages.success(request, "Record updated")
                return redirect("clients:client", client.pk)
        return render(
            request, "clients/client_edit.html", {"client": client, "form": form}, status=400 if form.errors else 200
        )
    initial = {f: getattr(client, f) for f in fields} | {"version": client.version}
    form = forms.ClientForm(initial=initial, client=client)
    return render(request, "clients/client_edit.html", {"client": client, "form": form})


@require_POST
@role_required(*selectors.WRITE_ROLES)
def alert_add(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = selectors.client_for_user(request.user, client_id, write=True)
    form = forms.AlertForm(request.POST)
    if not form.is_valid():
        cases = client.cases.select_related("link_worker")
        return render(
            request,
            "clients/client.html",
            {
                "client": client,
                "cases": cases,
                "can_write": True,
                "alert_form": form,
            },
            status=400,
        )
    alert = services.alert_raise(client=client, by=request.user, **form.cleaned_data)
    audit_record(request=request, action=Action.CREATE, obj=alert, summary=alert.get_kind_display())
    messages.success(request, f"Alert added: {alert.get_kind_display()}")
    return redirect("clients:client", client.pk)


@require_POST
@role_required(*selectors.WRITE_ROLES)
def alert_resolve(request: HttpRequest, client_id: UUID, alert_id: UUID) -> HttpResponse:
    client = selectors.client_for_user(request.user, client_id, write=True)
    alert = ClientAlert.objects.filter(pk=alert_id, client=client).first()
    if alert is None:
        from django.http import Http404

        raise Http404
    try:
        services.alert_resolve(alert=alert, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit_record(request=request, action=Action.UPDATE, obj=alert, summary="Alert resolved")
        messages.success(request, "Alert resolved")
    return redirect("clients:client", client.pk)
