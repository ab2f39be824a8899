"""Writes to referrals: submission from every way in, triage (accept, decline, redirect) and the loop back.

Every state change locks the referral row (SELECT ... FOR UPDATE), checks the transition is allowed, records
who, when and why in ReferralEvent, and queues the referrer's notification after commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Case, CaseStatus, Client
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role
from linkwork.notifications import services as notification_services
from referrals.models import (
    SNOMED_DECLINED,
    SNOMED_REFERRED,
    AgencyLink,
    Channel,
    DeclineReason,
    Referral,
    ReferralEvent,
    ReferralStatus,
    ReferrerNotice,
)

logger = logging.getLogger(__name__)

# What a form may set on a referral: anything else in the submitted data is ignored.
PERSON_FIELDS = (
    # everything a client record takes from a referral, then what only the referral holds
    *client_services.CLIENT_FIELDS,
    "reasons",
    "reason_other",
    "hopes",
    "risk_information",
    "consent_given",
)
REFERRER_FIELDS = (
    "referrer_name",
    "referrer_role",
    "referrer_organisation_name",
    "referrer_phone",
    "referrer_email",
)

ALLOWED: dict[str, set[str]] = {
    ReferralStatus.NEW: {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED},
    ReferralStatus.ACCEPTED: {ReferralStatus.CLOSED},
    ReferralStatus.DECLINED: set(),
    ReferralStatus.CLOSED: set(),
}


def next_reference(*, year: int | None = None) -> str:
    """A human reference like SP-2026-000123, from a PostgreSQL sequence (no gaps reused, no races): the one a
    new referral's INSERT takes by default (Referral.reference), here for a given year or for a row built first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT referral_next_reference(%s)", [year])
        (reference,) = cursor.fetchone()
    return reference


def referral_submit(
    *,
    service: Organisation,
    data: dict[str, Any],
    channel: str,
    idempotency_key: uuid.UUID,
    referred_by: Any = None,
    source_organisation: Organisation | None = None,
    recorded_by: Any = None,
) -> tuple[Referral, bool]:
    """Create a referral from validated form data, once per ``idempotency_key``: a double submission
    returns the first referral and ``False``. Only PERSON_FIELDS and REFERRER_FIELDS are read from ``data``."""
    if not service.is_service or not service.is_active:
        raise ValidationError("Referrals can only be made to an active social prescribing service")
    if not data.get("consent_given"):
        raise ValidationError("A referral needs the person's consent")
    # No look for an earlier referral first: the unique idempotency key turns a repeat into an IntegrityError,
    # caught below, so the usual submission makes one query fewer. A repeat uses up a reference number, as a
    # rolled-back submission always has (references come from a sequence; gaps mean nothing).
    fields = {k: data[k] for k in (*PERSON_FIELDS, *REFERRER_FIELDS) if k in data and data[k] is not None}
    try:
        with transaction.atomic():
            # The reference is numbered by the INSERT itself (Referral.reference's database default).
            referral = Referral.objects.create(
                idempotency_key=idempotency_key,
                service=service,
                channel=Channel(channel),
                source_organisation=source_organisation,
                referred_by=referred_by,
                recorded_by=recorded_by,
                received_at=timezone.now(),
                **fields,
            )
            ReferralEvent.objects.create(
                referral=referral,
                kind=ReferralEvent.Kind.SUBMITTED,
                to_status=ReferralStatus.NEW,
                by=referred_by or recorded_by,
                note=Channel(channel).label,
            )
    except IntegrityError:
        # A double submission, or two identical ones racing: the first one is the referral.
        existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return referral, True


class TransitionError(ValidationError):
    """The referral is no longer in a state that allows this (someone else got there first)."""


def _lock(referral: Referral) -> Referral:
    return Referral.objects.select_for_update(of=("self",)).select_related("decided_by", "service").get(pk=referral.pk)


def require_transition(referral: Referral, to: str) -> None:
    """Raise TransitionError, with a message for the user, unless ``referral`` may move to status ``to``."""
    if to in ALLOWED[referral.status]:
        return
    if referral.status == ReferralStatus.ACCEPTED and to in (
        ReferralStatus.ACCEPTED,
        ReferralStatus.DECLINED,
    ):
        who = referral.decided_by.full_name if referral.decided_by else "someone else"
        raise TransitionError(f"This referral has already been accepted by {who}")
    if referral.status == ReferralStatus.DECLINED:
        raise TransitionError("This referral has already been declined")
    raise TransitionError(
        f"A referral that is {referral.get_status_display().lower()} cannot be {ReferralStatus(to).label.lower()}"
    )


def _event(referral: Referral, kind: str, before: str, by: Any, note: str = "") -> None:
    ReferralEvent.objects.create(
        referral=referral, kind=kind, from_status=before, to_status=referral.status, by=by, note=note
    )


def _notify_referrer(referral: Referral, kind: str) -> None:
    """Record, in the decision's transaction, that the referrer is to be told, and queue the sending after
    commit. If the broker is down (the request still succeeds) or a worker dies, the sweep sends it later."""
    from linkwork.celery import enqueue_on_commit
    from referrals import tasks

    notice, created = ReferrerNotice.objects.get_or_create(referral=referral, kind=kind)
    if created:
        enqueue_on_commit(tasks.send_referrer_notice, notice.pk)


def _require_link_worker(service: Organisation, user: Any) -> None:
    if not Membership.objects.filter(user=user, organisation=service, role=Role.LINK_WORKER).exists():
        raise ValidationError({"assignee": "Choose a link worker in this service"})


@transaction.atomic
def referral_accept(
    *, referral: Referral, by: Any, assignee: Any, client: Client | None = None, into_case: Case | None = None
) -> Case:
    """Accept an open referral. Opens a case for ``assignee`` with ``client`` (or the service's client with
    the same NHS number, or a new client record), or merges into ``into_case`` (an open case of the same
    service). Records SNOMED CT 871731000000106. Raises TransitionError if it is no longer open."""
    referral = _lock(referral)
    require_transition(referral, ReferralStatus.ACCEPTED)
    service = referral.service
    before = referral.status
    if into_case is not None:
        if into_case.service_id != service.pk or into_case.status == CaseStatus.CLOSED:
            raise ValidationError("Choose an open case in this service to merge into")
        case, kind, note = into_case, ReferralEvent.Kind.MERGED, "Merged into an existing case"
    else:
        _require_link_worker(service, assignee)
        if client is not None and client.service_id != service.pk:
            raise ValidationError("Choose a client of this service")
        client = client or _matching_client(referral) or _new_client(referral)
        case = client_services.case_open(
            client=client, service=service, link_worker=assignee, start=timezone.localdate()
        )
        kind, note = ReferralEvent.Kind.ACCEPTED, f"Assigned to {assignee.full_name}"
    referral.status = ReferralStatus.ACCEPTED
    referral.case = case
    referral.decided_at = timezone.now()
    referral.decided_by = by
    referral.snomed_code = SNOMED_REFERRED
    referral.save()
    _event(referral, kind, before, by, note)
    _notify_referrer(referral, "accepted")
    return case


def _matching_client(referral: Referral) -> Client | None:
    if not referral.nhs_number:
        return None
    return Client.objects.filter(service=referral.service, nhs_number=referral.nhs_number).first()


def _new_client(referral: Referral) -> Client:
    source = referral.source_organisation
    practice = source if source is not None and source.kind == OrganisationKind.PRACTICE else None
    return client_services.client_create(
        service=referral.service,
        practice=practice,
        **{f: getattr(referral, f) for f in client_services.CLIENT_FIELDS},
    )


@transaction.atomic
def referral_decline(*, referral: Referral, by: Any, reason: str, note: str = "") -> Referral:
    """Decline an open referral with a coded reason. Records SNOMED CT 871711000000103 (social prescribing
    declined) only when the person declined: a referral the service declines (not eligible, a duplicate...) is
    not the person declining social prescribing (referrals.coded_events applies the same rule)."""
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": "Choose why the referral is declined"})
    referral = _lock(referral)
    require_transition(referral, ReferralStatus.DECLINED)
    before = referral.status
    referral.status = ReferralStatus.DECLINED
    referral.decline_reason = reason
    referral.decline_note = note
    referral.decided_at = timezone.now()
    referral.decided_by = by
    referral.snomed_code = SNOMED_DECLINED if reason == DeclineReason.PERSON_DECLINED else ""
    referral.save()
    _event(
        referral,
        ReferralEvent.Kind.DECLINED,
        before,
        by,
        DeclineReason(reason).label + (f": {note}" if note else ""),
    )
    _notify_referrer(referral, "declined")
    return referral


@transaction.atomic
def referral_redirect(*, referral: Referral, by: Any, to_service: Organisation, note: str = "") -> Referral:
    """Send an open referral to another service in the deployment, where it waits for triage again."""
    referral = _lock(referral)
    if referral.status != ReferralStatus.NEW:
        raise TransitionError(
            f"Only a referral waiting for triage can be redirected: this one is {referral.get_status_display().lower()}"
        )
    if not to_service.is_service or not to_service.is_active or to_service.pk == referral.service_id:
        raise ValidationError({"service": "Choose another active social prescribing service"})
    old = referral.service
    referral.service = to_service
    referral.save(update_fields=["service", "updated_at"])
    _event(
        referral,
        ReferralEvent.Kind.REDIRECTED,
        ReferralStatus.NEW,
        by,
        f"From {old.name} to {to_service.name}" + (f": {note}" if note else ""),
    )
    return referral


@transaction.atomic
def referral_close(*, referral: Referral, by: Any, reason: str, summary: str) -> Referral:
    """Close the case of an accepted referral (and every referral merged into it), with an outcome summary
    written for the GP record; the referrers are told."""
    referral = _lock(referral)
    require_transition(referral, ReferralStatus.CLOSED)
    if not summary.strip():
        raise ValidationError({"summary": "Write a short outcome summary for the GP record"})
    if referral.case is None:  # an accepted referral always has one (a database constraint)
        raise TransitionError("This referral has no case to close")
    if referral.case.status != CaseStatus.CLOSED:
        client_services.case_close(case=referral.case, on=timezone.localdate(), reason=reason, summary=summary)
    for linked in Referral.objects.select_for_update().filter(case=referral.case, status=ReferralStatus.ACCEPTED):
        linked.status = ReferralStatus.CLOSED
        linked.outcome_summary = summary
        linked.closed_at = timezone.now()
        linked.save(update_fields=["status", "outcome_summary", "closed_at", "updated_at"])
        _event(linked, ReferralEvent.Kind.CLOSED, ReferralStatus.ACCEPTED, by)
        _notify_referrer(linked, "closed")
    referral.refresh_from_db()
    return referral


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def agency_link_create(
    *, service: Organisation, agency_name: str, by: Any, agency: Organisation | None = None
) -> tuple[AgencyLink, str]:
    """A new agency referral link. Returns the link and its token; only the token's hash is stored, so
    this is the only time the full URL can be shown."""
    token = secrets.token_urlsafe(32)
    link = AgencyLink.objects.create(
        service=service, agency_name=agency_name, agency=agency, token_hash=hash_token(token), created_by=by
    )
    return link, token


@transaction.atomic
def agency_link_revoke(*, link: AgencyLink, by: Any) -> AgencyLink:
    updated = AgencyLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=timezone.now(), revoked_by=by)
    if not updated:
        raise ValidationError("This link has already been revoked")
    link.refresh_from_db()
    return link


def agency_link_used(*, link: AgencyLink) -> None:
    AgencyLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now(), use_count=F("use_count") + 1)


# --- Telling the referrer: the outbox ---------------------------------------------------------------------
NOTICE_MESSAGES = {
    ReferrerNotice.Kind.ACCEPTED: "has been accepted",
    ReferrerNotice.Kind.DECLINED: "has been declined",
    ReferrerNotice.Kind.CLOSED: "has been closed",  # what else is shared follows the person's GP-sharing choice
}
# A notice that has failed this many times (a mail relay refusing the address, say) is left for a person to
# look at (it stays unsent in the admin) rather than retried every few minutes for ever.
NOTICE_MAX_FAILURES = 10


def referrer_notice_send(*, notice_id: int) -> bool:
    """Tell the referrer about one decision, in the app and by email, unless that has been done. The notice is
    claimed (row lock, skip locked) and marked sent in the transaction that sends it: a retry, a second worker
    or the sweep never sends it twice, and a send that fails leaves it unsent for the next try. Returns whether
    it was sent now."""
    try:
        with transaction.atomic():
            notice = (
                ReferrerNotice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("referral__referred_by")
                .filter(pk=notice_id, sent_at=None)
                .first()
            )
            if notice is None:
                return False  # sent already, or being sent by someone else right now
            _tell_referrer(notice.referral, notice.kind)
            ReferrerNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())
    except Exception:
        with contextlib.suppress(DatabaseError):  # the database itself may be what failed
            ReferrerNotice.objects.filter(pk=notice_id).update(failed_attempts=F("failed_attempts") + 1)
        raise
    return True


def referrer_notices_send_pending(*, limit: int = 200) -> int:
    """Send every notice not yet sent (oldest first), whatever lost it: the broker down when it was queued, a
    worker killed while sending. Idempotent and safe alongside the per-notice task (see
    ``referrer_notice_send``). Returns how many were sent."""
    pending = list(
        ReferrerNotice.objects.filter(sent_at=None, failed_attempts__lt=NOTICE_MAX_FAILURES)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in pending:
        try:
            sent += referrer_notice_send(notice_id=pk)
        except Exception:
            logger.exception("Could not send referrer notice %s; the next sweep retries", pk)
    return sent


def _tell_referrer(referral: Referral, kind: str) -> None:
    """No clinical detail leaves the system: the person's initials and the reference only, and a link to sign
    in. A referrer with an account is told in the app and at their account's address; one without (an agency
    link, a self-referral) at the address they gave, if any."""
    initials = f"{referral.given_name[:1]}.{referral.family_name[:1]}.".upper()
    title = f"Referral {referral.reference} ({initials}) {NOTICE_MESSAGES[kind]}"
    user = referral.referred_by
    link = reverse("referrals:sent", args=[referral.pk])
    if user is not None and user.is_active:
        notification_services.notification_create(user=user, title=title, link=link)
        recipient = user.email
    else:
        recipient = referral.referrer_email
    if not recipient:
        return
    body = f"{title}.\n\n"
    if user is not None:
        body += f"Sign in to see the details: {settings.SITE_URL}{link}\n"
    else:
        body += "Contact the social prescribing service, quoting the reference, if you need to know more.\n"
    send_mail(subject=title, message=body, from_email=None, recipient_list=[recipient])
