"""Filters for the NHS.UK crispy template pack (templates/nhsuk/): the parts it repeats for every field and every
choice, done in Python. As template loops they were most of the time of a big form (the staff referral form
evaluated some 1,700 ``{% if %}`` tags for its choices' attributes alone)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.forms import BoundField
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


def _optional(field: Any) -> str:
    return "" if field.field.required else " (optional)"


@register.simple_tag(takes_context=True)
def nhsuk_label(context: template.Context) -> SafeString:
    """The field's label, "(optional)" when it is, as the page's heading when ``nhsuk_page_heading``."""
    field = context.get("field")
    if field is None or not field.label:
        return mark_safe("")  # noqa: S308  # nosec B308 B703
    classes = "nhsuk-label"
    if context.get("nhsuk_label_size"):
        classes += f" nhsuk-label--{conditional_escape(context.get('nhsuk_label_size'))}"
    if context.get("label_class"):
        classes += f" {conditional_escape(context.get('label_class'))}"
    if context.get("form_show_labels") == False:  # noqa: E712 - as the template compared: None is not False
        classes += " nhsuk-u-visually-hidden"
    label = (
        f'<label class="{classes}" for="{conditional_escape(field.id_for_label)}">'
        f"{conditional_escape(field.label)}{_optional(field)}</label>"
    )
    if context.get("nhsuk_page_heading"):
        label = f'<h1 class="nhsuk-label-wrapper">{label}</h1>'
    return mark_safe(label)  # noqa: S308  # nosec B308 B703 - every value from outside is escaped


@register.simple_tag(takes_context=True)
def nhsuk_legend(context: template.Context) -> SafeString:
    """A radios', checkboxes' or date's question as its fieldset's legend."""
    field = context["field"]
    classes = "nhsuk-fieldset__legend"
    if context.get("nhsuk_label_size"):
        classes += f" nhsuk-fieldset__legend--{conditional_escape(context.get('nhsuk_label_size'))}"
    if context.get("form_show_labels") == False:  # noqa: E712 - as the template compared: None is not False
        classes += " nhsuk-u-visually-hidden"
    text = f"{conditional_escape(field.label)}{_optional(field)}"
    if context.get("nhsuk_page_heading"):
        text = f'<h1 class="nhsuk-fieldset__heading">{text}</h1>'
    return mark_safe(f'<legend class="{classes}">{text}</legend>')  # noqa: S308  # nosec B308 B703


@register.simple_tag(takes_context=True)
def nhsuk_hint(context: template.Context) -> SafeString:
    """The field's hint (help text is the project's own, so written as given), by id for aria-describedby."""
    field = context.get("field")
    if field is None or not field.help_text:
        return mark_safe("")  # noqa: S308  # nosec B308 B703
    hint = f'\n  <div class="nhsuk-hint" id="{conditional_escape(field.auto_id)}-hint">{field.help_text}</div>'
    return mark_safe(hint)  # noqa: S308  # nosec B308 B703 - help text is ours, as |safe wrote it


@register.simple_tag(takes_context=True)
def nhsuk_error_message(context: template.Context) -> SafeString:
    """The field's errors, one a line, after a visually hidden "Error:", by id for aria-describedby."""
    field = context.get("field")
    if not context.get("form_show_errors") or field is None or not field.errors:
        return mark_safe("")  # noqa: S308  # nosec B308 B703
    errors = "<br>".join(str(conditional_escape(error)) for error in field.errors)
    return mark_safe(  # noqa: S308  # nosec B308 B703 - every error escaped
        f'\n  <span class="nhsuk-error-message" id="{conditional_escape(field.auto_id)}-error">'
        f'<span class="nhsuk-u-visually-hidden">Error: </span>{errors}</span>'
    )


@register.filter
def nhsuk_options(field: Any) -> SafeString:
    """A select's ``<option>``s (in ``<optgroup>``s for grouped choices), chosen ones ``selected``: what Django's
    ``Select.optgroups`` works out, written here rather than by a template loop over it, which built a dict of
    attributes per option and took most of the report page's form (nearly 90 practices and networks)."""
    widget = field.field.widget
    values = {str(value) for value in widget.format_value(field.value())}
    has_selected = False
    parts = []
    for option_value, option_label in widget.choices:
        if option_value is None:
            option_value = ""
        grouped = isinstance(option_label, list | tuple)
        choices = option_label if grouped else [(option_value, option_label)]
        if grouped and option_value:
            parts.append(f'<optgroup label="{conditional_escape(option_value)}">')
        for value, label in choices:
            # As Select.optgroups: a single select marks only the first match.
            selected = (not has_selected or widget.allow_multiple_selected) and str(value) in values
            has_selected |= selected
            parts.append(
                f'<option value="{conditional_escape(str(value))}"{" selected" if selected else ""}>'
                f"{conditional_escape(label)}</option>"
            )
        if grouped and option_value:
            parts.append("</optgroup>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 - every value and label escaped


@register.simple_tag(takes_context=True)
def nhsuk_choice_items(
    context: template.Context, choices: Iterable[tuple[Any, Any, Any]] | BoundField, kind: str = ""
) -> SafeString:
    """Each radio or checkbox of ``nhsuk_choices`` (or of a bound field, without hints), with its label, hint and
    conditional content: written here rather than by including a template for each choice (the directory's
    filters have two dozen, a questionnaire seventy). ``kind``: "radios" or "checkboxes", else the context's."""
    kind = conditional_escape(kind or context.get("kind", ""))
    if isinstance(choices, BoundField):
        choices = [(option, "", "") for option in choices]
    parts = []
    for option, item_hint, conditional in choices:
        data = option.data
        ident = conditional_escape(option.id_for_label)
        described = f' aria-describedby="{ident}-item-hint"' if item_hint else ""
        controls = f' data-aria-controls="{ident}-conditional"' if conditional else ""
        parts.append(
            f'<div class="nhsuk-{kind}__item">\n'
            f'        <input class="nhsuk-{kind}__input" type="{conditional_escape(data["type"])}" '
            f'name="{conditional_escape(data["name"])}" value="{conditional_escape(str(data["value"]))}"'
            f"{nhsuk_attrs(data['attrs'])}{described}{controls}>\n"
            f'        <label class="nhsuk-label nhsuk-{kind}__label" for="{ident}">'
            f"{conditional_escape(option.choice_label)}</label>"
        )
        if item_hint:
            parts.append(
                f'\n        <div class="nhsuk-hint nhsuk-{kind}__hint" id="{ident}-item-hint">'
                f"{conditional_escape(item_hint)}</div>"
            )
        parts.append("\n      </div>")
        if conditional:
            hidden = "" if data.get("selected") else f" nhsuk-{kind}__conditional--hidden"
            parts.append(
                f'\n      <div class="nhsuk-{kind}__conditional{hidden}" id="{ident}-conditional">\n'
                f"        {conditional_escape(conditional)}\n      </div>"
            )
        parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 - every value from outside is escaped
