"""Long lists shown a page at a time, with the NHS.UK numbered pagination (templates/includes/pagination.html).

https://service-manual.nhs.uk/design-system/components/pagination"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest

from linkwork import compiled

PER_PAGE = 50


class PageWithTotal:
    """A queryset as ``Paginator`` sees it (``count()``, then a slice), fetching the page asked for and the
    number of matches in one query: ``COUNT(*) OVER ()`` is computed before the LIMIT, so every row carries
    the total. The separate COUNT repeated the whole search (~7 ms of 25 ms of SQL for a directory search at
    ICB scale, make bench). A page number ``Paginator`` reads differently (past the end, below 1) costs a plain
    count and the page it settles on, as before.

    ``queryset`` may be a function that builds it, with ``key``: then a page's SQL is kept a process under
    ``(key, first row, last row)`` (``linkwork.compiled``), and the queryset is built only the first time, or
    for the plain count. ``key`` and ``inputs`` (given to the function) must hold everything it is built from."""

    def __init__(
        self,
        queryset: QuerySet[Any] | Callable[[], QuerySet[Any]],
        *,
        page: str | None,
        per_page: int,
        key: Hashable | None = None,
        inputs: tuple[Any, ...] = (),
    ) -> None:
        self._queryset = queryset
        self.key = key
        self.inputs = inputs
        try:
            number = int(page or 1)
        except ValueError:
            number = 1
        self.bottom = (number - 1) * per_page if number >= 1 else -1
        self.top = self.bottom + per_page
        self.rows: list[Any] | None = None

    @cached_property
    def queryset(self) -> QuerySet[Any]:
        return self._queryset if isinstance(self._queryset, QuerySet) else self._queryset(*self.inputs)

    def _page_with_totals(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.annotate(total_matches=Window(Count("*")))[self.bottom : self.top]

    def count(self) -> int:
        if self.bottom < 0:
            return self.queryset.count()
        if self.key is None or isinstance(self._queryset, QuerySet):
            self.rows = list(self._page_with_totals(self.queryset))
        else:
            build = self._queryset
            self.rows = compiled.instances(
                (self.key, self.bottom, self.top),
                lambda *inputs: self._page_with_totals(build(*inputs)),
                inputs=self.inputs,
            )
        if self.rows:
            return int(self.rows[0].total_matches)
        return 0 if self.bottom == 0 else self.queryset.count()

    def __getitem__(self, key: slice) -> list[Any]:
        # Paginator asks for [bottom:top], or [bottom:count] on the last page: both within the rows fetched.
        if self.rows is not None and key.start == self.bottom and (key.stop or 0) <= self.top:
            return self.rows[: (key.stop or 0) - key.start]
        return list(self.queryset[key])


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None for an ellipsis
    url: str = ""
    current: bool = False


@dataclass
class Pagination:
    page: Page
    previous_url: str = ""
    next_url: str = ""
    links: list[PageLink] = field(default_factory=list)

    @property
    def items(self) -> Any:
        return self.page.object_list


def _page_url_prefix(request: HttpRequest) -> str:
    """The links' query string up to the page number: the other parameters (the filters) once, then ``page=``.
    Copying and encoding the whole query for each link was about a tenth of a millisecond a paged page (4
    links, the directory search, make bench)."""
    query = request.GET.copy()
    query.pop("page", None)
    others = query.urlencode()
    return f"?{others}&page=" if others else "?page="


def paginate(request: HttpRequest, items: Any, *, per_page: int = PER_PAGE) -> Pagination:
    """The page named by ``?page=`` (the first for nonsense, the last if past the end): two queries for a
    queryset, a count and the page. Other query parameters (filters) are kept in the links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    pagination = Pagination(page=page)
    if page.paginator.num_pages <= 1:
        return pagination
    prefix = _page_url_prefix(request)
    if page.has_previous():
        pagination.previous_url = f"{prefix}{page.previous_page_number()}"
    if page.has_next():
        pagination.next_url = f"{prefix}{page.next_page_number()}"
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if number == Paginator.ELLIPSIS:
            pagination.links.append(PageLink(number=None))
        else:
            pagination.links.append(
                PageLink(number=int(number), url=f"{prefix}{int(number)}", current=number == page.number)
            )
    return pagination
