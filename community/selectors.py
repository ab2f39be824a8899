"""Reads of the community directory, scoped to the user's services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, FloatField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import ACos, Cos, Greatest, Least, Radians, Sin
from django.http import Http404
from django.utils import timezone

from community.models import CommunityService, PostcodeArea, Provider, Schedule, ServiceStatus
from linkwork.accounts.access import SERVICE_ROLES
from linkwork.accounts.access import access_for as access_for  # re-exported for views
from linkwork.accounts.models import Role

EARTH_RADIUS_KM = 6371.0
TIMES_OF_DAY = {
    "morning": (dt.time(0, 0), dt.time(12, 0)),
    "afternoon": (dt.time(12, 0), dt.time(17, 0)),
    "evening": (dt.time(17, 0), dt.time(23, 59, 59)),
}


def _service_ids(user: Any, *roles: str) -> set[UUID]:
    return access_for(user).service_ids(*(roles or SERVICE_ROLES))


def directory_for(*, user: Any) -> QuerySet[CommunityService]:
    return CommunityService.objects.filter(provider__service__in=_service_ids(user)).select_related("provider")


@dataclass(frozen=True)
class Search:
    text: str = ""
    categories: tuple[str, ...] = ()
    day: str = ""
    time_of_day: str = ""
    free_only: bool = False
    accessibility: tuple[str, ...] = ()
    postcode: str = ""
    within_km: float | None = None
    open_only: bool = False
    include_inactive: bool = False


@dataclass
class SearchResult:
    services: list[CommunityService]
    origin: PostcodeArea | None = None
    unknown_postcode: bool = False
    problems: list[str] = field(default_factory=list)
    total: int | None = None  # every match, when ``services`` is one page of them
    pagination: Any = None  # linkwork.pagination.Pagination, for the page links


def distance_km(lat: float, lng: float) -> Any:
    """Great-circle distance (spherical law of cosines) from a point to each service, in SQL."""
    cos_angle = Cos(Radians(Value(lat))) * Cos(Radians(F("latitude"))) * Cos(
        Radians(F("longitude")) - Radians(Value(lng))
    ) + Sin(Radians(Value(lat))) * Sin(Radians(F("latitude")))
    distance = EARTH_RADIUS_KM * ACos(Greatest(Value(-1.0), Least(Value(1.0), cos_angle)), output_field=FloatField())
    # GREATEST and LEAST skip NULLs in PostgreSQL: without this a service with no coordinates would be 0 km away.
    return Case(When(latitude__isnull=True, then=Value(None)), default=distance, output_field=FloatField())


def search_services(*, user: Any, search: Search, limit: int = 100) -> SearchResult:
    """Directory search for link workers: free text (PostgreSQL full-text, ranked), category, day and time of
    day, free only, accessibility needs, open to new members, and distance from a postcode where coordinates
    are known. Three queries whatever the directory size: services, schedules, and the postcode."""
    result, qs = search_queryset(user=user, search=search)
    result.services = list(qs[:limit])
    return result


def search_queryset(*, user: Any, search: Search) -> tuple[SearchResult, QuerySet[CommunityService]]:
    """The search as an ordered queryset (to page through) and a result holding what it found out on the way
    (the postcode's place, or that the postcode is unknown)."""
    qs = directory_for(user=user).prefetch_related(
        Prefetch("schedules", queryset=Schedule.objects.order_by("opens_at"))
    )
    if not search.include_inactive:
        qs = qs.filter(status__in=[ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED])
    order: list[Any] = []
    if search.text.strip():
        query = SearchQuery(search.text.strip(), config="english", search_type="websearch")
        qs = qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
        order.append(F("rank").desc())
    if search.categories:
        qs = qs.filter(categories__overlap=list(search.categories))
    if search.accessibility:
        qs = qs.filter(accessibility__contains=list(search.accessibility))
    if search.free_only:
        qs = qs.filter(is_free=True)
    if search.open_only:
        qs = qs.filter(capacity="open")
    schedule_filter = Q()
    if search.day:
        schedule_filter &= Q(schedules__byday__contains=[search.day])
    if search.time_of_day in TIMES_OF_DAY:
        start, end = TIMES_OF_DAY[search.time_of_day]
        schedule_filter &= Q(schedules__opens_at__gte=start, schedules__opens_at__lt=end)
    if schedule_filter:
        qs = qs.filter(pk__in=CommunityService.objects.filter(schedule_filter).values("pk"))
    result = SearchResult(services=[])
    if search.postcode.strip():
        origin = PostcodeArea.objects.filter(postcode=PostcodeArea.key(search.postcode)).first()
        if origin is None or origin.latitude is None:
            result.unknown_postcode = True
        else:
            result.origin = origin
            qs = qs.annotate(distance=distance_km(origin.latitude, origin.longitude))
            if search.within_km:
                qs = qs.filter(distance__lte=search.within_km)
            order.insert(0, F("distance").asc(nulls_last=True))
    return result, qs.order_by(*order, "name")


def service_for_user(user: Any, service_id: UUID, *, write: bool = False) -> CommunityService:
    """A directory entry of one of the user's services (404 otherwise). Changing it needs a link worker or
    service manager role in *that* service (403 otherwise), not just somewhere."""
    service = (
        directory_for(user=user)
        .prefetch_related("schedules")
        .select_related("last_checked_by")
        .filter(pk=service_id)
        .first()
    )
    if service is None:
        raise Http404
    if write and not can_maintain(user, service.provider):
        raise PermissionDenied
    return service


def provider_for_user(user: Any, provider_id: UUID, *, write: bool = False) -> Provider:
    """An organisation in one of the user's services' directories (404 otherwise); writes as for
    ``service_for_user``."""
    provider = Provider.objects.filter(pk=provider_id, service__in=_service_ids(user)).first()
    if provider is None:
        raise Http404
    if write and not can_maintain(user, provider):
        raise PermissionDenied
    return provider


@dataclass
class OverdueReviews:
    count: int
    first: list[CommunityService]


def overdue_reviews(*, user: Any, today: dt.date | None = None, show: int = 10) -> OverdueReviews:
    """Directory entries never checked or past their review date (``CommunityService.review_overdue``), counted
    and the first few listed by PostgreSQL (two queries, whatever the size of the directory: filtering every
    entry in Python cost ~20 ms a page at 5,000 services)."""
    today = today or timezone.localdate()
    due_on = ExpressionWrapper(F("last_checked_on") + F("review_every_days"), output_field=models.DateField())
    overdue = (
        directory_for(user=user)
        .exclude(status=ServiceStatus.DEFUNCT)
        .alias(due_on=due_on)
        .filter(Q(last_checked_on=None) | Q(due_on__lt=today))
    )
    return OverdueReviews(count=overdue.count(), first=list(overdue.order_by("name")[:show]))


def can_maintain(user: Any, provider: Provider) -> bool:
    """Service managers and link workers maintain their service's directory."""
    return provider.service_id in _service_ids(user, Role.SERVICE_MANAGER, Role.LINK_WORKER)
