"""Who has looked at this record: the audit trail of one person, for the service managers of their service.

The page and the download reuse ``linkwork.audit`` (filters, a page of events, CSV and XLSX); what is here is
the part that needs to know which cases, contacts, referrals and measures are the person's. Looking at or
downloading it is itself audited, on the person's record."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkwork.accounts.access import role_required
from linkwork.audit import exports
from linkwork.audit import selectors as audit_selectors
from linkwork.audit import views as audit_views
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from outcomes import audit_selectors as selectors

# Records with a page of their own, by object type: the audit rows link to them.
RECORD_PAGES = {
    "clients.client": "clients:client",
    "clients.case": "clients:case",
    "clients.homevisit": "clients:visit",
    "clients.safeguardingconcern": "supervision:concern",
    "referrals.referral": "referrals:detail",
    "outcomes.supervisionsession": "supervision:session",
}


@role_required(*audit_selectors.AUDIT_ROLES)
def person(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """Every event on the person's record and on what belongs to them, newest first: who, when, what, from
    where. A constant number of queries however long the trail."""
    client = selectors.client_for_audit(request.user, client_id)
    form = audit_views.filter_form(request)
    context: dict[str, Any] = {"client": client, "form": form, "pagination": None}
    if form.is_bound and not form.is_valid():
        return render(request, "audit/person.html", context, status=400)
    filters = form.to_filter()
    audit_record(
        request=request,
        action=Action.VIEW,
        obj=client,
        summary=f"Who has looked at this record ({filters.describe()})"[:300],
    )
    events = audit_selectors.events_about(targets=selectors.person_audit_targets(client), filters=filters)
    context["pagination"] = audit_views.event_page(request, events, links=RECORD_PAGES)
    context["download_query"] = audit_views.download_query(request)
    return render(request, "audit/person.html", context)


@role_required(*audit_selectors.AUDIT_ROLES)
def person_export(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """The person's filtered audit trail as CSV (default) or XLSX (``?format=xlsx``)."""
    client = selectors.client_for_audit(request.user, client_id)
    form = audit_views.filter_form(request)
    if form.is_bound and not form.is_valid():
        context = {"client": client, "form": form, "pagination": None}
        return render(request, "audit/person.html", context, status=400)
    filters = form.to_filter()
    fmt = audit_views.export_format(request)
    events = audit_selectors.events_about(targets=selectors.person_audit_targets(client), filters=filters)
    recorded = audit_record(
        request=request,
        action=Action.EXPORT,
        obj=client,
        summary=f"Audit trail of this record downloaded as {fmt.upper()}: "
        f"{events.count()} events, {filters.describe()}"[:300],
    )
    # The file is the trail as it stood when asked for: without this download's own event (the count above).
    return exports.download(
        events.exclude(pk=recorded.pk), fmt=fmt, filename=audit_views.export_name("person"), title="Audit trail"
    )
