from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkwork.accounts.access import access_for, role_required
from linkwork.accounts.models import Membership, Organisation, Role, User


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"memberships": access_for(request.user).memberships})


@role_required(Role.SITE_ADMIN)
def admin_home(request: HttpRequest) -> HttpResponse:
    """Site admins: every user with their roles, every organisation."""
    users = User.objects.order_by("full_name").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("organisation"))
    )
    organisations = Organisation.objects.order_by("kind", "name")
    return render(request, "accounts/admin_home.html", {"users": users, "organisations": organisations})


@login_required
def keepalive(request: HttpRequest) -> HttpResponse:
    """Renews the idle timer (SESSION_SAVE_EVERY_REQUEST saves the session); tells nothing."""
    return HttpResponse(status=204)
