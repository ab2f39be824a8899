"""Who may do what: the roles a user holds, and in which services.

Every resource's access helper (``client_for_user``, ``case_for_user``, ...) builds on ``access_for``:
records of a service the user has no role in answer 404 (their existence is not leaked); a role that may
only read answers 403 on writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS
from django.db.models import OuterRef, Subquery, prefetch_related_objects
from django.http import HttpRequest, HttpResponse

from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role, User

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


# Each process keeps users' memberships between requests, keyed on the user's access_version: PostgreSQL changes
# it (triggers, migration accounts 0005) whenever a membership, an organisation or a link between organisations
# that could change what the user may do is written. A user loaded for a request carries the version committed
# then, so a change is seen by the next request. The version is read in the same statement as the memberships,
# so what is kept under a version is what the database held at that version; a version a rolled-back transaction
# took is never used again (a sequence), so nothing it saw can be found afterwards.
ACCESS_KEPT = 4096
_kept: dict[tuple[Any, int, bool], Access] = {}


def _load_access(user: User | Any) -> tuple[Access, int | None]:
    """The user's memberships in active organisations, with their organisations (and the services linked to a
    practice, agency or commissioner), and the user's access_version read in the same statement."""
    version = User.objects.filter(pk=OuterRef("user_id")).values("access_version")
    memberships = list(
        Membership.objects.using(DEFAULT_DB_ALIAS)
        .filter(user=user, organisation__is_active=True)
        .select_related("organisation")
        .annotate(access_version=Subquery(version))
    )
    linking = [m.organisation for m in memberships if m.organisation.kind != OrganisationKind.SERVICE]
    if linking:
        prefetch_related_objects(linking, "services")
    access = Access(memberships=memberships, is_superuser=user.is_superuser)
    return access, (memberships[0].access_version if memberships else None)


def access_for(user: User | Any) -> Access:
    """The user's roles: kept on the user object for the rest of the request, and by the process until the
    user's access_version changes. One query (and a second for the services linked to a practice, agency or
    commissioner the user belongs to) the first time in a process for each version; none after."""
    if not getattr(user, "is_authenticated", False):
        return Access()
    cached = getattr(user, "_linkwork_access", None)
    if cached is None:
        # Not read if deferred: a user fetched with only some fields would fetch the rest here. (request.user is
        # a lazy wrapper, whose own __dict__ is not the user's: ask the model.)
        deferred = user.get_deferred_fields() if hasattr(user, "get_deferred_fields") else {"access_version"}
        current = None if "access_version" in deferred else getattr(user, "access_version", None)
        key = (user.pk, current, user.is_superuser)
        cached = _kept.get(key) if current is not None else None
        if cached is None:
            cached, version = _load_access(user)
            if version is not None:
                if len(_kept) >= ACCESS_KEPT:
                    _kept.clear()
                _kept[(user.pk, version, user.is_superuser)] = cached
        user._linkwork_access = cached
    return cached


def forget_kept_access() -> None:
    """Forget every user's access kept by this process: the next request reads memberships again (tests that
    count the queries of a user's first request)."""
    _kept.clear()


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
