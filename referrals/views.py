from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkwork.accounts.access import role_required
from linkwork.accounts.models import Role
from referrals import selectors


@role_required(Role.REFERRER)
def mine(request: HttpRequest) -> HttpResponse:
    referrals = list(selectors.referrals_for_referrer(user=request.user)[:200])
    return render(request, "referrals/mine.html", {"referrals": referrals})
