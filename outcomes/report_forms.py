"""The report filter: a period (presets or custom dates) and a scope (service, PCN or practice)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from linkwork.accounts.models import Organisation, OrganisationKind
from linkwork.forms import DateInputField, ListedModelChoiceField
from outcomes.reports import last_quarter

PERIODS = [
    ("last_quarter", "Last quarter"),
    ("last_month", "Last month"),
    ("last_12_months", "Last 12 months"),
    ("this_year", "This financial year"),
    ("custom", "Choose dates"),
]


def period_dates(choice: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    if choice == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if choice == "last_12_months":
        return today - dt.timedelta(days=365), today
    if choice == "this_year":
        start_year = today.year if today.month >= 4 else today.year - 1
        return dt.date(start_year, 4, 1), today
    return last_quarter(today)


class ReportForm(forms.Form):
    period = forms.ChoiceField(label="Period", choices=PERIODS, initial="last_quarter")
    start = DateInputField(label="From", required=False, not_future=True, help_text="For example, 1 4 2026")
    end = DateInputField(label="To", required=False, not_future=True, help_text="For example, 30 6 2026")
    service = ListedModelChoiceField(
        label="Service", queryset=Organisation.objects.none(), required=False, empty_label="All my services"
    )
    pcn = ListedModelChoiceField(
        label="Primary care network", queryset=Organisation.objects.none(), required=False, empty_label="All"
    )
    practice = ListedModelChoiceField(
        label="GP practice", queryset=Organisation.objects.none(), required=False, empty_label="All"
    )

    def __init__(self, *args: Any, services: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [s.pk for s in services]
        self.fields["service"].queryset = Organisation.objects.filter(pk__in=ids)
        # The networks and practices as lists of names (a whole ICB has a hundred practices): the report needs
        # only the chosen one's id and name.
        self.fields["pcn"].queryset = (
            Organisation.objects.filter(kind=OrganisationKind.PCN, services__in=ids).distinct().only("id", "name")
        )
        self.fields["practice"].queryset = (
            Organisation.objects.filter(kind=OrganisationKind.PRACTICE, services__in=ids).distinct().only("id", "name")
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom":
            if not data.get("start"):
                self.add_error("start", "Enter the first day of the period")
            if not data.get("end"):
                self.add_error("end", "Enter the last day of the period")
            if data.get("start") and data.get("end") and data["end"] < data["start"]:
                self.add_error("end", "The end of the period must be after its start")
        if data.get("period") and data["period"] != "custom":
            data["start"], data["end"] = period_dates(data["period"])
        return data
