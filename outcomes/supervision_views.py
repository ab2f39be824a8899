"""Supervision: the lists behind the caseload dashboard's numbers, supervision sessions and their actions,
"My supervision" for link workers, and the supervisor's safeguarding decisions. Every page is audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clients import services as client_services
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from outcomes import supervision_forms as forms
from outcomes import supervision_selectors as selectors
from outcomes import supervision_services as services


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@role_required(*selectors.SUPERVISION_ROLES)
def cases(request: HttpRequest) -> HttpResponse:
    """The list behind one number on the dashboard (cases, home visits or referrals), each linking to the case
    or referral. An unknown link worker answers 404, like any record of another service."""
    form = forms.DrillDownForm(request.GET, user=request.user)
    if not form.is_valid():
        if "worker" in form.errors:
            raise Http404
        return render(request, "outcomes/supervision/list.html", {"form": form, "measure": None}, status=400)
    filters = form.to_filter()
    measure = selectors.MEASURES[form.cleaned_data["measure"]]
    month = form.cleaned_data["month"]
    items: list[Any] = []
    if measure.kind == "cases":
        items = selectors.drilldown_cases(user=request.user, measure=measure.key, filters=filters)
    elif measure.kind == "visits":
        items = selectors.drilldown_visits(user=request.user, filters=filters)
    else:
        items = selectors.drilldown_referrals(user=request.user, measure=measure.key, filters=filters, month=month)
    who = filters.worker.full_name if filters.worker else ("no one" if filters.unassigned else "all link workers")
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="outcomes.supervision_list",
        object_id=str(filters.worker.pk) if filters.worker else "",
        summary=f"{measure.label} for {who}: {len(items)}",
    )
    worker_service = None
    if filters.worker is not None:
        _, worker_service = selectors.worker_for_user(request.user, filters.worker.pk)
    return render(
        request,
        "outcomes/supervision/list.html",
        {
            "form": form,
            "measure": measure,
            "filters": filters,
            "span": selectors.period_span(filters.period, timezone.localdate()),
            "month": month,
            "items": items,
            "can_record": worker_service is not None and selectors.may_record_sessions(request.user, worker_service),
            "dashboard_query": _dashboard_query(filters),
        },
    )


def _dashboard_query(filters: selectors.DashboardFilter) -> str:
    params = {"period": filters.period}
    if filters.practice is not None:
        params["practice"] = str(filters.practice.pk)
    if filters.worker is not None:
        params["worker"] = str(filters.worker.pk)
    return urlencode(params)


@role_required(*selectors.SUPERVISION_ROLES)
def worker(request: HttpRequest, worker_id: UUID) -> HttpResponse:
    """One link worker's supervision record: sessions, open actions, and a button to record a session."""
    person, service = selectors.worker_for_user(request.user, worker_id)
    sessions = list(selectors.sessions_for_worker(user=request.user, worker=person))
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="outcomes.supervision_record",
        object_id=str(person.pk),
        summary=f"Supervision record of {person.full_name}",
    )
    return render(
        request,
        "outcomes/supervision/worker.html",
        {
            "person": person,
            "service": service,
            "sessions": sessions,
            "actions": list(selectors.open_actions_for_worker(user=request.user, worker=person)),
            "can_record": selectors.may_record_sessions(request.user, service),
            "today": timezone.localdate(),
        },
    )


@role_required(Role.SUPERVISOR)
def session_new(request: HttpRequest, worker_id: UUID) -> HttpResponse:
    """Record a supervision session with a link worker. Only a supervisor of the link worker's service may
    (403 for a service manager there; 404 for anyone outside it)."""
    person, service = selectors.worker_for_user(request.user, worker_id)
    if not selectors.may_record_sessions(request.user, service):
        raise PermissionDenied
    cases = list(selectors.cases_for_session(worker=person, service=service))
    form = forms.SupervisionSessionForm(
        request.POST or None,
        worker=person,
        supervisor=request.user,
        cases=cases,
        preselect=request.GET.getlist("case"),
    )
    context = {"form": form, "person": person, "service": service}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = services.supervision_session_record(
                    service=service,
                    supervisor=request.user,
                    link_worker=person,
                    held_on=data["held_on"],
                    cases=list(data["cases"]),
                    concerns=data["concerns"],
                    wellbeing=data["wellbeing"],
                    wellbeing_notes=data["wellbeing_notes"],
                    actions=data["actions"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                audit_record(
                    request=request,
                    action=Action.CREATE,
                    obj=session,
                    summary=f"Supervision with {person.full_name}: {len(data['cases'])} cases discussed",
                )
                messages.success(request, f"Supervision with {person.full_name} recorded")
                return redirect("supervision:session", session.pk)
        return render(request, "outcomes/supervision/session_form.html", context, status=400)
    return render(request, "outcomes/supervision/session_form.html", context)


@role_required(*SERVICE_ROLES)
def session(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """A supervision session, for the link worker it was with and the service's supervisors and managers."""
    record = selectors.session_for_user(request.user, session_id)
    audit_record(
        request=request,
        action=Action.VIEW,
        obj=record,
        summary=f"Supervision of {record.link_worker.full_name} on {record.held_on:%Y-%m-%d}",
    )
    return render(
        request,
        "outcomes/supervision/session.html",
        {
            "record": record,
            "own": record.link_worker_id == request.user.pk,
            "complete": "all" if selectors.may_record_sessions(request.user, record.service) else "own",
            "today": timezone.localdate(),
        },
    )


@role_required(Role.LINK_WORKER)
def mine(request: HttpRequest) -> HttpResponse:
    """My supervision: a link worker's own sessions, the actions agreed, and cases waiting to be discussed."""
    mine = selectors.my_supervision(user=request.user)
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="outcomes.supervision_record",
        object_id=str(request.user.pk),
        summary="Own supervision record",
    )
    return render(request, "outcomes/supervision/mine.html", {"mine": mine, "today": timezone.localdate()})


@require_POST
@role_required(*SERVICE_ROLES)
def action_done(request: HttpRequest, action_id: UUID) -> HttpResponse:
    action = selectors.action_for_user(request.user, action_id)
    try:
        services.supervision_action_complete(action=action, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit_record(request=request, action=Action.UPDATE, obj=action, summary="Supervision action done")
        messages.success(request, f"Action done: {action.what}")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("supervision:session", action.session_id)


@role_required(*selectors.SUPERVISION_ROLES)
def concern(request: HttpRequest, concern_id: UUID) -> HttpResponse:
    """A safeguarding concern with every decision on it, and the form for the supervisor's decision (or a
    correction of it: a new record, the earlier one stays)."""
    record = selectors.concern_for_user(request.user, concern_id, write=request.method == "POST")
    history = selectors.decision_history(record)
    in_force = next((decision for decision in history if decision.in_force), None)
    can_decide = record.case.service_id in access_for(request.user).service_ids(Role.SUPERVISOR)
    form = forms.SafeguardingDecisionForm(request.POST or None, correcting=in_force is not None)
    if request.method == "POST":
        if form.is_valid():
            try:
                decision = client_services.safeguarding_decision_record(
                    concern=record,
                    by=request.user,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    corrects=in_force,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                what = "Correction" if in_force else "Decision"
                audit_record(request=request, action=Action.CREATE, obj=decision, summary=f"{what}: {decision}")
                messages.success(request, f"{what} recorded: {decision.get_decision_display()}")
                return redirect("supervision:concern", record.pk)
    else:
        audit_record(
            request=request,
            action=Action.VIEW,
            obj=record,
            summary="Safeguarding concern viewed",
        )
    context = {
        "concern": record,
        "case": record.case,
        "history": history,
        "in_force": in_force,
        "form": form if can_decide else None,
    }
    return render(
        request, "outcomes/supervision/concern.html", context, status=400 if request.method == "POST" else 200
    )
