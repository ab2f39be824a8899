"""Raising a case for supervision and recording a safeguarding concern, from the case; and the case's own
supervision and safeguarding record. Supervisors decide on concerns from the supervision pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clients import selectors, services
from clients import supervision_forms as forms
from clients.models import Case, SafeguardingDecision
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _concerns(case: Case) -> list[Any]:
    """The case's safeguarding concerns, oldest first, each with its decisions as a ``history``: the original,
    then each correction after the decision it corrects, ``in_force`` marked on the last."""
    decisions = Prefetch("decisions", queryset=SafeguardingDecision.objects.select_related("by"), to_attr="decided")
    concerns = list(case.safeguarding_concerns.select_related("raised_by").prefetch_related(decisions))
    for concern in concerns:
        concern.history = SafeguardingDecision.in_order(concern.decided)
    return concerns


@role_required(*SERVICE_ROLES)
def case_supervision(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id)
    audit_record(request=request, action=Action.VIEW, obj=case, summary="Supervision and safeguarding record")
    access = access_for(request.user)
    return render(
        request,
        "clients/supervision/case.html",
        {
            "case": case,
            "client": case.client,
            "flags": case.supervision_flags.select_related("raised_by", "discussed_by").order_by("-raised_at"),
            "concerns": _concerns(case),
            "can_write": case.service_id in access.service_ids(*selectors.WRITE_ROLES),
            "is_supervisor": case.service_id in access.service_ids(Role.SUPERVISOR, Role.SERVICE_MANAGER),
        },
    )


@role_required(*selectors.WRITE_ROLES)
def flag_raise(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    form = forms.SupervisionFlagForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                flag = services.supervision_flag_raise(case=case, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                audit_record(request=request, action=Action.CREATE, obj=flag, summary="Flagged for supervision")
                messages.success(request, "Case flagged for supervision")
                return redirect("clients:case", case.pk)
        return render(
            request,
            "clients/supervision/flag_form.html",
            {"case": case, "client": case.client, "form": form},
            status=400,
        )
    return render(request, "clients/supervision/flag_form.html", {"case": case, "client": case.client, "form": form})


@role_required(*selectors.WRITE_ROLES)
def concern_raise(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    form = forms.SafeguardingConcernForm(request.POST or None)
    context = {"case": case, "client": case.client, "form": form}
    if request.method == "POST":
        if form.is_valid():
            try:
                concern = services.safeguarding_concern_raise(case=case, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                audit_record(request=request, action=Action.CREATE, obj=concern, summary="Safeguarding concern raised")
                messages.success(request, "Safeguarding concern recorded. The service's supervisors have been told")
                return redirect("clients:case_supervision", case.pk)
        return render(request, "clients/supervision/concern_form.html", context, status=400)
    return render(request, "clients/supervision/concern_form.html", context)
