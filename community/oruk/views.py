"""The Open Referral UK 3.0 read API: open (no key), GET only, ``Access-Control-Allow-Origin: *`` on every
response, JSON errors. Only published services (public and active) appear; see ``selectors.published_services``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from community.oruk import forms, selectors, serializers
from linkwork import compiled

View = Callable[..., HttpResponse]


def _error(status: int, detail: str, **extra: Any) -> JsonResponse:
    titles = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    return JsonResponse({"status": status, "error": titles[status], "detail": detail, **extra}, status=status)


def oruk_endpoint(view: View) -> View:
    """GET (and HEAD) only, open to any origin. CSRF checks are off because nothing here accepts a write: without
    the exemption a POST would get the CSRF 403 instead of the 405 the profile expects."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            response = view(request, *args, **kwargs)
        else:
            response = _error(405, "This API is read-only: use GET.")
            response["Allow"] = "GET, HEAD"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return csrf_exempt(wrapper)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# The unfiltered list is what a directory reader harvests, page after page: its count and its first pages are
# asked with the same SQL every time, so their statements are kept a process (linkwork.compiled) instead of
# being built and compiled on each request (a quarter of the request, make bench, scale 10). Later pages, and
# any filtered list, are built as usual: a page number or a filter is part of the statement, and keeping
# every one a reader could ask for would crowd out the statements the link workers' pages keep.
KEPT_PAGES = 10


def _page(
    qs: QuerySet[Any], form: forms.PageForm, build: Callable[[Any], dict[str, Any]], *, kept_as: str | None = None
) -> JsonResponse:
    """Two queries whatever the size: the count, then the page (prefetches on `qs` add theirs). ``kept_as``
    names ``qs`` when it is the same queryset on every call, so its statements can be kept."""
    page_number, per_page = form.cleaned_data["page"], form.cleaned_data["per_page"]
    start = (page_number - 1) * per_page
    if kept_as is not None and page_number <= KEPT_PAGES:
        total = compiled.count((kept_as, "count"), lambda: qs)
        rows = (
            compiled.instances((kept_as, start, per_page), lambda: qs[start : start + per_page])
            if start < total
            else []
        )
    else:
        total = qs.count()
        rows = list(qs[start : start + per_page]) if start < total else []
    contents = [build(item) for item in rows]
    return JsonResponse(serializers.page(contents=contents, total=total, page_number=page_number, per_page=per_page))


def _invalid(form: forms.PageForm) -> JsonResponse:
    return _error(400, "Some query parameters are not valid.", errors=forms.errors_of(form))


@oruk_endpoint
def index(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "version": serializers.HSDS_VERSION,
            "profile": serializers.PROFILE_URL,
            "openapi_url": serializers.OPENAPI_URL,
        }
    )


@oruk_endpoint
def services(request: HttpRequest) -> HttpResponse:
    """Queries: the count and the page of services with their organisations."""
    form = forms.ServiceQueryForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    qs = selectors.filter_services(selectors.published_services(), filters=form.cleaned_data)
    return _page(qs, form, serializers.service_summary, kept_as=None if form.filtered else "oruk.services")


@oruk_endpoint
def service(request: HttpRequest, id: str) -> HttpResponse:
    """Queries: the service with its organisation, its schedules, the taxonomy terms."""
    service_id = _uuid(id)
    found = selectors.service_detail(service_id) if service_id else None
    if found is None:
        return _error(404, "There is no published service with this id.")
    return JsonResponse(serializers.service_full(found, terms=selectors.terms_by_code()))


@oruk_endpoint
def service_at_locations(request: HttpRequest) -> HttpResponse:
    """Queries: the postcode (when given), the count, and the page of located services."""
    form = forms.LocationQueryForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    qs = selectors.with_location(selectors.filter_services(selectors.published_services(), filters=form.cleaned_data))
    postcode = form.cleaned_data["postcode"]
    if postcode:
        point = selectors.postcode_point(postcode)
        if point is None:
            return _error(400, "We do not know where this postcode is.", errors={"postcode": ["Unknown postcode."]})
        qs = selectors.near(qs, point=point, within_m=form.cleaned_data["proximity"])
    return _page(qs, form, lambda s: serializers.service_at_location(s, full=False))


@oruk_endpoint
def service_at_location(request: HttpRequest, id: str) -> HttpResponse:
    """Queries: the service with its organisation, its schedules, the taxonomy terms."""
    sal_id = _uuid(id)
    found = selectors.located_detail(sal_id) if sal_id else None
    if found is None:
        return _error(404, "There is no published service at a location with this id.")
    return JsonResponse(serializers.service_at_location(found, full=True, terms=selectors.terms_by_code()))


@oruk_endpoint
def taxonomies(request: HttpRequest) -> HttpResponse:
    """Linkwork publishes one taxonomy, its activity categories. No queries."""
    form = forms.PageForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    page_number, per_page = form.cleaned_data["page"], form.cleaned_data["per_page"]
    contents = [serializers.taxonomy()] if page_number == 1 else []
    return JsonResponse(serializers.page(contents=contents, total=1, page_number=page_number, per_page=per_page))


@oruk_endpoint
def taxonomy(request: HttpRequest, id: str) -> HttpResponse:
    if _uuid(id) != serializers.TAXONOMY_ID:
        return _error(404, "There is no taxonomy with this id.")
    return JsonResponse(serializers.taxonomy(terms=selectors.taxonomy_terms()))


@oruk_endpoint
def taxonomy_terms(request: HttpRequest) -> HttpResponse:
    form = forms.PageForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    return _page(selectors.taxonomy_terms(), form, serializers.taxonomy_term)


@oruk_endpoint
def taxonomy_term(request: HttpRequest, id: str) -> HttpResponse:
    term_id = _uuid(id)
    term = selectors.taxonomy_terms().filter(pk=term_id).first() if term_id else None
    if term is None:
        return _error(404, "There is no taxonomy term with this id.")
    return JsonResponse(serializers.taxonomy_term(term))
