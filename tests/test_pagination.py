"""linkwork.pagination.paginate: the numbered links keep what was asked (the filters) and name one page each."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.test import RequestFactory

from linkwork.pagination import paginate


def _links(query: str, *, items: int = 100, per_page: int = 10) -> tuple[list[str], str, str]:
    request = RequestFactory().get("/somewhere/" + query)
    pagination = paginate(request, list(range(items)), per_page=per_page)
    return [link.url for link in pagination.links if link.number], pagination.previous_url, pagination.next_url


def test_every_link_keeps_the_filters_and_names_a_single_page() -> None:
    query = "?q=walking+group&categories=peer_support&categories=befriending&page=4&postcode=LS1+4AP"
    urls, previous, following = _links(query)
    for url in [*urls, previous, following]:
        asked = parse_qs(urlsplit(url).query)
        assert asked["q"] == ["walking group"]
        assert asked["categories"] == ["peer_support", "befriending"]
        assert asked["postcode"] == ["LS1 4AP"]
        assert len(asked["page"]) == 1
    assert parse_qs(urlsplit(previous).query)["page"] == ["3"]
    assert parse_qs(urlsplit(following).query)["page"] == ["5"]
    assert [parse_qs(urlsplit(url).query)["page"][0] for url in urls] == ["1", "2", "3", "4", "5", "10"]


def test_without_filters_a_link_is_just_the_page() -> None:
    urls, previous, following = _links("")
    assert previous == ""
    assert following == "?page=2"
    assert urls[:2] == ["?page=1", "?page=2"]


def test_what_was_typed_is_encoded_in_the_links_not_passed_through() -> None:
    urls, _, following = _links("?q=%3Cscript%3E+%26+%22x%22&page=2")
    assert following == "?q=%3Cscript%3E+%26+%22x%22&page=3"
    assert all("<" not in url and '"' not in url for url in urls)


def test_one_page_has_no_links() -> None:
    assert _links("?q=x", items=5) == ([], "", "")
