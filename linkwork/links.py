"""Links to an object's pages, reversed once a process rather than once a link.

A busy page has a hundred of them (a caseload line each, twenty on a case page), and Django's ``reverse`` costs
more than the rest of the link: the pattern is reversed once with a stand-in id, then filled in."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from django.urls import get_script_prefix, reverse

_STAND_IN = UUID(int=0)
_INT_STAND_IN = 918_273_645_546_372  # no real id looks like it, so replacing it touches nothing else


@lru_cache(maxsize=128)
def _pattern(name: str, script_prefix: str, stand_in: UUID | int) -> str:
    # The prefix is part of the key, so a site mounted under another path gets its own links.
    return reverse(name, args=[stand_in])


def object_url(name: str, pk: UUID | int) -> str:
    """``reverse(name, args=[pk])`` for a URL taking one UUID, or one integer id."""
    stand_in = _INT_STAND_IN if isinstance(pk, int) else _STAND_IN
    return _pattern(name, get_script_prefix(), stand_in).replace(str(stand_in), str(pk))


@lru_cache(maxsize=64)  # the header, footer and navigation use 17 names, the pages about 10 more
def _page(name: str, script_prefix: str) -> str:
    return reverse(name)


def page_url(name: str) -> str:
    """``reverse(name)`` for a URL taking no arguments (the dashboard's 300 drill-down links share one)."""
    return _page(name, get_script_prefix())
