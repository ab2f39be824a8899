"""Writes to accounts: deactivating accounts nobody uses."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from linkwork.accounts.models import Membership, Role, User
from linkwork.notifications.services import notification_create

UNUSED_DAYS = 90


@transaction.atomic
def users_deactivate_unused(*, days: int = UNUSED_DAYS) -> list[User]:
    """Deactivate accounts with no sign-in for ``days`` (or never, ``days`` after joining), except site
    superusers, and tell the service managers of each person's organisations. One UPDATE; idempotent."""
    cutoff = timezone.now() - timedelta(days=days)
    stale = User.objects.filter(is_active=True, is_superuser=False).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    users = list(stale.select_for_update())
    if not users:
        return []
    User.objects.filter(pk__in=[u.pk for u in users]).update(is_active=False)
    memberships = (
        Membership.objects.filter(user__in=users)
        .select_related("organisation")
        .prefetch_related("organisation__services")
    )
    services_of: dict[object, set[object]] = {}
    for m in memberships:
        ids = {m.organisation_id} if m.organisation.is_service else {s.pk for s in m.organisation.services.all()}
        services_of.setdefault(m.user_id, set()).update(ids)
    managers = Membership.objects.filter(role=Role.SERVICE_MANAGER).select_related("user")
    for user in users:
        for manager in {m.user for m in managers if m.organisation_id in services_of.get(user.pk, set())}:
            if manager.is_active and manager.pk != user.pk:
                notification_create(
                    user=manager,
                    title=f"{user.full_name}'s account was deactivated after {days} days unused",
                    link="/accounts/people/" if manager.is_staff else "",
                )
    return users
