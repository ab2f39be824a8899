from __future__ import annotations

from django import template

from linkwork.nhs import format_nhs_number

register = template.Library()


@register.filter
def nhs_number(value: str) -> str:
    """Show an NHS number as 943 476 5919."""
    return format_nhs_number(value)
