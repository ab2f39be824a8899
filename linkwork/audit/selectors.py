"""Reads of the audit trail for service managers: who did what (per user) and what was done to a record (per
person; the person's objects are gathered by ``outcomes.audit_selectors``, which may read every app).

Every function is scoped to the requesting manager: users outside the manager's services answer 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linkwork.accounts.access import access_for
from linkwork.accounts.models import Membership, Role, User
from linkwork.audit.models import AuditEvent

# Who may browse and download the audit trail. Site admins are left out on purpose: they run accounts and
# organisations, not the service, and the trail names the people it supports (summaries such as "Case of ...").
AUDIT_ROLES = (Role.SERVICE_MANAGER,)

# Plain-English names for the object types ``audit_record`` writes (model labels, or the names views give).
OBJECT_LABELS: dict[str, str] = {
    "accounts.user": "User account",
    "clients.client": "Person's record",
    "clients.clientalert": "Alert",
    "clients.case": "Case",
    "clients.contact": "Contact",
    "clients.homevisit": "Home visit",
    "clients.connection": "Connection to a community service",
    "clients.casesupervisionflag": "Supervision flag",
    "clients.safeguardingconcern": "Safeguarding concern",
    "clients.safeguardingdecision": "Safeguarding decision",
    "clients.plan": "Plan",
    "clients.whatmatters": "What matters",
    "clients.caseload": "Caseload",
    "clients.search": "Search for people",
    "referrals.referral": "Referral",
    "referrals.agencylink": "Agency referral link",
    "referrals.coded_events": "Coded events for the GP record",
    "outcomes.assessment": "Wellbeing measure",
    "outcomes.systemuse": "GP and A&E use",
    "outcomes.supervisionsession": "Supervision session",
    "outcomes.supervisionaction": "Supervision action",
    "outcomes.supervision_record": "Supervision record",
    "outcomes.supervision_list": "Supervision list",
    "outcomes.dashboard": "Caseload dashboard",
    "outcomes.report": "Outcome report",
    "community.communityservice": "Community service",
    "community.import": "Directory import",
    "audit.user_list": "Audit trail: list of users",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type or "None")


@dataclass(frozen=True)
class AuditFilter:
    """Dates are UK calendar days, both inclusive; an empty action means every action."""

    start: dt.date | None = None
    end: dt.date | None = None
    action: str = ""

    def describe(self) -> str:
        parts = []
        if self.start:
            parts.append(f"from {self.start:%-d %B %Y}")
        if self.end:
            parts.append(f"to {self.end:%-d %B %Y}")
        if self.action:
            parts.append(f"action {self.action}")
        return ", ".join(parts) or "all events"


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered(events: QuerySet[AuditEvent], filters: AuditFilter) -> QuerySet[AuditEvent]:
    """``events`` narrowed to the filter, newest first, with the actor loaded in the same query."""
    if filters.start:
        events = events.filter(at__gte=_day_start(filters.start))
    if filters.end:
        events = events.filter(at__lt=_day_start(filters.end + dt.timedelta(days=1)))
    if filters.action:
        events = events.filter(action=filters.action)
    return events.select_related("actor").order_by("-at", "-pk")


def events_by(*, actor: User, filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Everything ``actor`` did, newest first."""
    return filtered(AuditEvent.objects.filter(actor=actor), filters)


def events_about(*, targets: Mapping[str, Iterable[str]], filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Every event on any of ``targets`` (object type -> object ids), newest first: one query, which the
    (object_type, object_id, at) index answers."""
    about = Q()
    for object_type, ids in targets.items():
        ids = sorted(set(ids))
        if ids:
            about |= Q(object_type=object_type, object_id__in=ids)
    if not about:
        return AuditEvent.objects.none()
    return filtered(AuditEvent.objects.filter(about), filters)


def manager_service_ids(user: Any) -> set[UUID]:
    return access_for(user).service_ids(*AUDIT_ROLES)


def users_for_audit(*, user: Any) -> QuerySet[User]:
    """People with a role in the manager's services (those who have left included), each with
    ``service_memberships``: their roles in those services only."""
    service_ids = manager_service_ids(user)
    return (
        User.objects.filter(memberships__organisation__in=service_ids)
        .distinct()
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(organisation__in=service_ids).select_related("organisation"),
                to_attr="service_memberships",
            )
        )
        .order_by("full_name", "email")
    )


def user_for_audit(user: Any, user_id: UUID) -> User:
    """A person with a role in one of the manager's services; 404 for anyone else (their existence is not
    leaked)."""
    person = User.objects.filter(pk=user_id, memberships__organisation__in=manager_service_ids(user)).first()
    if person is None:
        raise Http404
    return person
