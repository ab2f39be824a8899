"""The audit trail's filters: a date range (UK calendar days) and an action."""

from __future__ import annotations

from typing import Any

from crispy_forms.layout import Layout
from django import forms

from linkwork.audit.models import Action
from linkwork.audit.selectors import AuditFilter
from linkwork.forms import DateInputField, Submit, form_helper


class AuditFilterForm(forms.Form):
    start = DateInputField(label="From", required=False, not_future=True, help_text="For example, 1 4 2026")
    end = DateInputField(label="To", required=False, help_text="For example, 30 6 2026")
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "All actions"), *Action.choices])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper(method="get")
        self.helper.form_class = "lw-filters"
        self.helper.layout = Layout("start", "end", "action", Submit("apply", "Apply filters", variant="secondary"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end date must be the same as or after the start date")
        return data

    def to_filter(self) -> AuditFilter:
        """The filters chosen; call after ``is_valid()`` (an unbound form means no filter)."""
        if not self.is_bound:
            return AuditFilter()
        data = self.cleaned_data
        return AuditFilter(start=data.get("start"), end=data.get("end"), action=data.get("action") or "")
