"""The audit trail for service managers, per user: who in my service did what, and a download of it.

The per-person view ("who has looked at this record") needs the client's cases, referrals and measures, so it
lives in ``outcomes.audit_views`` (outcomes may read every app); it reuses the filters, the page of events and
the downloads from here. Looking at or downloading the trail is itself audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from linkwork.accounts.access import role_required
from linkwork.audit import exports, forms, selectors
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.pagination import Pagination, paginate


def filter_form(request: HttpRequest) -> forms.AuditFilterForm:
    """The filters from the query string (unbound when none are given, so a first visit shows everything)."""
    given = any(request.GET.get(key) for key in request.GET if key not in ("page", "format"))
    return forms.AuditFilterForm(request.GET if given else None)


def download_query(request: HttpRequest) -> str:
    """The filters, without page or button, for the download links."""
    query = request.GET.copy()
    for key in ("page", "apply", "format"):
        query.pop(key, None)
    return query.urlencode()


def event_page(request: HttpRequest, events: Any, *, links: dict[str, str] | None = None) -> Pagination:
    """One page of events, each labelled with its record (and linked when ``links`` names a page for its type)."""
    pagination = paginate(request, events)
    for event in pagination.page.object_list:
        event.record_label = selectors.object_label(event.object_type)
        url_name = (links or {}).get(event.object_type)
        event.record_url = reverse(url_name, args=[event.object_id]) if url_name and event.object_id else ""
    return pagination


def export_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "csv")
    return fmt if fmt in exports.FORMATS else "csv"


def export_name(who: str) -> str:
    return f"linkwork-audit-{who}-{timezone.localdate().isoformat()}"


@role_required(*selectors.AUDIT_ROLES)
def users(request: HttpRequest) -> HttpResponse:
    """The people with a role in the manager's services, each linking to what they did."""
    people = paginate(request, selectors.users_for_audit(user=request.user))
    audit_record(
        request=request,
        action=Action.VIEW,
        object_type="audit.user_list",
        summary=f"Audit trail: list of users ({people.page.paginator.count})",
    )
    return render(request, "audit/users.html", {"pagination": people})


@role_required(*selectors.AUDIT_ROLES)
def user_events(request: HttpRequest, user_id: UUID) -> HttpResponse:
    """Everything one person did, newest first, filtered by date and action. 404 for people outside the
    manager's services."""
    person = selectors.user_for_audit(request.user, user_id)
    form = filter_form(request)
    context: dict[str, Any] = {"person": person, "form": form, "pagination": None}
    if form.is_bound and not form.is_valid():
        return render(request, "audit/user.html", context, status=400)
    filters = form.to_filter()
    audit_record(
        request=request,
        action=Action.VIEW,
        obj=person,
        summary=f"Audit trail of {person.full_name} viewed ({filters.describe()})"[:300],
    )
    context["pagination"] = event_page(request, selectors.events_by(actor=person, filters=filters))
    context["download_query"] = download_query(request)
    return render(request, "audit/user.html", context)


@role_required(*selectors.AUDIT_ROLES)
def user_export(request: HttpRequest, user_id: UUID) -> HttpResponse:
    """The filtered events of one person as CSV (default) or XLSX (``?format=xlsx``)."""
    person = selectors.user_for_audit(request.user, user_id)
    form = filter_form(request)
    if form.is_bound and not form.is_valid():
        context = {"person": person, "form": form, "pagination": None}
        return render(request, "audit/user.html", context, status=400)
    filters = form.to_filter()
    events = selectors.events_by(actor=person, filters=filters)
    fmt = export_format(request)
    recorded = audit_record(
        request=request,
        action=Action.EXPORT,
        obj=person,
        summary=f"Audit trail of {person.full_name} downloaded as {fmt.upper()}: "
        f"{events.count()} events, {filters.describe()}"[:300],
    )
    # The file is the trail as it stood when asked for: without this download's own event (the count above).
    return exports.download(events.exclude(pk=recorded.pk), fmt=fmt, filename=export_name("user"), title="Audit trail")
