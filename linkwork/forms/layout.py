"""crispy-forms layout objects for the "nhsuk" template pack.

crispy's own objects (Layout, Fieldset, Div, HTML, Submit, Button, Hidden, ButtonHolder) also render with
NHS.UK markup through the pack; these add the NHS.UK options they have no words for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crispy_forms import layout as crispy
from crispy_forms.utils import TEMPLATE_PACK, render_field
from django.utils.safestring import SafeString

SIZES = ("s", "m", "l", "xl")
# A field name, a layout object (anything with render(), crispy's HTML included), or a list of them.
Content = Any


class Field(crispy.Field):
    """A form field with NHS.UK presentation options.

    - ``label_size`` ("s", "m", "l", "xl"): size of the label, or of the legend for radios, checkboxes and
      dates.
    - ``page_heading=True``: wrap the label or legend in the page's ``<h1>`` (one-question pages).
    - ``inline=True`` / ``small=True``: inline or small radios and checkboxes.
    - ``conditional={"value": "other_field" | [fields...]}``: for radios and checkboxes, show those fields
      under the choice with that value when it is selected (NHS.UK conditional reveal). Do not list those
      fields anywhere else in the layout.
    - ``hints={"value": "text"}``: a hint under a radio or checkbox choice.
    - ``threshold``: for a character count, show the count only once this percentage of the limit is used.

    Other keyword arguments become attributes of the input, as with crispy's ``Field``
    (``Field("postcode", autocomplete="postal-code", css_class="nhsuk-input--width-10")``).
    """

    def __init__(
        self,
        *fields: str,
        label_size: str | None = None,
        page_heading: bool = False,
        inline: bool = False,
        small: bool = False,
        conditional: Mapping[Any, Content] | None = None,
        hints: Mapping[Any, str] | None = None,
        threshold: int | None = None,
        **kwargs: Any,
    ) -> None:
        if label_size is not None and label_size not in SIZES:
            raise ValueError(f"label_size must be one of {SIZES}, not {label_size!r}")
        super().__init__(*fields, **kwargs)
        self.nhsuk_context = {
            "nhsuk_label_size": label_size or "",
            "nhsuk_page_heading": page_heading,
            "nhsuk_inline": inline,
            "nhsuk_small": small,
            "nhsuk_threshold": threshold or "",
        }
        self.conditional = {str(value): _as_list(content) for value, content in (conditional or {}).items()}
        self.hints = {str(value): hint for value, hint in (hints or {}).items()}

    def render(
        self,
        form: Any,
        context: Any,
        template_pack: Any = TEMPLATE_PACK,
        extra_context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SafeString:
        html = ""
        for name in self.fields:
            field_context = {**(extra_context or {}), **self.nhsuk_context}
            if self.wrapper_class:
                field_context["wrapper_class"] = self.wrapper_class
            if self.conditional or self.hints:
                field_context["nhsuk_items"] = self._items(form, name, context, template_pack)
            html += render_field(
                name,
                form,
                context,
                template=self.get_template_name(template_pack),
                attrs=self.attrs,
                template_pack=template_pack,
                extra_context=field_context,
                **kwargs,
            )
        return SafeString(html)  # nosec B703  # rendered by field templates, which escape

    def _items(self, form: Any, name: str, context: Any, template_pack: Any) -> list[dict[str, Any]]:
        """Each choice of a radios or checkboxes field with its hint and its rendered conditional content."""
        items = []
        for option in form[name]:
            value = str(option.data["value"])
            content = self.conditional.get(value, [])
            conditional = "".join(render_field(item, form, context, template_pack=template_pack) for item in content)
            rendered = SafeString(conditional)  # nosec B703  # rendered by field templates, which escape
            items.append({"option": option, "hint": self.hints.get(value, ""), "conditional": rendered})
        return items


class Fieldset(crispy.Fieldset):
    """A group of questions under one legend (an address, say). ``legend_size`` defaults to "m"."""

    def __init__(
        self,
        legend: str,
        *fields: str | crispy.LayoutObject,
        legend_size: str = "m",
        page_heading: bool = False,
        **kwargs: Any,
    ) -> None:
        if legend_size not in SIZES:
            raise ValueError(f"legend_size must be one of {SIZES}, not {legend_size!r}")
        super().__init__(legend, *fields, **kwargs)
        self.legend_size = legend_size
        self.page_heading = page_heading


class Submit(crispy.Submit):
    """An NHS.UK button that submits the form: ``Submit("save", "Save and continue")``.

    ``variant`` is "secondary", "reverse" or "warning"; ``small=True`` for the small size.
    """

    field_classes = "nhsuk-button"

    def __init__(
        self, name: str, value: str, *, variant: str | None = None, small: bool = False, **kwargs: Any
    ) -> None:
        css_classes = [
            f"nhsuk-button--{variant}" if variant else "",
            "nhsuk-button--small" if small else "",
            kwargs.pop("css_class", None) or "",
        ]
        super().__init__(name, value, css_class=" ".join(c for c in css_classes if c) or None, **kwargs)


class Button(Submit):
    """An NHS.UK button that does not submit the form (``type="button"``), secondary by default."""

    input_type = "button"

    def __init__(self, name: str, value: str, *, variant: str | None = "secondary", **kwargs: Any) -> None:
        super().__init__(name, value, variant=variant, **kwargs)


class ButtonGroup(crispy.ButtonHolder):
    """Buttons (and links, through ``HTML``) side by side: ``nhsuk-button-group``."""


def _as_list(content: Content) -> list[Any]:
    if isinstance(content, str) or hasattr(content, "render"):
        return [content]
    return list(content)
