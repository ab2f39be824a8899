"""Reads of the community directory, scoped to the user's services."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router
from django.db.models import Count, ExpressionWrapper, F, FloatField, Func, Lookup, Q, QuerySet, Window
from django.http import Http404
from django.utils import timezone

from community.models import CommunityService, PostcodeArea, Provider, ServiceStatus
from linkwork import compiled
from linkwork.accounts.access import SERVICE_ROLES
from linkwork.accounts.access import access_for as access_for  # re-exported for views
from linkwork.accounts.models import Role
from linkwork.by_pk import fetch_by_pk
from linkwork.links import object_url

EARTH_RADIUS_KM = 6371.0
TIMES_OF_DAY = {
    "morning": (dt.time(0, 0), dt.time(12, 0)),
    "afternoon": (dt.time(12, 0), dt.time(17, 0)),
    "evening": (dt.time(17, 0), dt.time(23, 59, 59)),
}


def _service_ids(user: Any, *roles: str) -> set[UUID]:
    return access_for(user).service_ids(*(roles or SERVICE_ROLES))


class _EqualsAny(Lookup):
    """``lhs = ANY(array)``, for an array PostgreSQL works out once, before the query runs."""

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def directory_for(*, user: Any) -> QuerySet[CommunityService]:
    """The entries of the user's services' directories, with their organisation.

    The user's organisations are listed first (``ARRAY(SELECT ...)``) and their entries found by
    ``provider_id``. Written as a join (``provider__service__in``), PostgreSQL scanned every service in every
    directory (all of them, or half by category) and hash-joined the user's organisations afterwards: at ICB
    scale (5,000 services, ~500 in a service's directory) a search took 3.5 ms and the overdue reviews 2.4 ms,
    now 0.8 ms and 0.5 ms (EXPLAIN ANALYZE, make bench data)."""
    return directory_of(_service_ids(user)).select_related("provider")


def directory_of(service_ids: Iterable[UUID]) -> QuerySet[CommunityService]:
    """The entries of these services' directories (``directory_for``, for ids already known)."""
    providers = ArraySubquery(Provider.objects.filter(service__in=service_ids).order_by().values("pk"))
    return CommunityService.objects.filter(_EqualsAny(F("provider_id"), providers))


# What a result card (templates/community/_results.html) shows, and all a search fetches: the service's own
# ``schedule`` words, not its ``schedules`` rows; not the search vector, timestamps or contact details. Half the
# columns, and no timestamps to parse (~1 ms of a directory search's Python time). A field the cards start to
# show must be added here, or each card fetches it on its own (the view's query-count tests would fail).
CARD_FIELDS = (
    "name",
    "description",
    "provider__name",
    "is_free",
    "cost_amount",
    "cost_description",
    "capacity",
    "status",
    "schedule",
    "safeguarding_policy_seen",
    "insurance_seen",
    "dbs_check",
    "last_checked_on",
    "review_every_days",
)


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


class DistanceKm(Func):
    """Great-circle distance (spherical law of cosines) from a point to each service, in km, in SQL; NULL for a
    service without coordinates (GREATEST and LEAST skip NULLs: without the CASE it would be 0 km away).

    One SQL template with the point's sine and cosine worked out here, not a tree of Cos, Radians, Greatest and
    Least expressions: Django hashed and compiled that tree of ~30 nodes for the SELECT, the WHERE and the ORDER
    BY of every search, ~1.5 ms of a directory search's Python time."""

    output_field = FloatField()

    def __init__(self, cos_latitude: float, longitude: float, sin_latitude: float) -> None:
        """The point as the SQL uses it (radians, and the latitude's cosine and sine): ``around()`` works them
        out from degrees. Given as they are, they can be inputs of a kept statement (``linkwork.compiled``)."""
        super().__init__(F("latitude"), F("longitude"))
        self.point = (cos_latitude, longitude, sin_latitude)

    @classmethod
    def around(cls, latitude: float, longitude: float) -> DistanceKm:
        return cls(*point_of(latitude, longitude))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (lat, lat_params), (lng, lng_params) = (compiler.compile(e) for e in self.get_source_expressions())
        cos_lat0, lng0, sin_lat0 = self.point
        sql = (
            f"CASE WHEN {lat} IS NULL THEN NULL ELSE {EARTH_RADIUS_KM} * ACOS(GREATEST(-1.0, LEAST(1.0, "
            f"%s * COS(RADIANS({lat})) * COS(RADIANS({lng}) - %s) + %s * SIN(RADIANS({lat}))))) END"
        )
        params = [*lat_params, cos_lat0, *lat_params, *lng_params, lng0, sin_lat0, *lat_params]
        return sql, params


def point_of(latitude: float, longitude: float) -> tuple[float, float, float]:
    """A point as DistanceKm's SQL uses it: the latitude's cosine, the longitude in radians, the latitude's sine."""
    lat0, lng0 = math.radians(float(latitude)), math.radians(float(longitude))
    return math.cos(lat0), lng0, math.sin(lat0)


def _postcode_area(key: str) -> PostcodeArea | None:
    """The postcode's row, by its primary key with the SQL compiled once a process (``linkwork.by_pk``)."""
    try:
        return fetch_by_pk(PostcodeArea, key, using=router.db_for_read(PostcodeArea))
    except (PostcodeArea.DoesNotExist, ValidationError):
        return None


def search_services(*, user: Any, search: Search, limit: int = 100) -> SearchResult:
    """Directory search for link workers: free text (PostgreSQL full-text, ranked), category, day and time of
    day, free only, accessibility needs, open to new members, and distance from a postcode where coordinates
    are known. Two queries whatever the directory size: the postcode and the services."""
    result, qs = search_queryset(user=user, search=search)
    result.services = list(qs[:limit])
    return result


def search_queryset(*, user: Any, search: Search) -> tuple[SearchResult, QuerySet[CommunityService]]:
    """The search as an ordered queryset (to page through) and a result holding what it found out on the way
    (the postcode's place, or that the postcode is unknown)."""
    result, shape, inputs = search_plan(user=user, search=search)
    return result, search_builder(shape)(*inputs)


# What a search's SQL depends on besides its inputs: how many services, whether there are words, how many
# categories and needs (Django writes each array element as a parameter of its own), and the values with few
# choices (day, time of day, free, open, inactive too, the distance limit). Inputs are the services' ids, the
# words, the categories, the accessibility needs and the point, in that order, each only if asked.
SearchShape = tuple[int, bool, int, int, bool, bool, str, str, bool, bool, Any]


def search_plan(*, user: Any, search: Search) -> tuple[SearchResult, SearchShape, tuple[Any, ...]]:
    """The search's result so far (the postcode's place), its shape and its inputs: ``search_builder(shape)``
    builds the queryset from the inputs. Split so that the directory can keep the statement a process for each
    shape (``linkwork.compiled``): building and compiling a search cost more than running it."""
    result = SearchResult(services=[])
    service_ids = tuple(sorted(_service_ids(user)))
    text = search.text.strip()
    point: tuple[float, float, float] | None = None
    if search.postcode.strip():
        origin = _postcode_area(PostcodeArea.key(search.postcode))
        if origin is None or origin.latitude is None:
            result.unknown_postcode = True
        else:
            result.origin = origin
            point = point_of(origin.latitude, origin.longitude)
    shape: SearchShape = (
        len(service_ids),
        bool(text),
        len(search.categories),
        len(search.accessibility),
        search.free_only,
        search.open_only,
        search.day,
        search.time_of_day if search.time_of_day in TIMES_OF_DAY else "",
        search.include_inactive,
        point is not None,
        search.within_km if point is not None else None,
    )
    inputs = (
        *service_ids,
        *((text,) if text else ()),
        *search.categories,
        *search.accessibility,
        *(point or ()),
    )
    return result, shape, inputs


def search_builder(shape: SearchShape) -> Callable[..., QuerySet[CommunityService]]:
    """A function of a search's inputs (``search_plan``) that builds its ordered queryset."""
    services, has_text, categories, needs, free_only, open_only, day, time_of_day = shape[:8]
    include_inactive, has_point, within_km = shape[8:]

    def build(*inputs: Any) -> QuerySet[CommunityService]:
        given = iter(inputs)
        service_ids = [next(given) for _ in range(services)]
        qs = directory_of(service_ids).select_related("provider").only(*CARD_FIELDS)
        if not include_inactive:
            qs = qs.filter(status__in=[ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED])
        order: list[Any] = []
        if has_text:
            query = SearchQuery(next(given), config="english", search_type="websearch")
            qs = qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
            order.append(F("rank").desc())
        if categories:
            qs = qs.filter(categories__overlap=[next(given) for _ in range(categories)])
        if needs:
            qs = qs.filter(accessibility__contains=[next(given) for _ in range(needs)])
        if free_only:
            qs = qs.filter(is_free=True)
        if open_only:
            qs = qs.filter(capacity="open")
        schedule_filter = Q()
        if day:
            schedule_filter &= Q(schedules__byday__contains=[day])
        if time_of_day:
            start, end = TIMES_OF_DAY[time_of_day]
            schedule_filter &= Q(schedules__opens_at__gte=start, schedules__opens_at__lt=end)
        if schedule_filter:
            qs = qs.filter(pk__in=CommunityService.objects.filter(schedule_filter).values("pk"))
        if has_point:
            qs = qs.annotate(distance=DistanceKm(next(given), next(given), next(given)))
            if within_km:
                qs = qs.filter(distance__lte=within_km)
            order.insert(0, F("distance").asc(nulls_last=True))
        # The id breaks ties between services of the same name, so that paging neither repeats nor skips one.
        return qs.order_by(*order, "name", "pk")

    return build


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


@dataclass(frozen=True)
class OverdueEntry:
    pk: UUID
    name: str

    @property
    def url(self) -> str:
        return object_url("community:service", self.pk)


@dataclass
class OverdueReviews:
    count: int
    first: list[OverdueEntry]


def overdue_reviews(*, user: Any, today: dt.date | None = None, show: int = 10) -> OverdueReviews:
    """Directory entries never checked or past their review date (``CommunityService.review_overdue``), counted
    and the first few listed by PostgreSQL in one query whatever the size of the directory (``COUNT(*) OVER ()``
    counts before the LIMIT; filtering every entry in Python cost ~20 ms a page at 5,000 services). The entries
    carry their name and id only: the directory page links to them."""
    today = today or timezone.localdate()
    service_ids = tuple(sorted(_service_ids(user)))
    if not service_ids:
        return OverdueReviews(count=0, first=[])
    limit = max(show, 1)
    # The statement is kept a process for each number of services and day, and asked with the user's services
    # (linkwork.compiled): building and compiling it (an array subquery, an expression, a window) took longer
    # than PostgreSQL took to answer it (make bench: 1.4 ms against 0.9 ms).
    rows = compiled.values(
        ("community.overdue", len(service_ids), today, limit),
        lambda *services: _overdue(services, today, limit),
        inputs=service_ids,
    )
    first = [OverdueEntry(row["pk"], row["name"]) for row in rows[:show]]
    return OverdueReviews(count=rows[0]["overdue_count"] if rows else 0, first=first)


def _overdue(service_ids: Iterable[UUID], today: dt.date, limit: int) -> QuerySet[CommunityService]:
    due_on = ExpressionWrapper(F("last_checked_on") + F("review_every_days"), output_field=models.DateField())
    return (
        directory_of(service_ids)
        .exclude(status=ServiceStatus.DEFUNCT)
        .alias(due_on=due_on)
        .filter(Q(last_checked_on=None) | Q(due_on__lt=today))
        .annotate(overdue_count=Window(Count("*")))
        .order_by("name", "pk")
        .values("pk", "name", "overdue_count")[:limit]
    )


def can_maintain(user: Any, provider: Provider) -> bool:
    """Service managers and link workers maintain their service's directory."""
    return provider.service_id in _service_ids(user, Role.SERVICE_MANAGER, Role.LINK_WORKER)
