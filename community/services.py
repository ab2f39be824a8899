"""Writes to the community directory: services, quality assurance, bulk import, and group support."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from community.models import (
    CommunityService,
    DevelopmentNeed,
    GroupFeedback,
    Opportunity,
    PostcodeArea,
    Provider,
    Schedule,
)
from linkwork.accounts.models import Organisation

SERVICE_FIELDS = (
    "name",
    "description",
    "categories",
    "url",
    "email",
    "phone",
    "contact_name",
    "minimum_age",
    "maximum_age",
    "eligibility",
    "is_free",
    "cost_amount",
    "cost_description",
    "schedule",
    "how_to_join",
    "capacity",
    "accessibility",
    "languages",
    "address",
    "postcode",
    "status",
    "is_public",
)


def _locate(service: CommunityService) -> None:
    """Coordinates from the postcode lookup, when one is loaded and the service has none of its own."""
    if service.postcode and service.latitude is None:
        area = PostcodeArea.objects.filter(postcode=PostcodeArea.key(service.postcode)).first()
        if area and area.latitude is not None:
            service.latitude, service.longitude = area.latitude, area.longitude


@transaction.atomic
def service_save(
    *,
    provider: Provider,
    by: Any,
    service: CommunityService | None = None,
    days: list[str] | None = None,
    opens_at: Any = None,
    closes_at: Any = None,
    **fields: Any,
) -> CommunityService:
    """Create or update a directory entry from whitelisted fields, with one weekly schedule row."""
    unknown = set(fields) - set(SERVICE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected service fields: {sorted(unknown)}")
    service = service or CommunityService(provider=provider)
    for name, value in fields.items():
        setattr(service, name, value)
    if "postcode" in fields:
        service.latitude = service.longitude = None
    _locate(service)
    service.save()
    if days is not None:
        service.schedules.all().delete()
        if days:
            Schedule.objects.create(
                service=service, byday=days, opens_at=opens_at, closes_at=closes_at, description=service.schedule
            )
    return service


@transaction.atomic
def qa_record(
    *, service: CommunityService, by: Any, safeguarding_policy_seen: bool, dbs_check: str, insurance_seen: bool
) -> CommunityService:
    """Record a quality check today, by ``by``; the next review falls due a year later by default."""
    service.safeguarding_policy_seen = safeguarding_policy_seen
    service.dbs_check = dbs_check
    service.insurance_seen = insurance_seen
    service.last_checked_on = timezone.localdate()
    service.last_checked_by = by
    service.save(
        update_fields=[
            "safeguarding_policy_seen",
            "dbs_check",
            "insurance_seen",
            "last_checked_on",
            "last_checked_by",
            "updated_at",
        ]
    )
    return service


# --- Bulk import --------------------------------------------------------------------------------------------
IMPORT_COLUMNS = [
    "organisation",
    "name",
    "description",
    "categories",
    "who_it_is_for",
    "minimum_age",
    "maximum_age",
    "free",
    "cost",
    "cost_description",
    "days",
    "opens_at",
    "closes_at",
    "schedule",
    "how_to_join",
    "capacity",
    "accessibility",
    "languages",
    "address",
    "postcode",
    "contact_name",
    "email",
    "phone",
    "website",
]


@dataclass
class ImportReport:
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


# More rows than a directory could hold: stops a huge sheet tying up a web worker.
MAX_IMPORT_ROWS = 2000


def read_rows(*, filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX upload as dicts keyed by the (lower-cased) header row. Reads at most
    MAX_IMPORT_ROWS + 1 rows under the header (``import_services`` refuses a file with more)."""
    limit = MAX_IMPORT_ROWS + 2  # the header, and one row too many to tell that there are too many
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        values = [
            ["" if v is None else str(v).strip() for v in row]
            for row in itertools.islice(sheet.iter_rows(values_only=True), limit)
        ]
    else:
        text = content.decode("utf-8-sig")
        values = [[v.strip() for v in row] for row in itertools.islice(csv.reader(io.StringIO(text)), limit)]
    if not values:
        return []
    header = [h.strip().lower() for h in values[0]]
    return [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]


@transaction.atomic
def import_services(*, owner: Organisation, rows: list[dict[str, str]], by: Any) -> ImportReport:
    """Validate every row first; import all of them or none (a row-by-row error report otherwise)."""
    from community.forms import ImportRowForm

    report = ImportReport(rows=len(rows))
    if not rows:
        report.errors.append((1, "The file has no rows under the header"))
        return report
    if len(rows) > MAX_IMPORT_ROWS:
        report.errors.append((1, f"The file has more than {MAX_IMPORT_ROWS} rows: split it into smaller files"))
        return report
    cleaned = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        form = ImportRowForm(row)
        if form.is_valid():
            cleaned.append(form.cleaned_data)
        else:
            for name, messages in form.errors.items():
                label = "Row" if name == "__all__" else f"Column {name}"
                report.errors.extend((number, f"{label}: {m}") for m in messages)
    if report.errors:
        return report
    providers: dict[str, Provider] = {p.name.lower(): p for p in Provider.objects.filter(service=owner)}
    for data in cleaned:
        key = data["organisation"].lower()
        provider = providers.get(key) or Provider.objects.create(service=owner, name=data["organisation"])
        providers[key] = provider
        service_save(
            provider=provider,
            by=by,
            days=data["days"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            **data["fields"],
        )
        report.created += 1
    return report


def template_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(IMPORT_COLUMNS)
    writer.writerow(
        [
            "Riverside Walking Friends",
            "Wednesday health walk",
            "A gentle walk with a cuppa after.",
            "physical_activity; nature",
            "Adults of all abilities",
            "18",
            "",
            "yes",
            "",
            "",
            "WE",
            "10:00",
            "11:30",
            "Wednesdays 10am",
            "drop_in",
            "open",
            "step_free; public_transport",
            "English",
            "Riverside Park gates",
            "LS1 4AP",
            "Jo Walker",
            "jo@example.org",
            "01632 960001",
            "https://example.org/walks",
        ]
    )
    return buffer.getvalue()


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Services"
    for row in csv.reader(io.StringIO(template_csv())):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Supporting community groups --------------------------------------------------------------------------------
@transaction.atomic
def need_record(*, provider: Provider, by: Any, kind: str, description: str, helped_by: str = "") -> DevelopmentNeed:
    return DevelopmentNeed.objects.create(
        provider=provider, kind=kind, description=description, helped_by=helped_by, recorded_by=by
    )


@transaction.atomic
def need_update(*, need: DevelopmentNeed, by: Any, status: str, outcome: str, helped_by: str) -> DevelopmentNeed:
    need.status, need.outcome, need.helped_by = status, outcome, helped_by
    need.save(update_fields=["status", "outcome", "helped_by", "updated_at"])
    return need


@transaction.atomic
def opportunity_add(*, service: Organisation, by: Any, **fields: Any) -> Opportunity:
    return Opportunity.objects.create(service=service, created_by=by, **fields)


@transaction.atomic
def feedback_record(*, provider: Provider, by: Any, note: str, received_on: Any) -> GroupFeedback:
    return GroupFeedback.objects.create(provider=provider, note=note, received_on=received_on, recorded_by=by)
