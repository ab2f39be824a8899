"""Links to an object's pages, reversed once a process rather than once a link.

A busy page has a hundred of them (a caseload line each, twenty on a case page), and Django's ``reverse`` costs
more than the rest of the link: the pattern is reversed once with a stand-in id, then filled in."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from django.urls import get_script_prefix, reverse

_STAND_IN = UUID(int=0)


@lru_cache(maxsize=128)
def _pattern(name: str, script_prefix: str) -> str:
    # The prefix is part of the key, so a site mounted under another path gets its own links.
    return reverse(name, args=[_STAND_IN])


def object_url(name: str, pk: UUID) -> str:
    """``reverse(name, args=[pk])`` for a URL taking one UUID."""
    return _pattern(name, get_script_prefix()).replace(str(_STAND_IN), str(pk))


@lru_cache(maxsize=32)
def _page(name: str, script_prefix: str) -> str:
    return reverse(name)


def page_url(name: str) -> str:
    """``reverse(name)`` for a URL taking no arguments (the dashboard's 300 drill-down links share one)."""
    return _page(name, get_script_prefix())
