"""Writes to clients and cases. Higher layers (referrals) call these; nothing here knows about referrals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count

from clients.models import (
    AlertKind,
    Case,
    CaseAssignment,
    CaseStatus,
    CaseSupervisionFlag,
    Client,
    ClientAlert,
    ClosureReason,
    Connection,
    ConnectionEvent,
    ConnectionStatus,
    Contact,
    ContactMethod,
    HomeVisit,
    Plan,
    PlanVersion,
    SafeguardingConcern,
    SafeguardingDecision,
    SafeguardingOutcome,
    WhatMatters,
)
from linkwork import compiled
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
    "contact_preference",
    "contact_times",
    "interpreter_needed",
    "language",
    "accessibility_needs",
)


@transaction.atomic
def client_create(*, service: Organisation, practice: Organisation | None = None, **fields: Any) -> Client:
    """A new client record in ``service`` from the whitelisted ``CLIENT_FIELDS``."""
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected client fields: {sorted(unknown)}")
    fields["lsoa_code"], fields["deprivation_decile"] = deprivation_for(fields.get("postcode", ""))
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


# --- Optimistic concurrency -------------------------------------------------------------------------------
class ConcurrentEdit(ValidationError):
    """Someone else saved the same record after this form was opened."""

    def __init__(self, what: str = "record") -> None:
        super().__init__(
            f"Someone else changed this {what} while you were editing it. Your text is still below: "
            "check their changes, then save again."
        )


def _bump(model: type, pk: Any, expected_version: int, what: str, **fields: Any) -> None:
    """UPDATE ... SET fields, version = version + 1 WHERE pk AND version = expected; 0 rows means someone
    else saved first."""
    from django.db.models import F

    updated = model.objects.filter(pk=pk, version=expected_version).update(version=F("version") + 1, **fields)
    if not updated:
        raise ConcurrentEdit(what)


CLIENT_EDITABLE = (
    "given_name",
    "family_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "nhs_number",
    "address",
    "postcode",
    "phone",
    "email",
    "contact_preference",
    "contact_times",
    "practice",
    "interpreter_needed",
    "language",
    "accessibility_needs",
    "ethnic_category",
    "sex",
    "gender_identity",
    "disability",
    "carer",
    "consent_to_contact",
    "share_with_gp",
    "consent_to_share_with_groups",
)


def deprivation_for(postcode: str) -> tuple[str, int | None]:
    from community.models import PostcodeArea

    area = PostcodeArea.objects.filter(postcode=postcode.replace(" ", "").upper()).first() if postcode else None
    return (area.lsoa_code, area.imd_decile) if area else ("", None)


@transaction.atomic
def client_update(*, client: Client, by: Any, expected_version: int, **fields: Any) -> Client:
    """Save whitelisted fields if nobody else saved since ``expected_version``; keeps the deprivation decile
    in step with the postcode. Raises ConcurrentEdit otherwise."""
    from django.utils import timezone

    unknown = set(fields) - set(CLIENT_EDITABLE)
    if unknown:
        raise TypeError(f"unexpected client fields: {sorted(unknown)}")
    if "postcode" in fields:
        fields["lsoa_code"], fields["deprivation_decile"] = deprivation_for(fields["postcode"])
    consent_fields = {"consent_to_contact", "share_with_gp", "consent_to_share_with_groups"}
    if any(f in fields and fields[f] != getattr(client, f) for f in consent_fields):
        fields["consent_recorded_at"] = timezone.now()
    changed = [
        str(Client._meta.get_field(f).verbose_name)
        for f in CLIENT_EDITABLE
        if f in fields and fields[f] != getattr(client, f)
    ]
    _bump(Client, client.pk, expected_version, "record", updated_at=timezone.now(), **fields)
    client.refresh_from_db()
    client.changed_fields = changed  # for the audit trail: which fields, never their values
    return client


# --- Alerts ---------------------------------------------------------------------------------------------------
@transaction.atomic
def alert_raise(*, client: Client, by: Any, kind: str, detail: str = "") -> ClientAlert:
    if kind not in AlertKind.values:
        raise ValidationError({"kind": "Choose the kind of alert"})
    return ClientAlert.objects.create(client=client, kind=kind, detail=detail, raised_by=by)


@transaction.atomic
def alert_resolve(*, alert: ClientAlert, by: Any) -> ClientAlert:
    from django.utils import timezone

    if not ClientAlert.objects.filter(pk=alert.pk, resolved_at=None).update(resolved_at=timezone.now(), resolved_by=by):
        raise ValidationError("This alert has already been resolved")
    alert.refresh_from_db()
    return alert


# --- Case lifecycle ---------------------------------------------------------------------------------------------
def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("service").get(pk=case.pk)


@transaction.atomic
def case_pause(*, case: Case, by: Any, reason: str, on: date) -> Case:
    case = _lock_case(case)
    if case.status != CaseStatus.ACTIVE:
        raise ValidationError("Only an active case can be paused")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the case is paused"})
    case.status, case.paused_on, case.paused_reason = CaseStatus.PAUSED, on, reason
    case.version += 1
    case.save(update_fields=["status", "paused_on", "paused_reason", "version", "updated_at"])
    return case


@transaction.atomic
def case_resume(*, case: Case, by: Any) -> Case:
    case = _lock_case(case)
    if case.status != CaseStatus.PAUSED:
        raise ValidationError("Only a paused case can be resumed")
    case.status, case.paused_on, case.paused_reason = CaseStatus.ACTIVE, None, ""
    case.version += 1
    case.save(update_fields=["status", "paused_on", "paused_reason", "version", "updated_at"])
    return case


@transaction.atomic
def case_extend(*, case: Case, by: Any, weeks: int, reason: str) -> Case:
    """Move the end of the support window on by ``weeks``, with a reason."""
    from datetime import timedelta

    case = _lock_case(case)
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("A closed case cannot be extended")
    if not 1 <= weeks <= 26:
        raise ValidationError({"weeks": "Extend by 1 to 26 weeks"})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the support window is extended"})
    case.window_end = case.window_end + timedelta(weeks=weeks)
    case.extension_reason = reason
    case.version += 1
    case.save(update_fields=["window_end", "extension_reason", "version", "updated_at"])
    return case


@transaction.atomic
def case_reassign(*, case: Case, by: Any, to: Any, reason: str) -> Case:
    """Hand a case to another link worker of the same service, recording who, when and why."""
    from linkwork.accounts.models import Membership, Role

    case = _lock_case(case)
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("A closed case cannot be reassigned")
    if not Membership.objects.filter(user=to, organisation=case.service, role=Role.LINK_WORKER).exists():
        raise ValidationError({"to": "Choose a link worker in this service"})
    if to == case.link_worker:
        raise ValidationError({"to": "The case is already with this link worker"})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the case is reassigned"})
    CaseAssignment.objects.create(case=case, from_worker=case.link_worker, to_worker=to, reason=reason, by=by)
    case.link_worker = to
    case.version += 1
    case.save(update_fields=["link_worker", "version", "updated_at"])
    return case


# --- Contacts --------------------------------------------------------------------------------------------------
CONTACT_FIELDS = ("at", "method", "duration_minutes", "attempted_only", "notes", "next_step", "follow_up_on")


def contact_log(*, case: Case, by: Any, **fields: Any) -> Contact:
    """Record a contact (or an attempt) on an open case. Attempts do not count toward the 6 to 12.

    One INSERT, after the checks, and so in no transaction of its own: the request's (linkwork.transactions)
    saves it with its audit row, and a savepoint of its own was two round trips more on every contact logged."""
    from datetime import timedelta

    from django.utils import timezone

    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected contact fields: {sorted(unknown)}")
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("This case is closed: contacts cannot be added")
    at = fields["at"]
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"at": "The contact must be today or in the past"})
    if timezone.localtime(at).date() < case.start_date - timedelta(days=7):
        raise ValidationError({"at": "The contact must be after the referral was accepted"})
    follow_up = fields.get("follow_up_on")
    if follow_up and follow_up < timezone.localtime(at).date():
        raise ValidationError({"follow_up_on": "The follow-up date must be after the contact"})
    return Contact.objects.create(case=case, recorded_by=by, **fields)


def contacts_counted(case: Case) -> int:
    """The contacts that count toward the 6 to 12 (not attempts), by a statement compiled once a process
    (``linkwork.compiled``): asked after every contact logged."""
    counted = compiled.values(
        ("clients.contacts_counted",),
        lambda pk: (
            Contact.objects.filter(case_id=pk, attempted_only=False)
            .order_by()
            .values("case_id")
            .annotate(n=Count("pk"))
        ),
        inputs=(case.pk,),
    )
    return counted[0]["n"] if counted else 0


# --- What matters and the plan ------------------------------------------------------------------------------------
WHAT_MATTERS_FIELDS = ("what_matters", "strengths", "worries", "want_to_change")


@transaction.atomic
def what_matters_save(*, case: Case, by: Any, expected_version: int, **fields: Any) -> WhatMatters:
    """Create or update the conversation record; a stale ``expected_version`` raises ConcurrentEdit."""
    unknown = set(fields) - set(WHAT_MATTERS_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    existing = WhatMatters.objects.filter(case=case).first()
    if existing is None:
        if expected_version != 0:
            raise ConcurrentEdit("conversation record")
        try:
            with transaction.atomic():
                return WhatMatters.objects.create(case=case, updated_by=by, **fields)
        except IntegrityError as error:
            raise ConcurrentEdit("conversation record") from error
    _bump(WhatMatters, existing.pk, expected_version, "conversation record", updated_by=by, **fields)
    existing.refresh_from_db()
    return existing


GOAL_STATUSES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "achieved": "Achieved",
    "stopped": "No longer a goal",
}


def _clean_goals(goals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for goal in goals:
        text = str(goal.get("goal", "")).strip()
        if not text:
            continue
        status = goal.get("status") or "not_started"
        if status not in GOAL_STATUSES:
            raise ValidationError("Choose a status for each goal")
        actions = [
            {
                "what": str(a.get("what", "")).strip(),
                "who": str(a.get("who", "")).strip(),
                "by_when": str(a.get("by_when", "") or ""),
            }
            for a in goal.get("actions", [])
            if str(a.get("what", "")).strip()
        ]
        cleaned.append(
            {"goal": text, "status": status, "progress": str(goal.get("progress", "")).strip(), "actions": actions}
        )
    if not cleaned:
        raise ValidationError("Write at least one goal, in the person's own words")
    return cleaned


@transaction.atomic
def plan_save(
    *, case: Case, by: Any, goals: list[dict[str, Any]], review_on: date | None, expected_version: int
) -> PlanVersion:
    """Save a new version of the plan. Earlier versions are kept untouched; a stale ``expected_version``
    raises ConcurrentEdit."""
    from django.db.models import F

    cleaned = _clean_goals(goals)
    plan, _ = Plan.objects.get_or_create(case=case)
    if not Plan.objects.filter(pk=plan.pk, version=expected_version).update(
        version=F("version") + 1, review_on=review_on
    ):
        raise ConcurrentEdit("plan")
    return PlanVersion.objects.create(
        plan=plan, number=expected_version + 1, goals=cleaned, review_on=review_on, saved_by=by
    )


def plan_changes(older: PlanVersion | None, newer: PlanVersion) -> list[str]:
    """What changed between two versions, in plain words, for a reviewer."""
    before = {g["goal"]: g for g in (older.goals if older else [])}
    after = {g["goal"]: g for g in newer.goals}
    changes = [f"Goal added: {g}" for g in after if g not in before]
    changes += [f"Goal removed: {g}" for g in before if g not in after]
    for text, goal in after.items():
        old = before.get(text)
        if old is None:
            continue
        if old["status"] != goal["status"]:
            changes.append(f"{text}: {GOAL_STATUSES[old['status']]} → {GOAL_STATUSES[goal['status']]}")
        if old.get("progress") != goal.get("progress"):
            changes.append(f"{text}: progress notes updated")
        old_actions = {a["what"] for a in old.get("actions", [])}
        for action in goal.get("actions", []):
            if action["what"] not in old_actions:
                changes.append(f"{text}: action added: {action['what']}")
    if older and older.review_on != newer.review_on:
        changes.append("Review date changed")
    return changes


# --- Home visits -------------------------------------------------------------------------------------------------
@transaction.atomic
def home_visit_schedule(*, case: Case, by: Any, planned_start: Any, expected_minutes: int) -> HomeVisit:
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("This case is closed")
    if not 10 <= expected_minutes <= 240:
        raise ValidationError({"expected_minutes": "A visit should be expected to last 10 to 240 minutes"})
    return HomeVisit.objects.create(
        case=case, link_worker=by, planned_start=planned_start, expected_minutes=expected_minutes
    )


@transaction.atomic
def home_visit_check_in(*, visit: HomeVisit, by: Any) -> HomeVisit:
    from django.utils import timezone

    if not HomeVisit.objects.filter(pk=visit.pk, checked_in_at=None).update(checked_in_at=timezone.now()):
        raise ValidationError("You have already checked in to this visit")
    visit.refresh_from_db()
    return visit


@transaction.atomic
def home_visit_check_out(*, visit: HomeVisit, by: Any, notes: str = "") -> HomeVisit:
    """Check out safely and record the visit as a contact (method: home visit)."""
    from django.utils import timezone

    now = timezone.now()
    locked = HomeVisit.objects.select_for_update().get(pk=visit.pk)
    if locked.checked_in_at is None:
        raise ValidationError("Check in before checking out")
    if locked.checked_out_at is not None:
        raise ValidationError("You have already checked out of this visit")
    minutes = max(1, int((now - locked.checked_in_at).total_seconds() // 60))
    contact = Contact.objects.create(
        case=locked.case,
        at=locked.checked_in_at,
        method=ContactMethod.HOME_VISIT,
        duration_minutes=min(minutes, 32767),
        notes=notes,
        recorded_by=by,
    )
    locked.checked_out_at, locked.contact = now, contact
    locked.save(update_fields=["checked_out_at", "contact"])
    return locked


# --- Connections to community services ----------------------------------------------------------------------
CONNECTION_NEXT: dict[str, set[str]] = {
    "suggested": {"referred", "not_taken_up"},
    "referred": {"attended_first", "not_taken_up"},
    "attended_first": {"attending", "stopped"},
    "attending": {"stopped"},
    "stopped": set(),
    "not_taken_up": set(),
}
NEEDS_REASON = {"stopped", "not_taken_up"}
REFERRING = {"referred", "attended_first", "attending"}


def _qa_gate(service: Any, status: str, override: str) -> None:
    from django.utils import timezone

    unchecked = not service.qa_complete or service.review_overdue(timezone.localdate())
    if status in REFERRING and unchecked and not override.strip():
        raise ValidationError(
            {
                "qa_override_reason": "This service's quality checks are not complete or are overdue: "
                "say why you are referring the person anyway"
            }
        )


@transaction.atomic
def connection_create(
    *, case: Case, by: Any, service: Any, status: str = "suggested", qa_override_reason: str = ""
) -> Connection:
    """Connect the person to a community service of their case's service's directory. Referring to a service
    whose quality checks are incomplete or overdue needs an override reason, which is recorded."""
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("This case is closed")
    if service.provider.service_id != case.service_id:
        raise ValidationError("Choose a service from your own directory")
    if status not in ("suggested", "referred"):
        raise ValidationError({"status": "A new connection starts as suggested or referred"})
    _qa_gate(service, status, qa_override_reason)
    if Connection.objects.filter(case=case, service=service).exists():
        raise ValidationError("The person is already connected to this service")
    try:
        with transaction.atomic():
            connection = Connection.objects.create(
                case=case, service=service, status=status, created_by=by, qa_override_reason=qa_override_reason
            )
    except IntegrityError as error:
        raise ValidationError("The person is already connected to this service") from error
    ConnectionEvent.objects.create(
        connection=connection,
        to_status=status,
        by=by,
        note=qa_override_reason and f"Quality checks overridden: {qa_override_reason}",
    )
    return connection


@transaction.atomic
def connection_move(
    *, connection: Connection, by: Any, status: str, reason: str = "", qa_override_reason: str = ""
) -> Connection:
    """Move a connection on (suggested → referred → attended first session → still attending → stopped, or
    not taken up), refusing illegal steps; stopping or not taking up needs a reason."""
    locked = Connection.objects.select_for_update(of=("self",)).select_related("service").get(pk=connection.pk)
    if status not in CONNECTION_NEXT.get(locked.status, set()):
        raise ValidationError(
            f"A connection that is {ConnectionStatus(locked.status).label.lower()} cannot become "
            f"{ConnectionStatus(status).label.lower() if status in ConnectionStatus.values else status}"
        )
    if status in NEEDS_REASON and not reason.strip():
        raise ValidationError({"reason": "Say why"})
    if locked.status == "suggested":
        _qa_gate(locked.service, status, qa_override_reason)
        locked.qa_override_reason = qa_override_reason or locked.qa_override_reason
    before = locked.status
    locked.status, locked.reason = status, reason
    locked.save(update_fields=["status", "reason", "qa_override_reason", "updated_at"])
    ConnectionEvent.objects.create(connection=locked, from_status=before, to_status=status, by=by, note=reason)
    return locked


# --- Supervision flags and safeguarding concerns -------------------------------------------------------------------
@transaction.atomic
def supervision_flag_raise(*, case: Case, by: Any, question: str) -> CaseSupervisionFlag:
    """Flag an open case for supervision with the link worker's question. The flag stays on the supervisor's
    dashboard until a supervision session discusses the case. Raises ValidationError for a closed case or an
    empty question."""
    question = question.strip()
    if not question:
        raise ValidationError({"question": "Enter your question for supervision"})
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("This case is closed: raise it in supervision directly")
    return CaseSupervisionFlag.objects.create(case=case, question=question, raised_by=by)


@transaction.atomic
def supervision_flags_mark_discussed(*, cases: Iterable[Case], by: Any, at: datetime) -> int:
    """Mark every open flag on ``cases`` as discussed, by ``by`` at ``at``; returns how many. A conditional
    UPDATE, so a flag already discussed keeps its first date and two sessions saved at once do not both claim
    it."""
    return CaseSupervisionFlag.objects.filter(case__in=cases, discussed_at=None).update(
        discussed_at=at, discussed_by=by
    )


@transaction.atomic
def safeguarding_concern_raise(*, case: Case, by: Any, detail: str) -> SafeguardingConcern:
    """Record a safeguarding concern on a case and, in the same transaction (so neither can be lost without
    the other), tell every supervisor of the case's service in the app and put a "safeguarding concern raised"
    alert on the person's record unless one is open. The concern can never be changed or deleted (a database
    trigger refuses it). Notification titles carry initials only, no clinical detail."""
    from django.urls import reverse

    from linkwork.accounts.models import Role, User
    from linkwork.notifications.services import notification_create

    detail = detail.strip()
    if not detail:
        raise ValidationError({"detail": "Describe the concern"})
    concern = SafeguardingConcern.objects.create(case=case, raised_by=by, detail=detail)
    client = case.client
    if not ClientAlert.objects.filter(client=client, kind=AlertKind.SAFEGUARDING, resolved_at=None).exists():
        ClientAlert.objects.create(client=client, kind=AlertKind.SAFEGUARDING, raised_by=by)
    initials = f"{client.given_name[:1]}.{client.family_name[:1]}.".upper()
    title = f"Safeguarding concern raised by {by.full_name} about {initials}: your decision is needed"
    link = reverse("clients:case_supervision", args=[case.pk])
    supervisors = User.objects.filter(
        memberships__organisation_id=case.service_id, memberships__role=Role.SUPERVISOR, is_active=True
    ).distinct()
    for supervisor in supervisors:
        notification_create(user=supervisor, title=title, link=link)
    return concern


@transaction.atomic
def safeguarding_decision_record(
    *,
    concern: SafeguardingConcern,
    by: Any,
    decision: str,
    note: str = "",
    corrects: SafeguardingDecision | None = None,
) -> SafeguardingDecision:
    """Record the decision on a safeguarding concern, or a correction of the decision in force. Nothing is
    overwritten: a correction is a new row pointing at the decision it corrects, which stays on record (and a
    database trigger refuses any UPDATE or DELETE). Raises ValidationError if a first decision is recorded
    twice, a correction does not correct the decision in force, or a needed note is missing."""
    # Lock the concern (SELECT ... FOR UPDATE fires no trigger) so two decisions cannot race.
    SafeguardingConcern.objects.select_for_update().get(pk=concern.pk)
    note = note.strip()
    if decision not in SafeguardingOutcome.values:
        raise ValidationError({"decision": "Select the decision"})
    in_force = SafeguardingDecision.objects.filter(concern=concern, corrections=None).first()
    if corrects is None and in_force is not None:
        raise ValidationError("A decision has already been recorded: add a correction instead")
    if corrects is not None:
        if in_force is None or corrects.pk != in_force.pk:
            raise ValidationError("Only the decision in force can be corrected")
        if not note:
            raise ValidationError({"note": "Say what was wrong with the earlier decision"})
    if decision == SafeguardingOutcome.OTHER and not note:
        raise ValidationError({"note": "Describe the decision"})
    return SafeguardingDecision.objects.create(concern=concern, decision=decision, note=note, by=by, corrects=corrects)
