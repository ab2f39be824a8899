"""The personalised care and support plan: edit (a new version each save), history, and print or PDF."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from clients import forms, selectors, services
from clients.models import Case, Plan
from linkwork.accounts.access import SERVICE_ROLES, role_required
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"PDFs are rendered offline: not fetching {url}")


def render_pdf(html: str, *, stylesheet: str) -> bytes:
    """HTML to PDF with WeasyPrint, offline: the stylesheet is read from the static files, nothing is fetched."""
    import weasyprint
    from django.contrib.staticfiles import finders

    css_path = finders.find(stylesheet)
    css = weasyprint.CSS(filename=css_path) if css_path else None
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetching)
    return document.write_pdf(stylesheets=[css] if css else None)


def _current(case: Case) -> tuple[Plan | None, Any]:
    plan = Plan.objects.filter(case=case).first()
    return plan, (plan.versions.first() if plan else None)


@role_required(*selectors.WRITE_ROLES)
def plan_edit(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    plan, version = _current(case)
    if request.method == "POST":
        meta = forms.PlanMetaForm(request.POST)
        goals = forms.GoalFormSet(request.POST, prefix="goals")
        if meta.is_valid() and goals.is_valid():
            goal_list = [g for g in (f.as_goal() for f in goals.forms if f.has_changed() or f.initial) if g]
            try:
                services.plan_save(
                    case=case,
                    by=request.user,
                    goals=goal_list,
                    review_on=meta.cleaned_data["review_on"],
                    expected_version=meta.cleaned_data["version"],
                )
            except services.ConcurrentEdit as error:
                meta.add_error(None, error)
            except ValidationError as error:
                meta.add_error(None, error)
            else:
                audit_record(request=request, action=Action.UPDATE, obj=case, summary="Plan saved")
                messages.success(request, "Plan saved. The earlier version is kept in the plan's history")
                return redirect("clients:case", case.pk)
        context = {"case": case, "client": case.client, "meta": meta, "goals": goals, "plan": plan}
        return render(request, "clients/plan_edit.html", context, status=400)
    initial = [forms.GoalForm.initial_from(g) for g in (version.goals if version else [])]
    goals = forms.GoalFormSet(initial=initial, prefix="goals")
    meta = forms.PlanMetaForm(
        initial={"version": plan.version if plan else 0, "review_on": plan.review_on if plan else None}
    )
    return render(
        request,
        "clients/plan_edit.html",
        {"case": case, "client": case.client, "meta": meta, "goals": goals, "plan": plan},
    )


@role_required(*SERVICE_ROLES)
def plan_history(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id)
    plan, _ = _current(case)
    versions = list(plan.versions.select_related("saved_by")) if plan else []
    for i, newer in enumerate(versions):  # newest first: each is compared with the one before it
        newer.changes = services.plan_changes(versions[i + 1] if i + 1 < len(versions) else None, newer)
    audit_record(request=request, action=Action.VIEW, obj=case, summary="Plan history")
    return render(request, "clients/plan_history.html", {"case": case, "client": case.client, "versions": versions})


def _print_context(case: Case) -> dict[str, Any]:
    _, version = _current(case)
    return {
        "case": case,
        "client": case.client,
        "version": version,
        "goals": [
            {**g, "status_label": services.GOAL_STATUSES.get(g["status"], "")}
            for g in (version.goals if version else [])
        ],
        "service": case.service,
        "connections": case.connections.exclude(status__in=["stopped", "not_taken_up"]).select_related("service"),
        "printed_on": timezone.localdate(),
    }


@role_required(*SERVICE_ROLES)
def plan_print(request: HttpRequest, case_id: UUID) -> HttpResponse:
    """A clean A4 page for the person, in plain English; ``?format=pdf`` downloads it as a PDF."""
    case = selectors.case_for_user(request.user, case_id)
    context = _print_context(case)
    if request.GET.get("format") == "pdf":
        html = render_to_string("clients/plan_print.html", {**context, "for_pdf": True}, request=request)
        pdf = render_pdf(html, stylesheet="css/plan-print.css")
        audit_record(request=request, action=Action.EXPORT, obj=case, summary="Plan PDF downloaded")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="plan-{case.client.family_name.lower()}.pdf"'
        return response
    audit_record(request=request, action=Action.VIEW, obj=case, summary="Plan printed")
    return render(request, "clients/plan_print.html", context)
