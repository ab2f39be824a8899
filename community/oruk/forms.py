"""Query parameters of the ORUK API, validated and normalised (unknown parameters are ignored)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from community.models import Weekday

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
_DAY_NAMES = {label.lower(): code for code, label in Weekday.choices}
_TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1)
    per_page = forms.IntegerField(required=False, min_value=1)

    def clean_page(self) -> int:
        return self.cleaned_data["page"] or 1

    def clean_per_page(self) -> int:
        # Larger requests are capped rather than refused, so a client asking for everything still gets pages.
        return min(self.cleaned_data["per_page"] or DEFAULT_PER_PAGE, MAX_PER_PAGE)


class ServiceQueryForm(PageForm):
    search = forms.CharField(required=False, max_length=200)
    taxonomy_term_id = forms.UUIDField(required=False)
    taxonomy_id = forms.UUIDField(required=False)
    organization_id = forms.UUIDField(required=False)
    minimum_age = forms.FloatField(required=False, min_value=0)
    maximum_age = forms.FloatField(required=False, min_value=0)
    day = forms.CharField(required=False)
    start_time = forms.TimeField(required=False, input_formats=_TIME_FORMATS)
    end_time = forms.TimeField(required=False, input_formats=_TIME_FORMATS)
    modified_after = forms.CharField(required=False)

    def clean_search(self) -> str:
        return self.cleaned_data["search"].strip()

    def clean_day(self) -> str:
        """``TU``, ``tu``, ``Tuesday`` and ``tuesday`` all mean ``TU``."""
        value = self.cleaned_data["day"].strip()
        if not value:
            return ""
        if value.upper() in Weekday.values:
            return value.upper()
        if value.lower() in _DAY_NAMES:
            return _DAY_NAMES[value.lower()]
        raise forms.ValidationError("Give a day as MO, TU, WE, TH, FR, SA or SU, or its name, e.g. tuesday.")

    def clean_modified_after(self) -> dt.datetime | None:
        """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
        value = self.cleaned_data["modified_after"].strip()
        if not value:
            return None
        # An unencoded "+01:00" arrives as " 01:00".
        value = value.replace(" ", "+") if "T" in value else value
        try:
            when = dt.datetime.fromisoformat(value)
            # In UTC before it reaches the database: Python allows offsets up to 24 hours, PostgreSQL only up to
            # 16, and a larger one was a 500 (found by the property-based test, tests/test_api_schema.py).
            return when.astimezone(dt.UTC) if timezone.is_aware(when) else when.replace(tzinfo=dt.UTC)
        except (ValueError, OverflowError):  # OverflowError: the first or last day of year 1 or 9999 moved to UTC
            raise forms.ValidationError("Give an ISO 8601 date-time, e.g. 2026-11-24T09:30:00Z.") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("minimum_age is more than maximum_age.")
        return data

    @property
    def filtered(self) -> bool:
        """Whether any filter was given (not just a page): the unfiltered list is the one readers harvest."""
        return any(
            value not in (None, "") for name, value in self.cleaned_data.items() if name not in PageForm.base_fields
        )


class LocationQueryForm(ServiceQueryForm):
    postcode = forms.CharField(required=False, max_length=10)
    proximity = forms.FloatField(required=False, min_value=0, help_text="Metres from the postcode's centre")

    def clean_postcode(self) -> str:
        return self.cleaned_data["postcode"].replace(" ", "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("proximity") is not None and not data.get("postcode"):
            self.add_error("proximity", "proximity needs a postcode to measure from.")
        return data


def errors_of(form: forms.Form) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}
