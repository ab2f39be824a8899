"""Template helpers for the caseload dashboard: every number is a link to the list behind it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from outcomes.supervision_selectors import MEASURES

register = template.Library()


@register.simple_tag
def drill(value: Any, measure: str, who: str, text: str = "", **params: Any) -> SafeString:
    """``value`` as a link to the list behind it (``supervision:cases`` with ``measure`` and ``params``), named
    for screen readers by what it counts ("3 active cases, Amira Khan"). Nothing to list shows a plain 0.

    The name is an aria-label rather than visually hidden text: that text is absolutely positioned, and inside
    a table that scrolls sideways on a phone it would escape the scrolling box and widen the page."""
    shown = text or str(value)
    if not value:
        return format_html("{}", shown)
    query = urlencode({"measure": measure, **{k: v for k, v in params.items() if v}})
    return format_html(
        '<a href="{}?{}" aria-label="{} {}, {}">{}</a>',
        reverse("supervision:cases"),
        query,
        shown,
        MEASURES[measure].label.lower(),
        who,
        shown,
    )
