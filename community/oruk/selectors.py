"""Reads for the public ORUK API. Everything starts from ``published_services()``, so nothing unpublished can leak
through a filter, and nothing here touches client data."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt

from community.models import CommunityService, PostcodeArea, Schedule, ServiceStatus, TaxonomyTerm
from community.oruk.serializers import TAXONOMY_ID, has_location, service_id_for_location

EARTH_RADIUS_M = 6_371_000.0


def published_services() -> QuerySet[CommunityService]:
    """Services the directory publishes: marked public and active. The only way into ORUK data."""
    # In the order of the partial index service_published_name_idx (community migration 0005). The search
    # vector is for filtering and ranking in SQL, never sent: deferred, it is not fetched with every row.
    return (
        CommunityService.objects.filter(is_public=True, status=ServiceStatus.ACTIVE)
        .select_related("provider")
        .defer("search_vector")
    )


def _with_details(qs: QuerySet[CommunityService]) -> QuerySet[CommunityService]:
    return qs.prefetch_related("schedules")


def filter_services(qs: QuerySet[CommunityService], *, filters: Mapping[str, Any]) -> QuerySet[CommunityService]:
    """Apply the ORUK filters (cleaned by ``ServiceQueryForm``) without extra queries: the taxonomy and schedule
    conditions are subqueries. Ordered by relevance when searching, then by name and id so pages are stable."""
    order: list[Any] = []
    if filters.get("search"):
        query = SearchQuery(filters["search"], config="english", search_type="websearch")
        qs = qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
        order.append(F("rank").desc())
    if filters.get("taxonomy_term_id"):
        # && rather than @>: an unknown term gives an empty array, which @> would match everywhere.
        codes = ArraySubquery(TaxonomyTerm.objects.filter(pk=filters["taxonomy_term_id"]).values("code"))
        qs = qs.filter(categories__overlap=codes)
    if filters.get("taxonomy_id"):
        qs = qs.exclude(categories=[]) if filters["taxonomy_id"] == TAXONOMY_ID else qs.none()
    if filters.get("organization_id"):
        qs = qs.filter(provider_id=filters["organization_id"])
    # ORUK: "a minimum age of at least" and "a maximum age equal to or below" the value given.
    if filters.get("minimum_age") is not None:
        qs = qs.filter(minimum_age__gte=filters["minimum_age"])
    if filters.get("maximum_age") is not None:
        qs = qs.filter(maximum_age__lte=filters["maximum_age"])
    # Day and times must hold for the same schedule: "Tuesdays from 10:00", not "some day, some time".
    when = Q()
    if filters.get("day"):
        when &= Q(byday__contains=[filters["day"]])
    if filters.get("start_time"):
        when &= Q(opens_at__gte=filters["start_time"])
    if filters.get("end_time"):
        when &= Q(closes_at__lte=filters["end_time"])
    if when:
        qs = qs.filter(pk__in=Schedule.objects.filter(when).values("service_id"))
    if filters.get("modified_after"):
        qs = qs.filter(updated_at__gte=filters["modified_after"])
    return qs.order_by(*order, "name", "id")


def service_detail(service_id: uuid.UUID) -> CommunityService | None:
    """A published service with its organisation and schedules, or None (unknown, private or not active)."""
    return _with_details(published_services()).filter(pk=service_id).first()


def located_detail(service_at_location_id: uuid.UUID) -> CommunityService | None:
    """The published service behind a service_at_location id, if it has a location."""
    service = service_detail(service_id_for_location(service_at_location_id))
    return service if service is not None and has_location(service) else None


def with_location(qs: QuerySet[CommunityService]) -> QuerySet[CommunityService]:
    return qs.filter(~Q(address="") | ~Q(postcode="") | Q(latitude__isnull=False))


def postcode_point(postcode: str) -> tuple[float, float] | None:
    """The centre of a postcode (upper case, no spaces) from ``PostcodeArea``, if its coordinates are known."""
    area = PostcodeArea.objects.filter(postcode=postcode, latitude__isnull=False, longitude__isnull=False).first()
    if area is None or area.latitude is None or area.longitude is None:
        return None
    return (area.latitude, area.longitude)


def near(
    qs: QuerySet[CommunityService], *, point: tuple[float, float], within_m: float | None
) -> QuerySet[CommunityService]:
    """Annotate ``distance`` (metres, haversine in SQL), keep those within ``within_m`` if given, nearest first;
    services without coordinates come last, or not at all when a distance is required."""
    lat, lng = (math.radians(v) for v in point)
    half_dlat = (Radians(F("latitude")) - Value(lat)) / Value(2.0)
    half_dlng = (Radians(F("longitude")) - Value(lng)) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Value(math.cos(lat)) * Cos(Radians(F("latitude"))) * Power(Sin(half_dlng), 2)
    distance = Value(2.0 * EARTH_RADIUS_M) * ASin(Sqrt(a), output_field=FloatField())
    qs = qs.annotate(distance=distance)
    if within_m is not None:
        qs = qs.filter(distance__lte=within_m)
    return qs.order_by(F("distance").asc(nulls_last=True), "name", "id")


def terms_by_code() -> dict[str, TaxonomyTerm]:
    return {t.code: t for t in TaxonomyTerm.objects.all()}


def taxonomy_terms() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.order_by("name", "id")
