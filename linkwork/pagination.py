"""Long lists shown a page at a time, with the NHS.UK numbered pagination (templates/includes/pagination.html).

https://service-manual.nhs.uk/design-system/components/pagination"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


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


def _url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"?{query.urlencode()}"


def paginate(request: HttpRequest, items: Any, *, per_page: int = PER_PAGE) -> Pagination:
    """The page named by ``?page=`` (the first for nonsense, the last if past the end): two queries for a
    queryset, a count and the page. Other query parameters (filters) are kept in the links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    pagination = Pagination(page=page)
    if page.paginator.num_pages <= 1:
        return pagination
    if page.has_previous():
        pagination.previous_url = _url(request, page.previous_page_number())
    if page.has_next():
        pagination.next_url = _url(request, page.next_page_number())
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        if number == Paginator.ELLIPSIS:
            pagination.links.append(PageLink(number=None))
        else:
            pagination.links.append(
                PageLink(number=int(number), url=_url(request, int(number)), current=number == page.number)
            )
    return pagination
