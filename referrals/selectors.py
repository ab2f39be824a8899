"""Reads of referrals, always scoped to the requesting user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from linkwork.accounts.access import access_for
from linkwork.accounts.models import Role
from referrals.models import Referral


def referrals_for_referrer(*, user: Any) -> QuerySet[Referral]:
    """Referrals made by the user's own practices or agencies, newest first. Referrers never see other
    organisations' referrals, and see the named link worker but never case notes."""
    orgs = access_for(user).organisations(Role.REFERRER)
    return (
        Referral.objects.filter(source_organisation__in=orgs)
        .select_related("service", "referred_by", "case__link_worker")
        .order_by("-received_at")
    )
