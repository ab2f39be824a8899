"""Home visits with lone-worker check-in and check-out (phone-sized pages)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clients import forms, selectors, services
from linkwork.accounts.access import role_required
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


@role_required(*selectors.WRITE_ROLES)
def visit_new(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    form = forms.HomeVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.home_visit_schedule(
                case=case,
                by=request.user,
                planned_start=form.cleaned_data["planned_start"],
                expected_minutes=form.cleaned_data["expected_minutes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            audit_record(request=request, action=Action.CREATE, obj=visit, summary="Home visit scheduled")
            messages.success(request, "Home visit scheduled")
            return redirect("clients:visit", visit.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "clients/visit_new.html", {"case": case, "client": case.client, "form": form}, status=status)


@role_required(*selectors.WRITE_ROLES)
def visit(request: HttpRequest, visit_id: UUID) -> HttpResponse:
    visit = selectors.visit_for_user(request.user, visit_id)
    case = visit.case
    return render(
        request,
        "clients/visit.html",
        {
            "visit": visit,
            "case": case,
            "client": case.client,
            "alerts": case.client.alerts.filter(resolved_at=None),
            "form": forms.CheckOutForm(),
        },
    )


@require_POST
@role_required(*selectors.WRITE_ROLES)
def check_in(request: HttpRequest, visit_id: UUID) -> HttpResponse:
    visit = selectors.visit_for_user(request.user, visit_id)
    try:
        services.home_visit_check_in(visit=visit, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit_record(request=request, action=Action.UPDATE, obj=visit, summary="Checked in")
        messages.success(request, "Checked in. Remember to check out when you leave")
    return redirect("clients:visit", visit.pk)


@require_POST
@role_required(*selectors.WRITE_ROLES)
def check_out(request: HttpRequest, visit_id: UUID) -> HttpResponse:
    visit = selectors.visit_for_user(request.user, visit_id)
    form = forms.CheckOutForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "clients/visit.html",
            {
                "visit": visit,
                "case": visit.case,
                "client": visit.case.client,
                "alerts": visit.case.client.alerts.filter(resolved_at=None),
                "form": form,
            },
            status=400,
        )
    try:
        services.home_visit_check_out(visit=visit, by=request.user, notes=form.cleaned_data["notes"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:visit", visit.pk)
    audit_record(request=request, action=Action.UPDATE, obj=visit, summary="Checked out")
    messages.success(request, "Checked out safely. The visit is recorded as a contact")
    return redirect("clients:case", visit.case_id)
