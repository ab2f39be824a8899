"""Filters for the NHS.UK crispy template pack (templates/nhsuk/): the parts it repeats for every field and every
choice, done in Python. As template loops they were most of the time of a big form (the staff referral form
evaluated some 1,700 ``{% if %}`` tags for its choices' attributes alone)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Written by the templates themselves (the class, with the component's own; the hint and error ids), or left to
# the error summary and server-side checks (required: NHS.UK forms use novalidate and say what is missing).
HANDLED = frozenset({"class", "required", "aria-describedby"})


@register.filter
def nhsuk_attrs(attrs: Mapping[str, Any] | None, skip: str = "") -> SafeString:
    """A widget's other HTML attributes: ` name="value"`, a bare ` name` for True, nothing for False or None."""
    parts = []
    for name, value in (attrs or {}).items():
        if name in HANDLED or name == skip or value is False or value is None:
            continue
        parts.append(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        )
    # Every name and value is escaped above.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


@register.simple_tag(takes_context=True)
def nhsuk_choices(context: template.Context, field: Any) -> list[tuple[Any, str, str]]:
    """Each choice of a radios or checkboxes field as (option, hint, conditional content): from ``nhsuk_items``
    (linkwork.forms.Field's hints and conditional questions) when the context has them, else the field's own."""
    items: Iterable[Mapping[str, Any]] | None = context.get("nhsuk_items")
    if items:
        return [(item["option"], item["hint"], item["conditional"]) for item in items]
    return [(option, "", "") for option in field]


@register.simple_tag(takes_context=True)
def nhsuk_group_classes(context: template.Context) -> SafeString:
    """The form group's extra classes: the error state, and the layout's ``wrapper_class``."""
    field = context.get("field")
    classes = ""
    if context.get("form_show_errors") and field is not None and field.errors:
        classes += " nhsuk-form-group--error"
    wrapper = context.get("wrapper_class")
    if wrapper:
        classes += f" {conditional_escape(wrapper)}"
    return mark_safe(classes)  # noqa: S308  # nosec B308 B703 - the one value from outside is escaped


@register.simple_tag(takes_context=True)
def nhsuk_describedby(context: template.Context, first: str = "") -> SafeString:
    """` aria-describedby="..."`: ``first`` (a character count's message, say), then the hint, then the error
    message, by id; nothing when there are none."""
    field = context.get("field")
    ids = [first] if first else []
    if field is not None and field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if context.get("form_show_errors") and field is not None and field.errors:
        ids.append(f"{field.auto_id}-error")
    if not ids:
        return mark_safe("")  # noqa: S308  # nosec B308 B703
    return mark_safe(f' aria-describedby="{conditional_escape(" ".join(ids))}"')  # noqa: S308  # nosec B308 B703
