"""What every page needs: the service name and the navigation for the user's roles."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix

from linkwork.accounts.access import SERVICE_ROLES, access_for, local_link_worker_title
from linkwork.accounts.models import Role
from linkwork.accounts.two_factor import two_factor_required
from linkwork.links import page_url
from linkwork.notifications.selectors import unread_count


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str

    def is_current(self, path: str) -> bool:
        return path == self.url or (self.url != "/" and path.startswith(self.url))


def nav_items(user: Any) -> list[NavItem]:
    """The header's navigation for the user's roles. It depends on nothing else, so it is built once a process
    for each set of roles (and URL prefix, as linkwork.links keys its links): building it reversed up to nine
    URLs on every page."""
    return list(_nav_items(frozenset(access_for(user).roles), get_script_prefix()))


@functools.lru_cache(maxsize=256)
def _nav_items(roles: frozenset[str], prefix: str) -> tuple[NavItem, ...]:
    access = _Roles(roles)
    items: list[NavItem] = []
    if access.has(Role.LINK_WORKER):
        items.append(NavItem("My caseload", page_url("clients:caseload")))
    if access.has(Role.REFERRER):
        items.append(NavItem("My referrals", page_url("referrals:mine")))
    if access.has(*SERVICE_ROLES):
        items.append(NavItem("Triage queue", page_url("referrals:queue")))
        items.append(NavItem("Community directory", page_url("community:directory")))
    if access.has(Role.SUPERVISOR, Role.SERVICE_MANAGER):
        items.append(NavItem("Caseload dashboard", page_url("outcomes:dashboard")))
    if access.has(Role.COMMISSIONER, Role.SERVICE_MANAGER, Role.SUPERVISOR):
        items.append(NavItem("Reports", page_url("outcomes:reports")))
    if access.has(Role.LINK_WORKER):
        items.append(NavItem("My supervision", page_url("supervision:mine")))
    if access.has(Role.SERVICE_MANAGER):
        items.append(NavItem("Audit trail", page_url("audit:users")))
    if access.has(Role.SITE_ADMIN):
        items.append(NavItem("Users and organisations", page_url("accounts:admin_home")))
    return tuple(items)


@dataclass(frozen=True)
class _Roles:
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def navigation(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"service_name": settings.SERVICE_NAME, "session_seconds": settings.SESSION_COOKIE_AGE}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    if not getattr(user, "is_verified", lambda: True)() and two_factor_required(user):
        return context  # nothing to navigate to until the two-factor code is given
    access = access_for(user)
    items = nav_items(user)
    context.update(
        nav_items=items,
        nav_current=next((i for i in items if i.is_current(request.path)), None),
        user_roles=sorted(Role(r).label for r in access.roles),
        link_worker_title=local_link_worker_title(user),
        unread_notifications=unread_count(user=user),
    )
    return context
