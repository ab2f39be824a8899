"""SNOMED CT coded events for the GP record: what each practice is to record about the people it referred.

The PCN DES asks practices to record social prescribing in the GP record with national codes. Each referral a
practice made gives at most one event:

- accepted (and later closed): 871731000000106 *Referral to social prescribing service*, dated when the service
  accepted it. Once per episode: a second referral from the same practice merged into a case the practice's
  earlier referral already opened adds nothing (the GP record has the code for that episode);
- declined because the person declined: 871711000000103 *Social prescribing declined*, dated when declined. A
  referral the *service* declined (not eligible, needs a statutory service, no contact, a duplicate) is not the
  person declining social prescribing and gives no code.

The practice is the referral's ``source_organisation`` (a GP practice). The reader is not a request: the pages
pass the practices a member of staff works in, the API the practice its client acts for. Anything beyond the
code follows the person's choice (``clients.ShareWithGP``): the case's closing summary goes with the code only
when they chose ``summary`` and the case is closed; with ``codes`` or ``none`` the code (the outcome itself) is
listed with no text. That rule is applied in the database, so text the person did not agree to share is never
read out of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from clients.models import CaseStatus, ShareWithGP
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Organisation, OrganisationKind, Role
from referrals.models import (
    SNOMED_DECLINED,
    SNOMED_LABELS,
    SNOMED_REFERRED,
    DeclineReason,
    GPRecording,
    Referral,
    ReferralEvent,
    ReferralStatus,
)

ACCEPTED_STATUSES = (ReferralStatus.ACCEPTED, ReferralStatus.CLOSED)
# The decision each code records: one of these events per referral (a decision is made once).
DECISION_EVENTS = (ReferralEvent.Kind.ACCEPTED, ReferralEvent.Kind.MERGED, ReferralEvent.Kind.DECLINED)


@dataclass(frozen=True)
class CodedEvent:
    """One code for one person's GP record, with what the practice needs to find them."""

    referral_id: UUID
    reference: str
    code: str  # SNOMED CT concept id
    display: str  # its preferred term
    event_at: dt.datetime  # when the service accepted or the person declined (UTC)
    nhs_number: str  # 10 digits, or "" if neither the referral nor the client record has one
    given_name: str
    family_name: str
    date_of_birth: dt.date
    practice_id: UUID
    practice_name: str
    practice_ods_code: str
    service_name: str
    summary: str  # the closing summary, only if the person agreed to share it and the case is closed; else ""
    recorded_at: dt.datetime | None  # when the practice marked it recorded in the GP record
    recorded_by: str  # who did (their name), or ""

    @property
    def event_date(self) -> dt.date:
        """The event's date in the UK (what goes in the GP record)."""
        return timezone.localdate(self.event_at)

    @property
    def recorded(self) -> bool:
        return self.recorded_at is not None

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _code() -> Case:
    return Case(
        When(status__in=ACCEPTED_STATUSES, then=Value(SNOMED_REFERRED)),
        When(status=ReferralStatus.DECLINED, decline_reason=DeclineReason.PERSON_DECLINED, then=Value(SNOMED_DECLINED)),
        default=Value(""),
        output_field=CharField(),
    )


def _earlier_in_same_episode() -> Exists:
    """An earlier accepted referral from the same practice into the same case (the outer referral was merged)."""
    return Exists(
        Referral.objects.filter(
            case=OuterRef("case"),
            source_organisation=OuterRef("source_organisation"),
            status__in=ACCEPTED_STATUSES,
        ).filter(Q(decided_at__lt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk")))
    )


def coded_event_rows(
    *, practice_ids: Collection[UUID], pending_only: bool = True, since: dt.datetime | dt.date | None = None
) -> QuerySet[Any]:
    """The events as one query of dictionaries (for paging, counting, streaming); ``coded_events`` turns them
    into ``CodedEvent``. Oldest event first."""
    recording = GPRecording.objects.filter(referral=OuterRef("pk"), code=OuterRef("gp_code"))
    decision = ReferralEvent.objects.filter(referral=OuterRef("pk"), kind__in=DECISION_EVENTS).order_by("at", "id")
    rows = (
        Referral.objects.filter(
            source_organisation__in=list(practice_ids),
            source_organisation__kind=OrganisationKind.PRACTICE,
            status__in=(*ACCEPTED_STATUSES, ReferralStatus.DECLINED),
        )
        # An anonymised person can no longer be found in a GP record, nor should be.
        .filter(Q(case=None) | Q(case__client__anonymised_at=None))
        .annotate(gp_code=_code())
        .exclude(gp_code="")
        .exclude(Q(gp_code=SNOMED_REFERRED) & _earlier_in_same_episode())
        .annotate(
            # Referrals made before the status history existed have only their decision time.
            event_at=Coalesce(Subquery(decision.values("at")[:1]), F("decided_at"), output_field=DateTimeField()),
            recorded_at=Subquery(recording.values("recorded_at")[:1]),
            recorded_by_name=Subquery(recording.values("recorded_by__full_name")[:1]),
            # The referrer may have left the NHS number out; the service may have found it since.
            gp_nhs_number=Coalesce(NullIf(F("nhs_number"), Value("")), F("case__client__nhs_number"), Value("")),
            gp_summary=Case(
                When(
                    gp_code=SNOMED_REFERRED,
                    case__client__share_with_gp=ShareWithGP.SUMMARY,
                    case__status=CaseStatus.CLOSED,
                    then=F("case__closing_summary"),
                ),
                default=Value(""),
                output_field=TextField(),
            ),
        )
    )
    if pending_only:
        rows = rows.filter(recorded_at=None)
    if since is not None:
        if not isinstance(since, dt.datetime):
            since = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
        rows = rows.filter(event_at__gte=since)
    return rows.order_by("event_at", "reference").values(
        "pk",
        "reference",
        "gp_code",
        "event_at",
        "gp_nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "source_organisation_id",
        "source_organisation__name",
        "source_organisation__ods_code",
        "service__name",
        "gp_summary",
        "recorded_at",
        "recorded_by_name",
    )


def coded_event_from_row(row: dict[str, Any]) -> CodedEvent:
    """One row of ``coded_event_rows`` as a ``CodedEvent``."""
    return CodedEvent(
        referral_id=row["pk"],
        reference=row["reference"],
        code=row["gp_code"],
        display=SNOMED_LABELS[row["gp_code"]],
        event_at=row["event_at"],
        nhs_number=row["gp_nhs_number"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        date_of_birth=row["date_of_birth"],
        practice_id=row["source_organisation_id"],
        practice_name=row["source_organisation__name"],
        practice_ods_code=row["source_organisation__ods_code"],
        service_name=row["service__name"],
        summary=row["gp_summary"],
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by_name"] or "",
    )


def coded_events(
    *,
    practice_ids: Collection[UUID],
    pending_only: bool = True,
    since: dt.datetime | dt.date | None = None,
    referral_ids: Collection[UUID] | None = None,
) -> list[CodedEvent]:
    """The coded events of referrals made by these practices, oldest first, in one query whatever their number.

    ``pending_only``: only those the practice has not yet marked as recorded. ``since``: only events at or after
    this time (a date means from the start of that day in the UK). ``referral_ids``: only these referrals.
    The caller decides which practices the reader may see: staff of those practices, or an API client acting
    for one; nothing here checks a user."""
    rows = coded_event_rows(practice_ids=practice_ids, pending_only=pending_only, since=since)
    if referral_ids is not None:
        rows = rows.filter(pk__in=list(referral_ids))
    return [coded_event_from_row(row) for row in rows]


def practices_for_staff(user: Any) -> list[Organisation]:
    """The access helper of the pages: the GP practices the user refers from, by name. PermissionDenied (403)
    for anyone else, agency and PCN referrers included: coded events belong in a practice's GP record."""
    practices = [org for org in access_for(user).organisations(Role.REFERRER) if org.kind == OrganisationKind.PRACTICE]
    if not practices:
        raise PermissionDenied
    return sorted(practices, key=lambda org: org.name)
