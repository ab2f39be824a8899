"""Coded events for the GP record: practice staff see what to record (SNOMED CT), download it for a bulk import,
and mark it recorded. Only staff of GP practices (referrers there); each sees their own practices' referrals.

Downloading does not mark anything recorded: a file may be downloaded and never imported, and an event marked
recorded leaves the list for good. Staff mark events once they are in the GP record; the page says so."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone

from linkwork.accounts.models import Organisation
from linkwork.audit.models import Action, AuditEvent
from linkwork.audit.services import audit_record, client_ip
from linkwork.pagination import paginate
from linkwork.spreadsheets import safe_cell
from referrals import coded_event_services, coded_events, forms

PER_PAGE = 100
AUDIT_TYPE = "referrals.coded_events"
CSV_HEADER = [
    "NHS number",
    "Event date",
    "SNOMED CT concept ID",
    "Term",
    "Free text",
    "Date of birth",
    "Family name",
    "Given name",
    "Practice ODS code",
    "Referral reference",
]


def practice_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed out: to sign in. Signed in without a referrer role in a GP practice: 403. Otherwise the view gets
    the user's practices (before any method check, so others are refused the same way whatever they send)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        practices = coded_events.practices_for_staff(request.user)
        return view(request, practices, *args, **kwargs)

    return wrapped


def _scope(query: Mapping[str, str], practices: list[Organisation]) -> tuple[list[Organisation], Organisation | None]:
    """The practices to show: the one chosen with ``?practice=`` (404 if it is not the user's), or all."""
    chosen = query.get("practice", "")
    if not chosen:
        return practices, None
    for practice in practices:
        if str(practice.pk) == chosen:
            return [practice], practice
    raise Http404


def _audit(request: HttpRequest, action: str, summary: str, about: Sequence[tuple[UUID, str]]) -> None:
    """One event for what was done, and one per referral (id, what) so each person's audit trail says who saw,
    downloaded or marked their details (two queries however many)."""
    audit_record(request=request, action=action, object_type=AUDIT_TYPE, summary=summary[:300])
    if not about:
        return
    actor = request.user
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=getattr(actor, "email", ""),
            action=Action(action),
            object_type="referrals.referral",
            object_id=str(referral_id),
            summary=what[:300],
            path=request.get_full_path()[:300],
            ip_address=client_ip(request),
        )
        for referral_id, what in about
    )


def _names(practices: list[Organisation]) -> str:
    return ", ".join(p.name for p in practices)


@practice_staff_required
def events(request: HttpRequest, all_practices: list[Organisation]) -> HttpResponse:
    """The list (pending by default, ``?show=all`` for recorded ones too); a POST marks the ticked ones recorded.
    The form posts to this URL with the list's query string, so an error shows the same list, ticks kept."""
    practices, chosen = _scope(request.GET, all_practices)
    practice_ids = [p.pk for p in practices]
    show_all = request.GET.get("show") == "all"
    posted = request.method == "POST"
    form = forms.GPRecordingMarkForm(request.POST if posted else None)
    if posted and form.is_valid():
        ids = form.cleaned_data["referral"]
        try:
            marked = coded_event_services.gp_recording_mark(
                referral_ids=ids, practice_ids=practice_ids, by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _audit(
                request,
                Action.UPDATE,
                f"Marked {marked} coded event(s) as recorded in the GP record: {_names(practices)}",
                [(i, "Coded event marked as recorded in the GP record") for i in ids],
            )
            if marked:
                messages.success(request, f"{marked} event{pluralize(marked)} marked as recorded in the GP record")
            else:
                messages.info(request, "These events were already marked as recorded in the GP record")
            return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    rows = coded_events.coded_event_rows(practice_ids=practice_ids, pending_only=not show_all)
    pagination = paginate(request, rows, per_page=PER_PAGE)
    shown = [coded_events.coded_event_from_row(row) for row in pagination.page.object_list]
    if not posted:
        what = "all coded events" if show_all else "coded events to record"
        _audit(
            request,
            Action.VIEW,
            f"Viewed {what} for the GP record: {_names(practices)}",
            [(e.referral_id, f"Coded event for the GP record viewed (SNOMED CT {e.code})") for e in shown],
        )
    context = {
        "all_practices": all_practices,
        "practices": practices,
        "chosen": chosen,
        "show_all": show_all,
        "events": shown,
        "pagination": pagination,
        "form": form,
        "any_pending": any(not e.recorded for e in shown),
        "ticked": set(request.POST.getlist("referral")) if posted else set(),
        "query": request.GET.urlencode(),
    }
    return render(request, "referrals/coded_events.html", context, status=400 if posted else 200)


@practice_staff_required
def events_csv(request: HttpRequest, all_practices: list[Organisation]) -> HttpResponse:
    """The events waiting to be recorded, one row each, for a clinical system's bulk import. Marks nothing."""
    practices, chosen = _scope(request.GET, all_practices)
    found = coded_events.coded_events(practice_ids=[p.pk for p in practices], pending_only=True)
    today = timezone.localdate()
    ods = chosen.ods_code if chosen else (practices[0].ods_code if len(practices) == 1 else "")
    filename = f"coded-events-{ods + '-' if ods else ''}{today:%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a byte order mark, so Excel reads the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for e in found:
        writer.writerow(
            [
                safe_cell(cell)
                for cell in (
                    e.nhs_number,
                    f"{e.event_date:%Y-%m-%d}",
                    e.code,
                    e.display,
                    " ".join(e.summary.split()),  # one line: import tools read a row per line
                    f"{e.date_of_birth:%Y-%m-%d}",
                    e.family_name,
                    e.given_name,
                    e.practice_ods_code,
                    e.reference,
                )
            ]
        )
    _audit(
        request,
        Action.EXPORT,
        f"Downloaded {len(found)} coded event(s) to record in the GP record: {_names(practices)}",
        [(e.referral_id, f"Coded event for the GP record downloaded (SNOMED CT {e.code})") for e in found],
    )
    return response
