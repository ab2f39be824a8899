"""Forms a link worker uses on a case to raise it for supervision or record a safeguarding concern. They
validate and normalise; ``clients.services`` saves."""

from __future__ import annotations

from typing import Any

from django import forms

from linkwork.forms import form_helper


class SupervisionFlagForm(forms.Form):
    question = forms.CharField(
        label="What would you like to discuss?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Your supervisor sees this on their dashboard until you have discussed the case together.",
        error_messages={"required": "Enter your question for supervision"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Flag for supervision")

    def clean_question(self) -> str:
        return self.cleaned_data["question"].strip()


class SafeguardingConcernForm(forms.Form):
    detail = forms.CharField(
        label="What is the concern?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What you saw or were told, when, and what you have done so far. This cannot be changed once saved.",
        error_messages={"required": "Describe the concern"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Record the concern and tell the supervisors")

    def clean_detail(self) -> str:
        return self.cleaned_data["detail"].strip()
