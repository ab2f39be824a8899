"""Form building blocks shared by every app: the NHS.UK date input and the crispy "nhsuk" layout objects.

The crispy template pack itself lives in templates/nhsuk/ (CRISPY_TEMPLATE_PACK = "nhsuk").
"""

from crispy_forms.helper import FormHelper

from linkwork.forms.choices import ListedModelChoiceField
from linkwork.forms.dates import DateInputField, DateInputWidget
from linkwork.forms.layout import Button, ButtonGroup, Field, Fieldset, Submit

__all__ = [
    "Button",
    "ButtonGroup",
    "DateInputField",
    "DateInputWidget",
    "Field",
    "Fieldset",
    "ListedModelChoiceField",
    "Submit",
]


def form_helper(submit: str | None = None, *, form_tag: bool = True, method: str = "post") -> FormHelper:
    """A crispy FormHelper for the NHS.UK pack, with an optional submit button. With ``form_tag=False`` the
    page draws its own ``<form>`` (several forms on one page, or extra fields beside the form)."""
    helper = FormHelper()
    helper.form_tag = form_tag
    helper.form_method = method
    if submit:
        helper.add_input(Submit("submit", submit))
    return helper


__all__ += ["form_helper"]
