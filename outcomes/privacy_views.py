"""Data protection requests about one person, for the service managers of their service: the subject access
export (one download, PDF and JSON) and erasure on request. Everything here is audited."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from linkwork.accounts.access import role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from outcomes import privacy
from outcomes.privacy_forms import ErasureForm


@role_required(Role.SERVICE_MANAGER)
def person(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """What can be done for the person: download everything held about them, or erase their details."""
    client = privacy.client_for_manager(request.user, client_id)
    audit_record(request=request, action=Action.VIEW, obj=client, summary="Data protection requests page")
    context = {
        "client": client,
        "status": privacy.retention_status(client),
        "years": privacy.retention_years(),
        "referral_count": privacy.referrals_of(client).count(),
    }
    return render(request, "outcomes/privacy/person.html", context)


@require_POST
@role_required(Role.SERVICE_MANAGER)
def export(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """A zip file with everything held about the person, as a PDF to send them and as JSON."""
    client = privacy.client_for_manager(request.user, client_id)
    document = privacy.build_subject_access(client=client, by=request.user)
    payload = privacy.subject_access_zip(document)
    audit_record(request=request, action=Action.EXPORT, obj=client, summary="Subject access export (PDF and JSON)")
    response = HttpResponse(payload, content_type="application/zip")
    filename = f"subject-access-{str(client.pk)[:8]}-{timezone.localdate().isoformat()}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.SERVICE_MANAGER)
def erase(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """Erase the person's details on request, where the law allows it: refused while a case is open."""
    client = privacy.client_for_manager(request.user, client_id)
    status = privacy.retention_status(client)
    context = {"client": client, "status": status}
    if client.anonymised_at is not None:
        messages.info(request, "This record has already been anonymised")
        return redirect("privacy:person", client.pk)
    if status.erasure_refusal:
        return render(request, "outcomes/privacy/erase.html", context, status=400 if request.method == "POST" else 200)
    if request.method != "POST":
        return render(request, "outcomes/privacy/erase.html", {**context, "form": ErasureForm()})
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            privacy.client_erase(
                client=client,
                by=request.user,
                basis=form.cleaned_data["basis"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The person's details have been erased. Coded data kept for reports remains.")
            return redirect("privacy:person", client.pk)
    return render(request, "outcomes/privacy/erase.html", {**context, "form": form}, status=400)
