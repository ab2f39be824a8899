"""Writes to clients and cases. Higher layers (referrals) call these; nothing here knows about referrals."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Case, CaseStatus, Client, ClosureReason
from linkwork.accounts.models import Organisation

CLIENT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "address",
    "postcode",
    "phone",
    "email",
)


@transaction.atomic
def client_create(*, service: Organisation, practice: Organisation | None = None, **fields: Any) -> Client:
    """A new client record in ``service`` from the whitelisted ``CLIENT_FIELDS``."""
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected client fields: {sorted(unknown)}")
    return Client.objects.create(service=service, practice=practice, **fields)


@transaction.atomic
def case_open(*, client: Client, service: Organisation, link_worker: Any, start: date) -> Case:
    """Open an active case for ``client`` with the service's support window."""
    if client.service_id != service.pk:
        raise ValidationError("The client belongs to another service")
    return Case.objects.create(
        client=client,
        service=service,
        link_worker=link_worker,
        start_date=start,
        window_end=Case.window_end_for(start, service.support_window_weeks),
    )


@transaction.atomic
def case_close(*, case: Case, on: date, reason: str, summary: str) -> Case:
    """Close an open case with a coded reason and a summary written for the GP. Raises ValidationError if
    it is already closed (the row is locked, so two people closing at once cannot both succeed)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status == CaseStatus.CLOSED:
        raise ValidationError("This case has already been closed")
    if reason not in ClosureReason.values:
        raise ValidationError("Choose why the case is closing")
    locked.status = CaseStatus.CLOSED
    locked.closed_on = max(on, locked.start_date)
    locked.closure_reason = reason
    locked.closing_summary = summary
    locked.save(update_fields=["status", "closed_on", "closure_reason", "closing_summary", "updated_at"])
    return locked
