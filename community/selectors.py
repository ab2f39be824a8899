"""Reads of the community directory, scoped to the user's services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from community.models import CommunityService
from linkwork.accounts.access import SERVICE_ROLES, access_for


def directory_for(*, user: Any) -> QuerySet[CommunityService]:
    services = access_for(user).service_ids(*SERVICE_ROLES)
    return CommunityService.objects.filter(provider__service__in=services).select_related("provider")
