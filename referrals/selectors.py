"""Reads of referrals, always scoped to the requesting user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clients.models import Case, CaseStatus, Client
from linkwork.accounts.access import SERVICE_ROLES, access_for
from linkwork.accounts.models import Organisation, OrganisationKind, Role, User
from linkwork.workdays import working_days_between
from referrals.models import AgencyLink, Referral, ReferralStatus

TRIAGE_ROLES = (Role.LINK_WORKER, Role.SERVICE_MANAGER)


def referrals_for_referrer(*, user: Any) -> QuerySet[Referral]:
    """Referrals made by the user's own practices or agencies, newest first, with the date of first
    contact. Referrers never see other organisations' referrals, nor case notes."""
    orgs = access_for(user).organisations(Role.REFERRER)
    return (
        Referral.objects.filter(source_organisation__in=orgs)
        .select_related("service", "referred_by", "case__link_worker")
        .annotate(
            first_contact_at=Min("case__contacts__at", filter=Q(case__contacts__attempted_only=False)),
            gp_sharing=F("case__client__share_with_gp"),
        )
        .order_by("-received_at")
    )


def referral_for_referrer(user: Any, referral_id: UUID) -> Referral:
    """One referral made by the user's organisation (404 otherwise)."""
    referral = referrals_for_referrer(user=user).filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    return referral


def referral_for_user(user: Any, referral_id: UUID, *, write: bool = False) -> Referral:
    """A referral to one of the user's services (404 otherwise). Triage needs a link worker or service
    manager role there (403 for supervisors, who may read)."""
    access = access_for(user)
    referral = (
        Referral.objects.select_related(
            "service",
            "source_organisation",
            "referred_by",
            "recorded_by",
            "decided_by",
            "case__link_worker",
            "case__client",
        )
        .filter(pk=referral_id, service__in=access.service_ids(*SERVICE_ROLES))
        .first()
    )
    if referral is None:
        raise Http404
    if write and referral.service_id not in access.service_ids(*TRIAGE_ROLES):
        raise PermissionDenied
    return referral


def _duplicate_filter(referral_ref: Any, prefix: str = "") -> Q:
    """Same NHS number, or same name and date of birth (ignoring case)."""
    same_nhs = Q(**{f"{prefix}nhs_number": referral_ref("nhs_number")}) & ~Q(**{f"{prefix}nhs_number": ""})
    same_person = (
        Q(**{f"{prefix}date_of_birth": referral_ref("date_of_birth")})
        & Q(**{f"{prefix}given_name__iexact": referral_ref("given_name")})
        & Q(**{f"{prefix}family_name__iexact": referral_ref("family_name")})
    )
    return same_nhs | same_person


@dataclass
class QueueRow:
    referral: Referral
    waiting_working_days: int
    overdue: bool


QUEUE_FIELDS = (
    "reference",
    "received_at",
    "channel",
    "given_name",
    "family_name",
    "interpreter_needed",
    "language",
    "risk_information",
    "service__triage_alert_working_days",
    "source_organisation__name",
)


def waiting_referrals(*, user: Any) -> tuple[list[Organisation], QuerySet[Referral]]:
    """The user's services, and the new referrals to them, oldest first, flagged when they may duplicate an open
    referral or an open case of the same person."""
    services = access_for(user).services(*SERVICE_ROLES)
    return services, waiting_to(services)


def waiting_to(services: Iterable[Organisation]) -> QuerySet[Referral]:
    """``waiting_referrals``' queryset for these services."""
    other_open = Referral.objects.filter(
        _duplicate_filter(OuterRef), service=OuterRef("service"), status=ReferralStatus.NEW
    ).exclude(pk=OuterRef("pk"))
    open_case = Case.objects.filter(
        _duplicate_filter(OuterRef, prefix="client__"),
        service=OuterRef("service"),
        status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED],
    )
    return (
        Referral.objects.filter(service__in=[s.pk for s in services], status=ReferralStatus.NEW)
        .select_related("service", "source_organisation")
        # Only what a queue line shows: whole referrals (free text, addresses, the person's story) cost more to
        # build than to fetch, for a service with a few hundred waiting.
        .only(*QUEUE_FIELDS)
        .annotate(possible_duplicate=Exists(other_open) | Exists(open_case))
        .order_by("received_at", "pk")
    )


def queue_rows(referrals: Iterable[Referral], *, today: dt.date | None = None) -> list[QueueRow]:
    """Triage queue lines (a page of ``waiting_referrals``): how many working days each referral has waited, and
    whether that is past its service's alert; its flags are possible duplicate, risk information, interpreter."""
    today = today or timezone.localdate()
    rows = []
    for r in referrals:
        waited = working_days_between(timezone.localtime(r.received_at).date(), today)
        rows.append(QueueRow(r, waited, waited > r.service.triage_alert_working_days))
    return rows


@dataclass
class Duplicates:
    referrals: list[Referral]
    cases: list[Case]
    clients: list[Client]


def duplicates_for(referral: Referral) -> Duplicates:
    """Open referrals and open cases in the same service for the same person, and matching client records."""

    def value(field: str) -> Any:
        return getattr(referral, field)

    match = _duplicate_filter(value)
    client_match = _duplicate_filter(value, prefix="client__")
    return Duplicates(
        referrals=list(
            Referral.objects.filter(match, service=referral.service, status=ReferralStatus.NEW)
            .exclude(pk=referral.pk)
            .order_by("received_at")
        ),
        cases=list(
            Case.objects.filter(
                client_match, service=referral.service, status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED]
            ).select_related("client", "link_worker")
        ),
        clients=list(Client.objects.filter(match, service=referral.service).order_by("family_name")),
    )


def link_workers_of(service: Organisation) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True,
            memberships__organisation=service,
            memberships__role=Role.LINK_WORKER,
        )
        .order_by("full_name")
        .distinct()
    )


def other_services(service: Organisation) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.SERVICE, is_active=True).exclude(pk=service.pk)


def agency_links_for(*, user: Any) -> QuerySet[AgencyLink]:
    services = access_for(user).service_ids(Role.SERVICE_MANAGER)
    return AgencyLink.objects.filter(service__in=services).select_related("service", "created_by", "revoked_by")


def agency_link_for_manager(user: Any, link_id: UUID) -> AgencyLink:
    link = agency_links_for(user=user).filter(pk=link_id).first()
    if link is None:
        raise Http404
    return link


def agency_link_by_token(token_hash: str) -> AgencyLink | None:
    return (
        AgencyLink.objects.select_related("service", "agency")
        .filter(token_hash=token_hash, revoked_at=None, service__is_active=True)
        .first()
    )


def referrer_organisations(*, user: Any) -> list[Organisation]:
    return access_for(user).organisations(Role.REFERRER)


def staff_services(*, user: Any, roles: tuple[str, ...] = TRIAGE_ROLES) -> list[Organisation]:
    return access_for(user).services(*roles)
