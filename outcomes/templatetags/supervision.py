"""Template helpers for the caseload dashboard: every number is a link to the list behind it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from linkwork.links import page_url
from outcomes.supervision_selectors import MEASURES

register = template.Library()


@register.simple_tag
def drill(value: Any, measure: str, who: str, text: str = "", **params: Any) -> SafeString:
    """``value`` as a link to the list behind it (``supervision:cases`` with ``measure`` and ``params``), named
    for screen readers by what it counts ("3 active cases, Amira Khan"). Nothing to list shows a plain 0.

    The name is an aria-label rather than visually hidden text: that text is absolutely positioned, and inside
    a table that scrolls sideways on a phone it would escape the scrolling box and widen the page."""
    shown = escape(text or str(value))
    if not value:
        return shown
    query = escape(urlencode({"measure": measure, **{k: v for k, v in params.items() if v}}))
    label = f"{shown} {_measure_label(measure)}, {escape(who)}"
    link = f'<a href="{escape(page_url("supervision:cases"))}?{query}" aria-label="{label}">{shown}</a>'
    return mark_safe(link)  # noqa: S308  # nosec B308 B703 - every part is escaped above


# The dashboard shows some 300 of these: its label lower-cased once a measure, not once a number.
@lru_cache(maxsize=64)
def _measure_label(measure: str) -> str:
    return escape(MEASURES[measure].label.lower())
