"""The loop back to referrers: what happened to the people they referred."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkwork.accounts.access import role_required
from linkwork.accounts.models import OrganisationKind, Role
from referrals import selectors


@role_required(Role.REFERRER)
def mine(request: HttpRequest) -> HttpResponse:
    referrals = list(selectors.referrals_for_referrer(user=request.user)[:200])
    practice_staff = any(
        o.kind == OrganisationKind.PRACTICE for o in selectors.referrer_organisations(user=request.user)
    )
    return render(request, "referrals/mine.html", {"referrals": referrals, "practice_staff": practice_staff})


@role_required(Role.REFERRER)
def sent(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = selectors.referral_for_referrer(request.user, referral_id)
    return render(request, "referrals/sent.html", {"referral": referral})
