"""Who may do what: the roles a user holds, and in which services.

Every resource's access helper (``client_for_user``, ``case_for_user``, ...) builds on ``access_for``:
records of a service the user has no role in answer 404 (their existence is not leaked); a role that may
only read answers 403 on writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse

from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role

if TYPE_CHECKING:
    from linkwork.accounts.models import User

# Roles whose organisation *is* a social prescribing service (they work inside it).
SERVICE_ROLES = {Role.LINK_WORKER, Role.SUPERVISOR, Role.SERVICE_MANAGER}
# Roles that may see identifiable client data in their service.
CLINICAL_ROLES = SERVICE_ROLES


@dataclass
class Access:
    """The memberships of one user, loaded once per request."""

    memberships: list[Membership] = field(default_factory=list)
    is_superuser: bool = False

    @property
    def roles(self) -> set[str]:
        roles = {m.role for m in self.memberships}
        if self.is_superuser:
            roles.add(Role.SITE_ADMIN)
        return roles

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def organisations(self, *roles: str) -> list[Organisation]:
        seen: dict[UUID, Organisation] = {}
        for m in self.memberships:
            if m.role in roles:
                seen.setdefault(m.organisation_id, m.organisation)
        return list(seen.values())

    def service_ids(self, *roles: str) -> set[UUID]:
        """Services the user may act in with any of ``roles``: their own service for service roles, the
        services their practice, agency or commissioning body is linked to for the others."""
        ids: set[UUID] = set()
        for m in self.memberships:
            if m.role not in roles:
                continue
            if m.organisation.kind == OrganisationKind.SERVICE:
                ids.add(m.organisation_id)
            else:
                ids.update(s.pk for s in m.organisation.services.all())
        return ids

    def services(self, *roles: str) -> list[Organisation]:
        found: dict[UUID, Organisation] = {}
        for m in self.memberships:
            if m.role not in roles:
                continue
            if m.organisation.kind == OrganisationKind.SERVICE:
                found.setdefault(m.organisation_id, m.organisation)
            else:
                for s in m.organisation.services.all():
                    found.setdefault(s.pk, s)
        return sorted(found.values(), key=lambda o: o.name)


def access_for(user: User | Any) -> Access:
    """The user's roles, cached on the user object for the rest of the request: one query, and a second for the
    services linked to a practice, agency or commissioner the user belongs to. Staff of a service (most users,
    on every page) need no second query: their organisation is the service."""
    if not getattr(user, "is_authenticated", False):
        return Access()
    cached = getattr(user, "_linkwork_access", None)
    if cached is None:
        memberships = list(
            Membership.objects.filter(user=user, organisation__is_active=True).select_related("organisation")
        )
        linking = [m.organisation for m in memberships if m.organisation.kind != OrganisationKind.SERVICE]
        if linking:
            prefetch_related_objects(linking, "services")
        cached = Access(memberships=memberships, is_superuser=user.is_superuser)
        user._linkwork_access = cached
    return cached


def require_role(user: User | Any, *roles: str) -> Access:
    """Raise PermissionDenied (403) unless the user holds one of ``roles`` somewhere."""
    access = access_for(user)
    if not access.has(*roles):
        raise PermissionDenied
    return access


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: anonymous users go to the login page; signed-in users without a role get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def local_link_worker_title(user: User | Any) -> str:
    """What the user's services call a link worker (the header, the dashboard's table)."""
    return link_worker_title(access_for(user).services(*SERVICE_ROLES, Role.REFERRER))


def link_worker_title(services: Iterable[Organisation]) -> str:
    """The local name for a link worker: the service's own, when the user's services agree on one."""
    titles = {s.link_worker_title for s in services if s.link_worker_title}
    if len(titles) == 1:
        return titles.pop()
    from linkwork.accounts.models import DEFAULT_LINK_WORKER_TITLE

    return DEFAULT_LINK_WORKER_TITLE
