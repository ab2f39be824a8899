"""The case: timeline of contacts, logging a contact, what matters, and the case's lifecycle."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from clients import forms, selectors, services
from clients.models import Case, WhatMatters
from linkwork.accounts.access import SERVICE_ROLES, access_for, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.links import object_url

# The pages of a case that its page links to (``links.pause``, ...).
CASE_LINKS = (
    "contact_new",
    "visit_new",
    "what_matters",
    "plan_edit",
    "plan_print",
    "plan_history",
    "find_service",
    "pause",
    "resume",
    "extend",
    "reassign",
    "flag_raise",
    "concern_raise",
    "case_supervision",
)


def timeline_points_html(points: list[selectors.TimelinePoint]) -> SafeString:
    """The timeline strip's circles, one a contact (numbers and fixed classes only)."""
    return mark_safe(  # noqa: S308  # nosec B308 B703 - integers and constant class names
        "".join(
            f'<circle cx="{p.x}" cy="30" r="9" class="'
            f'{"lw-timeline__attempt" if p.contact.attempted_only else "lw-timeline__contact"}"/>'
            for p in points
        )
    )


def contact_items_html(contacts: list[selectors.ContactLine]) -> SafeString:
    """The timeline's list of contacts, every value escaped as the template language escapes it (the notes'
    line breaks by Django's own ``linebreaksbr``). A busy case lists a few dozen; the template loop that wrote
    them was the larger part of the page's drawing (pyinstrument, make bench at scale 10)."""
    if not contacts:
        return mark_safe("<li>No contacts yet.</li>")  # noqa: S308  # nosec B308 B703 - a constant
    items = []
    for c in contacts:
        attempt = ' <strong class="nhsuk-tag nhsuk-tag--grey">Attempt, not counted</strong>' if c.attempted_only else ""
        duration = f"{c.duration_minutes} minutes · " if c.duration_minutes else ""
        notes = f"<p>{linebreaksbr(c.notes, autoescape=True)}</p>\n" if c.notes else ""
        follow_up = f" by {escape(c.follow_up)}" if c.follow_up else ""
        next_step = (
            f"<p><strong>Next:</strong> {escape(c.next_step)}{follow_up}</p>\n" if c.next_step or c.follow_up_on else ""
        )
        items.append(
            '<li class="nhsuk-u-margin-bottom-4">\n'
            f'<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">{escape(c.when)}: {escape(c.method)}{attempt}</h3>\n'
            f'<p class="nhsuk-body-s nhsuk-u-margin-bottom-1">{duration}recorded by {escape(c.recorded_by)}</p>\n'
            f"{notes}{next_step}</li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308  # nosec B308 B703 - every value above is escaped


@role_required(*SERVICE_ROLES)
def case_detail(request: HttpRequest, case_id: UUID) -> HttpResponse:
    page = selectors.case_page_for_user(request.user, case_id)
    case = page.case
    covering = case.link_worker_id != request.user.pk
    audit_record(
        request=request,
        action=Action.VIEW,
        obj=case,
        summary="Case viewed" + (" (not their own)" if covering else ""),
    )
    access = access_for(request.user)
    context = {
        "case": case,
        "client": case.client,
        "contacts_html": contact_items_html(page.contacts),
        "points": page.points,
        "points_html": timeline_points_html(page.points),
        "link_worker": page.link_worker,
        "what_matters": page.what_matters,
        "plan_version": page.plan_version,
        "visits": page.visits,
        "connections": page.connections,
        "referral_id": page.referral_id,
        "links": {"client": object_url("clients:client", case.client_id)}
        | {name: object_url(f"clients:{name}", case.pk) for name in CASE_LINKS},
        "weeks_left": selectors.weeks_left(case.window_end),
        "can_write": case.service_id in access.service_ids(*selectors.WRITE_ROLES),
        "is_manager": case.service_id in access.service_ids(Role.SERVICE_MANAGER),
    }
    return render(request, "clients/case.html", context)


@role_required(*selectors.WRITE_ROLES)
def contact_new(request: HttpRequest, case_id: UUID) -> HttpResponse:
    if request.method == "POST":
        # Logging a contact needs the case's state and dates (contact_log's checks), not its person, worker and
        # service or the counts and alerts its form page shows (fetched only if the form has to be shown again):
        # a link worker logs several a day, on a phone, after each call.
        case = selectors.case_for_user(
            request.user,
            case_id,
            write=True,
            cases=Case.objects.only("id", "service_id", "status", "start_date", "client_id", "link_worker_id"),
            kept_as="clients.case_to_log_a_contact",
        )
    else:
        case = selectors.case_for_user(request.user, case_id, write=True)
    form = forms.ContactForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = {
                f: form.cleaned_data[f]
                for f in ("at", "method", "attempted_only", "notes", "next_step", "follow_up_on")
            }
            data["duration_minutes"] = form.cleaned_data.get("duration_minutes") or 0
            try:
                contact = services.contact_log(case=case, by=request.user, **data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                audit_record(request=request, action=Action.CREATE, obj=contact, summary="Contact logged")
                counted = services.contacts_counted(case)
                what = "Attempt logged" if contact.attempted_only else f"Contact {counted} of 6 to 12 logged"
                messages.success(request, what)
                return redirect("clients:case", case.pk)
        case = selectors.case_for_user(request.user, case_id, write=True)
        return render(
            request, "clients/contact_form.html", {"case": case, "client": case.client, "form": form}, status=400
        )
    return render(request, "clients/contact_form.html", {"case": case, "client": case.client, "form": form})


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@role_required(*selectors.WRITE_ROLES)
def what_matters(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    record = WhatMatters.objects.filter(case=case).first()
    fields = services.WHAT_MATTERS_FIELDS
    if request.method == "POST":
        form = forms.WhatMattersForm(request.POST)
        if form.is_valid():
            try:
                services.what_matters_save(
                    case=case,
                    by=request.user,
                    expected_version=form.cleaned_data["version"],
                    **{f: form.cleaned_data[f] for f in fields},
                )
            except services.ConcurrentEdit as error:
                form.add_error(None, error)
            else:
                audit_record(request=request, action=Action.UPDATE, obj=case, summary="What matters updated")
                messages.success(request, "What matters to them is saved")
                return redirect("clients:case", case.pk)
        return render(
            request, "clients/what_matters.html", {"case": case, "client": case.client, "form": form}, status=400
        )
    initial = {f: getattr(record, f) for f in fields} if record else {}
    initial["version"] = record.version if record else 0
    form = forms.WhatMattersForm(initial=initial)
    return render(request, "clients/what_matters.html", {"case": case, "client": case.client, "form": form})


def _lifecycle(
    request: HttpRequest,
    case_id: UUID,
    form_class: Any,
    template: str,
    act: Any,
    done: str,
    *,
    manager_only: bool = False,
    **form_kwargs: Any,
) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    if manager_only and case.service_id not in access_for(request.user).service_ids(Role.SERVICE_MANAGER):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    kwargs = {k: (v(case) if callable(v) else v) for k, v in form_kwargs.items()}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            act(case, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            audit_record(request=request, action=Action.UPDATE, obj=case, summary=done)
            messages.success(request, done)
            return redirect("clients:case", case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"case": case, "client": case.client, "form": form}, status=status)


@role_required(*selectors.WRITE_ROLES)
def pause(request: HttpRequest, case_id: UUID) -> HttpResponse:
    return _lifecycle(
        request,
        case_id,
        forms.PauseForm,
        "clients/case_pause.html",
        lambda case, d: services.case_pause(case=case, by=request.user, reason=d["reason"], on=timezone.localdate()),
        "Case paused",
    )


@require_POST
@role_required(*selectors.WRITE_ROLES)
def resume(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    try:
        services.case_resume(case=case, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit_record(request=request, action=Action.UPDATE, obj=case, summary="Case resumed")
        messages.success(request, "Case resumed")
    return redirect("clients:case", case.pk)


@role_required(*selectors.WRITE_ROLES)
def extend(request: HttpRequest, case_id: UUID) -> HttpResponse:
    return _lifecycle(
        request,
        case_id,
        forms.ExtendForm,
        "clients/case_extend.html",
        lambda case, d: services.case_extend(case=case, by=request.user, weeks=d["weeks"], reason=d["reason"]),
        "Support window extended",
    )


@role_required(Role.SERVICE_MANAGER)
def reassign(request: HttpRequest, case_id: UUID) -> HttpResponse:
    return _lifecycle(
        request,
        case_id,
        forms.ReassignForm,
        "clients/case_reassign.html",
        lambda case, d: services.case_reassign(case=case, by=request.user, to=d["to"], reason=d["reason"]),
        "Case reassigned",
        manager_only=True,
        workers=lambda case: selectors.team_workers(user=request.user).exclude(pk=case.link_worker_id),
    )
