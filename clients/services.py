"""Writes to clients and cases. The clients issue adds contacts, plans and closure."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from clients.models import Case, Client
from linkwork.accounts.models import Organisation


@transaction.atomic
def case_open(*, client: Client, service: Organisation, link_worker: Any, start: date) -> Case:
    """Open an active case for ``client`` with the service's support window."""
    return Case.objects.create(
        client=client,
        service=service,
        link_worker=link_worker,
        start_date=start,
        window_end=Case.window_end_for(start, service.support_window_weeks),
    )
