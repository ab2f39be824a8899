from __future__ import annotations

from django import template

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
