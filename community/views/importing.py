"""Bulk import of directory entries from a spreadsheet, with a template and a row-by-row error report."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from community import forms, selectors, services
from linkwork.accounts.access import role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


@role_required(Role.SERVICE_MANAGER)
def import_services(request: HttpRequest) -> HttpResponse:
    owners = selectors.access_for(request.user).services(Role.SERVICE_MANAGER)
    posted = request.method == "POST"  # bound even when the file was dropped for its size and nothing else came
    form = forms.ImportForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        too_large=getattr(request, "upload_too_large", False),
    )
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = services.read_rows(filename=upload.name, content=upload.read())
        except Exception:  # noqa: BLE001 - an unreadable file is the user's to fix, not a crash
            form.add_error("file", "The file could not be read: save it as CSV (UTF-8) or .xlsx and try again")
        else:
            report = services.import_services(owner=owners[0], rows=rows, by=request.user)
            if report.ok:
                audit_record(
                    request=request,
                    action=Action.CREATE,
                    object_type="community.import",
                    summary=f"Imported {report.created} services",
                )
                messages.success(request, f"Imported {report.created} services")
                return redirect("community:directory")
    status = 400 if request.method == "POST" else 200
    return render(request, "community/import.html", {"form": form, "report": report}, status=status)


@role_required(Role.SERVICE_MANAGER, Role.LINK_WORKER)
def import_template(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            services.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="linkwork-directory-template.xlsx"'
        return response
    response = HttpResponse(services.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="linkwork-directory-template.csv"'
    return response
