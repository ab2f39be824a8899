"""The erasure request form: the lawful basis, the reason and a confirmation. It validates; privacy saves."""

from __future__ import annotations

from typing import Any

from crispy_forms.layout import Layout
from django import forms

from linkwork.forms import Field, Submit, form_helper
from outcomes.privacy import ERASURE_REASON_MAX, LawfulBasis


class ErasureForm(forms.Form):
    basis = forms.ChoiceField(
        label="Why does the right to erasure apply?",
        choices=LawfulBasis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the lawful basis for erasure"},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=ERASURE_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say how the request was made, when, and why erasure is lawful here. This is kept in the audit "
        "trail.",
        error_messages={
            "required": "Enter the reason for erasure",
            "max_length": f"Reason must be {ERASURE_REASON_MAX} characters or fewer",
        },
    )
    confirm = forms.BooleanField(
        label="I have checked the request and understand the person's details cannot be restored",
        error_messages={"required": "Confirm that you have checked the request"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.helper.layout = Layout(
            Field("basis", label_size="m"),
            "reason",
            "confirm",
            Submit("erase", "Erase the person's details", variant="warning"),
        )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Enter the reason for erasure")
        return reason
