"""Wellbeing measures on a case: choose a measure, take the questionnaire, record GP use before and after.

Link workers and service managers of the case's service write; supervisors see the results on the case page;
anyone else gets 404 (another service) or 403 (no role for this)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format

from clients import selectors as case_selectors
from clients.models import Case, CaseStatus
from linkwork.accounts.access import role_required
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from outcomes import forms, measure_selectors, scoring, services
from outcomes.models import Assessment, Instrument, Timepoint

WRITE_ROLES = case_selectors.WRITE_ROLES


def _add_errors(form: Any, error: ValidationError, names: dict[str, str | None] | None = None) -> None:
    """Put a service's ValidationError on the form: on the field it names (renamed through ``names``), or
    above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        name = (names or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def _recorded_hints(recorded: list[Assessment]) -> dict[str, str]:
    """ "Baseline taken 3 March 2026" under each measure already started, so nobody starts a second."""
    hints: dict[str, list[str]] = {}
    for assessment in recorded:
        taken = date_format(assessment.taken_on, "j F Y")
        hints.setdefault(str(assessment.instrument_id), []).append(
            f"{assessment.get_timepoint_display()} taken {taken}"
        )
    return {pk: "; ".join(parts) for pk, parts in hints.items()}


@role_required(*WRITE_ROLES)
def choose(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case = case_selectors.case_for_user(request.user, case_id, write=True)
    recorded = measure_selectors.recorded_for_case(case)
    form = forms.ChooseForm(
        request.POST if request.method == "POST" else None,
        instruments=services.instruments_offered(case.service),
        hints=_recorded_hints(recorded),
        initial={"timepoint": measure_selectors.suggested_timepoint(recorded)},
    )
    context = {"case": case, "client": case.client, "form": form, "open": services.measures_open(case)}
    if request.method != "POST":
        return render(request, "outcomes/measures/choose.html", context)
    if form.is_valid():
        instrument, timepoint = form.cleaned_data["instrument"], form.cleaned_data["timepoint"]
        try:
            services.assessment_check_new(case=case, instrument=instrument, timepoint=timepoint)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect("measures:record", case.pk, instrument.pk, timepoint)
    return render(request, "outcomes/measures/choose.html", context, status=400)


@role_required(*WRITE_ROLES)
def record(request: HttpRequest, case_id: UUID, instrument_id: UUID, timepoint: str) -> HttpResponse:
    case = case_selectors.case_for_user(request.user, case_id, write=True)
    if timepoint not in Timepoint.values:
        raise Http404
    instrument = measure_selectors.instrument_for_case(case, instrument_id)
    items = list(instrument.items.all())
    form = forms.AssessmentForm(request.POST if request.method == "POST" else None, instrument=instrument, items=items)
    context = {
        "case": case,
        "client": case.client,
        "form": form,
        "instrument": instrument,
        "timepoint": Timepoint(timepoint),
        "summed": scoring.is_summed(instrument),
    }
    if request.method != "POST":
        try:
            services.assessment_check_new(case=case, instrument=instrument, timepoint=timepoint)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("measures:choose", case.pk)
        return render(request, "outcomes/measures/record.html", context)
    if form.is_valid():
        try:
            assessment = services.assessment_record(
                case=case,
                by=request.user,
                instrument=instrument,
                timepoint=timepoint,
                taken_on=form.cleaned_data["taken_on"],
                mode=form.cleaned_data["mode"],
                answers=form.answers(),
            )
        except ValidationError as error:
            _add_errors(form, error, {item.code: form.field_for(item.code) for item in items})
        else:
            what = f"{instrument.short_name} {assessment.get_timepoint_display().lower()}"
            audit_record(request=request, action=Action.CREATE, obj=assessment, summary=f"{what} recorded")
            messages.success(request, _saved(what, instrument, assessment, len(items)))
            return redirect("clients:case", case.pk)
    return render(request, "outcomes/measures/record.html", context, status=400)


def _saved(what: str, instrument: Instrument, assessment: Assessment, item_count: int) -> str:
    if not scoring.is_summed(instrument):
        return f"{what} saved"
    if assessment.score is None:
        missing = item_count - len(assessment.answers)
        return f"{what} saved. It has no score: {missing} question{'s' if missing != 1 else ''} not answered"
    return f"{what} saved: score {scoring.number(assessment.score)}"


@role_required(*WRITE_ROLES)
def system_use(request: HttpRequest, case_id: UUID) -> HttpResponse:
    case: Case = case_selectors.case_for_user(request.user, case_id, write=True)
    existing = measure_selectors.system_use_for_case(case)
    initial: dict[str, Any] = {}
    for period, use in existing.items():
        initial[f"{period}_gp"] = use.gp_appointments
        initial[f"{period}_ae"] = use.ae_attendances
    form = forms.SystemUseForm(
        request.POST if request.method == "POST" else None, closed=case.status == CaseStatus.CLOSED, initial=initial
    )
    context = {"case": case, "client": case.client, "form": form}
    if request.method != "POST":
        return render(request, "outcomes/measures/system_use.html", context)
    if form.is_valid():
        try:
            with transaction.atomic():
                for period, gp, ae in form.periods():
                    try:
                        services.system_use_record(
                            case=case, by=request.user, period=period, gp_appointments=gp, ae_attendances=ae
                        )
                    except ValidationError as error:
                        names = {"gp_appointments": f"{period}_gp", "ae_attendances": f"{period}_ae"}
                        _add_errors(form, error, names)
                        raise
        except ValidationError:
            pass
        else:
            audit_record(request=request, action=Action.UPDATE, obj=case, summary="GP and A&E use recorded")
            messages.success(request, "GP appointments and A&E attendances saved")
            return redirect("clients:case", case.pk)
    return render(request, "outcomes/measures/system_use.html", context, status=400)
