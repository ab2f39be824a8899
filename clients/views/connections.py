"""Connecting a person to community services from their case: find, suggest, refer, follow up."""

from __future__ import annotations

from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients import selectors, services
from clients.models import Connection, ConnectionStatus
from community import selectors as directory
from community.views.directory import run_search
from linkwork.accounts.access import role_required
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.forms import Submit


@role_required(*selectors.WRITE_ROLES)
def find_service(request: HttpRequest, case_id: UUID) -> HttpResponse:
    """The directory search from a case: distance from the person's home where their postcode is known."""
    case = selectors.case_for_user(request.user, case_id, write=True)
    form, result = run_search(request, postcode=case.client.postcode) if request.GET else run_search(request)
    if result is None:
        form = form.__class__(initial={"postcode": case.client.postcode})
    return render(
        request,
        "clients/find_service.html",
        {
            "case": case,
            "client": case.client,
            "form": form,
            "result": result,
            "today": timezone.localdate(),
        },
    )


@require_POST
@role_required(*selectors.WRITE_ROLES)
def connect(request: HttpRequest, case_id: UUID, service_id: UUID) -> HttpResponse:
    case = selectors.case_for_user(request.user, case_id, write=True)
    service = directory.service_for_user(request.user, service_id)
    try:
        connection = services.connection_create(case=case, by=request.user, service=service)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:case", case.pk)
    audit_record(request=request, action=Action.CREATE, obj=connection, summary=f"Suggested {service.name}")
    messages.success(request, f"{service.name} suggested to {case.client.known_as}")
    return redirect("clients:case", case.pk)


class MoveForm(django_forms.Form):
    status = django_forms.ChoiceField(
        label="What happened?",
        choices=ConnectionStatus.choices,
        widget=django_forms.RadioSelect,
        error_messages={"required": "Select what happened"},
    )
    reason = django_forms.CharField(label="Why (if it stopped or was not taken up)", max_length=300, required=False)
    qa_override_reason = django_forms.CharField(
        label="Reason for referring although the checks are not complete",
        max_length=300,
        required=False,
        help_text="Only needed when the service's quality checks are incomplete or overdue.",
    )

    def __init__(self, *args: object, current: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        allowed = services.CONNECTION_NEXT.get(current, set())
        self.fields["status"].choices = [(v, label) for v, label in ConnectionStatus.choices if v in allowed]
        from crispy_forms.helper import FormHelper

        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save"))


@role_required(*selectors.WRITE_ROLES)
def move(request: HttpRequest, connection_id: UUID) -> HttpResponse:
    connection = Connection.objects.select_related("case__client", "service__provider").filter(pk=connection_id).first()
    if connection is None:
        raise Http404
    case = selectors.case_for_user(request.user, connection.case_id, write=True)  # 404/403 as for the case
    form = MoveForm(request.POST or None, current=connection.status)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_move(connection=connection, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field, errors)
            else:
                form.add_error(None, error)
        else:
            audit_record(request=request, action=Action.UPDATE, obj=connection, summary=form.cleaned_data["status"])
            messages.success(
                request, f"{connection.service.name}: {ConnectionStatus(form.cleaned_data['status']).label}"
            )
            return redirect("clients:case", case.pk)
    return render(
        request,
        "clients/connection_move.html",
        {
            "case": case,
            "client": case.client,
            "connection": connection,
            "form": form,
            "history": connection.events.select_related("by"),
        },
        status=400 if request.method == "POST" else 200,
    )
