"""Writes for supervision: recording a session with a link worker and completing the actions agreed in it.
Flags and safeguarding concerns belong to cases, so their writes live in ``clients.services``; recording a
session calls down to mark the flags of the cases discussed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Case
from linkwork.accounts.models import Membership, Organisation, Role, User
from linkwork.notifications.services import notification_create
from outcomes.models import SupervisionAction, SupervisionSession, Wellbeing


@dataclass(frozen=True)
class ActionDraft:
    what: str
    owner: User
    due_on: date


@transaction.atomic
def supervision_session_record(
    *,
    service: Organisation,
    supervisor: User,
    link_worker: User,
    held_on: date,
    cases: list[Case],
    concerns: str = "",
    wellbeing: str,
    wellbeing_notes: str = "",
    actions: list[ActionDraft] | None = None,
) -> SupervisionSession:
    """Record a supervision session held by ``supervisor`` with ``link_worker`` in ``service``, the cases
    discussed and the actions agreed. Every flag waiting on a discussed case is marked discussed (it leaves the
    dashboard), and the link worker is told in the app. Raises ValidationError unless the supervisor supervises
    and the link worker works in the service, every case belongs to the service, the date is not in the future
    and each action is owned by one of the two people in the session."""
    actions = actions or []
    errors: dict[str, str] = {}
    roles = set(
        Membership.objects.filter(organisation=service, user__in=[supervisor, link_worker]).values_list(
            "user_id", "role"
        )
    )
    if (supervisor.pk, Role.SUPERVISOR) not in roles:
        raise ValidationError("Only a supervisor of the service can record a supervision session")
    if (link_worker.pk, Role.LINK_WORKER) not in roles:
        raise ValidationError("This person is not a link worker in the service")
    if held_on > timezone.localdate():
        errors["held_on"] = "Date of the session must be today or in the past"
    if wellbeing not in Wellbeing.values:
        errors["wellbeing"] = "Select how the link worker is"
    if any(case.service_id != service.pk for case in cases):
        errors["cases"] = "Choose cases of this service only"
    if any(a.owner.pk not in (supervisor.pk, link_worker.pk) for a in actions):
        errors["__all__"] = "An action's owner must be the link worker or the supervisor"
    if errors:
        raise ValidationError(errors)

    session = SupervisionSession.objects.create(
        service=service,
        link_worker=link_worker,
        supervisor=supervisor,
        held_on=held_on,
        concerns=concerns.strip(),
        wellbeing=wellbeing,
        wellbeing_notes=wellbeing_notes.strip(),
    )
    session.cases_discussed.set(cases)
    SupervisionAction.objects.bulk_create(
        SupervisionAction(session=session, what=a.what.strip(), owner=a.owner, due_on=a.due_on) for a in actions
    )
    client_services.supervision_flags_mark_discussed(cases=cases, by=supervisor, at=timezone.now())
    notification_create(
        user=link_worker,
        title=f"{supervisor.full_name} recorded your supervision of {held_on.day} {held_on:%B %Y}",
        link=reverse("supervision:session", args=[session.pk]),
    )
    return session


@transaction.atomic
def supervision_action_complete(*, action: SupervisionAction, by: Any) -> SupervisionAction:
    """Mark an agreed action done. A conditional UPDATE: raises ValidationError if it was already done (by
    someone else in the meantime, say), keeping who did it first."""
    done = SupervisionAction.objects.filter(pk=action.pk, done_at=None).update(done_at=timezone.now(), done_by=by)
    if not done:
        raise ValidationError("This action has already been marked as done")
    action.refresh_from_db()
    return action
