from __future__ import annotations

from django import template

from linkwork.links import object_url as _object_url
from linkwork.links import page_url
from linkwork.nhs import format_nhs_number

register = template.Library()


@register.filter
def nhs_number(value: str) -> str:
    """Show an NHS number as 943 476 5919."""
    return format_nhs_number(value)


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """``{{ charts|get_item:table.key }}``: a dictionary lookup with a variable key."""
    return mapping.get(key, "")


@register.simple_tag
def fixed_url(name: str) -> str:
    """``{% fixed_url 'accounts:login' %}``: ``{% url %}`` for a route without arguments, reversed once a process
    (``linkwork.links.page_url``) instead of on every page. The header and footer of every page link to seven
    such routes; reversing them was about 0.35 ms of each signed-in page (make bench)."""
    return page_url(name)


@register.simple_tag
def object_url(name: str, pk: object) -> str:
    """``{% object_url 'clients:case' case.pk %}``: ``{% url %}`` for a route taking one id
    (``linkwork.links.object_url``: the pattern is reversed once a process and the id put in its place)."""
    return _object_url(name, pk)
