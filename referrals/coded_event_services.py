"""Writes for the GP record's coded events (``referrals.coded_events``): a practice marking them recorded."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from referrals import coded_events
from referrals.models import GPRecording


@transaction.atomic
def gp_recording_mark(
    *, referral_ids: Collection[UUID], practice_ids: Collection[UUID], by: Any, code: str | None = None
) -> int:
    """Mark the coded events of these referrals as recorded in the GP record, all or none.

    Only events of ``practice_ids`` (the practices ``by`` acts for; the caller decides) may be marked, and only
    with ``code`` when given: if any referral is not one of them, ValidationError and nothing is recorded.
    Marking an event already recorded changes nothing (a double submission, or two people at once: the unique
    constraint settles it). Returns how many were newly marked."""
    wanted = set(referral_ids)
    if not wanted:
        raise ValidationError("Select the events you have recorded in the GP record")
    events = coded_events.coded_events(practice_ids=practice_ids, pending_only=False, referral_ids=wanted)
    if code is not None:
        events = [e for e in events if e.code == code]
    unknown = wanted - {e.referral_id for e in events}
    if unknown:
        raise ValidationError(
            f"{len(unknown)} of the events selected {'is' if len(unknown) == 1 else 'are'} not an event for your "
            "practice's GP record: nothing was marked as recorded"
        )
    now = timezone.now()
    pending = [e for e in events if not e.recorded]
    GPRecording.objects.bulk_create(
        [GPRecording(referral_id=e.referral_id, code=e.code, recorded_at=now, recorded_by=by) for e in pending],
        ignore_conflicts=True,
    )
    # PostgreSQL does not say which rows ON CONFLICT DO NOTHING skipped (someone else marked them a moment ago):
    # count the rows this call wrote, by their time.
    return GPRecording.objects.filter(
        referral__in=[e.referral_id for e in pending], recorded_at=now, recorded_by=by
    ).count()
