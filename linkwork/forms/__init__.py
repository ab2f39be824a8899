"""Form building blocks shared by every app: the NHS.UK date input and the crispy "nhsuk" layout objects.

The crispy template pack itself lives in templates/nhsuk/ (CRISPY_TEMPLATE_PACK = "nhsuk").
"""

from linkwork.forms.dates import DateInputField, DateInputWidget
from linkwork.forms.layout import Button, ButtonGroup, Field, Fieldset, Submit

__all__ = ["Button", "ButtonGroup", "DateInputField", "DateInputWidget", "Field", "Fieldset", "Submit"]
