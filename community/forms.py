"""Directory forms: search, a service's details and quality checks, bulk import rows, and group support."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings

from community.models import (
    Accessibility,
    Capacity,
    Category,
    DBSCheck,
    DevelopmentNeed,
    HowToJoin,
    Opportunity,
    Provider,
    ServiceStatus,
    Weekday,
)
from linkwork.forms import DateInputField, Fieldset, Submit, form_helper
from linkwork.validators import normalise_phone, normalise_postcode

_helper = form_helper


TIME_CHOICES = [("", "Any time"), ("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening")]


class SearchForm(forms.Form):
    q = forms.CharField(
        label="What are you looking for?",
        required=False,
        max_length=200,
        help_text="For example: gardening, walking group, debt advice",
    )
    categories = forms.MultipleChoiceField(
        label="Category", required=False, choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    day = forms.ChoiceField(label="Day", required=False, choices=[("", "Any day"), *Weekday.choices])
    time_of_day = forms.ChoiceField(label="Time of day", required=False, choices=TIME_CHOICES)
    free_only = forms.BooleanField(label="Free only", required=False)
    open_only = forms.BooleanField(label="Open to new members", required=False)
    accessibility = forms.MultipleChoiceField(
        label="Accessibility needs", required=False, choices=Accessibility.choices, widget=forms.CheckboxSelectMultiple
    )
    postcode = forms.CharField(
        label="Near postcode",
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}),
    )
    within_km = forms.IntegerField(
        label="Within (km)",
        required=False,
        min_value=1,
        max_value=100,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(form_tag=False)
        self.helper.disable_csrf = True

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"].strip()
        return normalise_postcode(value) if value else ""


class ServiceForm(forms.Form):
    name = forms.CharField(label="Name of the group or activity", max_length=200)
    description = forms.CharField(label="Description", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    categories = forms.MultipleChoiceField(
        label="Categories",
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one category"},
    )
    eligibility = forms.CharField(
        label="Who it is for", max_length=300, required=False, help_text="For example: adults over 50, carers, anyone"
    )
    minimum_age = forms.IntegerField(
        label="Minimum age",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
    )
    maximum_age = forms.IntegerField(
        label="Maximum age",
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
    )
    is_free = forms.BooleanField(label="It is free", required=False)
    cost_amount = forms.DecimalField(
        label="Cost in pounds",
        required=False,
        min_value=0,
        max_digits=7,
        decimal_places=2,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-5"}),
    )
    cost_description = forms.CharField(
        label="Cost is", max_length=200, required=False, help_text="For example: per session"
    )
    days = forms.MultipleChoiceField(
        label="Days it runs", required=False, choices=Weekday.choices, widget=forms.CheckboxSelectMultiple
    )
    opens_at = forms.TimeField(
        label="Starts at",
        required=False,
        help_text="24-hour clock, for example 10:00",
        widget=forms.TimeInput(attrs={"class": "nhsuk-input--width-5"}, format="%H:%M"),
    )
    closes_at = forms.TimeField(
        label="Ends at", required=False, widget=forms.TimeInput(attrs={"class": "nhsuk-input--width-5"}, format="%H:%M")
    )
    schedule = forms.CharField(
        label="When, in words",
        max_length=200,
        required=False,
        help_text="For example: every Tuesday, 10am to 12 noon, not in August",
    )
    how_to_join = forms.ChoiceField(label="How to join", choices=HowToJoin.choices, widget=forms.RadioSelect)
    capacity = forms.ChoiceField(label="Places", choices=Capacity.choices, widget=forms.RadioSelect)
    accessibility = forms.MultipleChoiceField(
        label="Accessibility", required=False, choices=Accessibility.choices, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.CharField(
        label="Languages",
        required=False,
        max_length=200,
        help_text="Separate with commas, for example: English, Polish, BSL",
    )
    address = forms.CharField(label="Address", max_length=300, required=False)
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}),
    )
    contact_name = forms.CharField(label="Contact person", max_length=150, required=False)
    email = forms.EmailField(label="Email", required=False)
    phone = forms.CharField(label="Phone", max_length=30, required=False)
    url = forms.URLField(label="Website", required=False, assume_scheme="https")
    status = forms.ChoiceField(label="Status", choices=ServiceStatus.choices, widget=forms.RadioSelect)
    is_public = forms.BooleanField(label="Publish on the public directory and the Open Referral feed", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper()
        self.helper.layout = forms_layout()

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"].strip()
        return normalise_postcode(value) if value else ""

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean_languages(self) -> list[str]:
        return [lang.strip() for lang in self.cleaned_data["languages"].split(",") if lang.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and low > high:
            self.add_error("maximum_age", "Maximum age must be the same as or more than the minimum age")
        if not data.get("is_free") and data.get("cost_amount") is None:
            self.add_error("cost_amount", "Enter the cost, or tick that it is free")
        if data.get("days") and not data.get("opens_at"):
            self.add_error("opens_at", "Enter the time it starts")
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            self.add_error("closes_at", "The end time must be after the start time")
        return data

    def service_fields(self) -> dict[str, Any]:
        from community.services import SERVICE_FIELDS

        data = self.cleaned_data
        values = {f: data[f] for f in SERVICE_FIELDS if f in data}
        if values.get("is_free"):
            values["cost_amount"] = None
        return values


def forms_layout() -> Any:
    from crispy_forms.layout import Layout

    return Layout(
        Fieldset(
            "The activity",
            "name",
            "description",
            "categories",
            "eligibility",
            "minimum_age",
            "maximum_age",
            label_size="m",
        ),
        Fieldset("Cost", "is_free", "cost_amount", "cost_description", label_size="m"),
        Fieldset("When", "days", "opens_at", "closes_at", "schedule", label_size="m"),
        Fieldset("Joining", "how_to_join", "capacity", label_size="m"),
        Fieldset("Where and access", "address", "postcode", "accessibility", "languages", label_size="m"),
        Fieldset("Contact", "contact_name", "email", "phone", "url", label_size="m"),
        Fieldset("Publishing", "status", "is_public", label_size="m"),
        Submit("submit", "Save"),
    )


class ProviderForm(forms.ModelForm):
    """A new organisation in the directory. Its service is the maintainer's own, set by the view."""

    # A website typed without its scheme ("www.example.org") is taken as https, as the directory's other links are.
    website = forms.URLField(
        required=False, max_length=Provider._meta.get_field("website").max_length, assume_scheme="https"
    )

    class Meta:
        model = Provider
        fields = ["name", "description", "website", "email", "phone", "charity_number"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add organisation")


class QAForm(forms.Form):
    safeguarding_policy_seen = forms.BooleanField(label="I have seen their safeguarding policy", required=False)
    dbs_check = forms.ChoiceField(
        label="DBS checks for people working with vulnerable adults", choices=DBSCheck.choices, widget=forms.RadioSelect
    )
    insurance_seen = forms.BooleanField(label="I have seen their public liability insurance", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Record quality check")


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value or "") if part.strip()]


class ImportRowForm(forms.Form):
    """One spreadsheet row: columns as in services.IMPORT_COLUMNS, words as people type them."""

    organisation = forms.CharField(max_length=200)
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, required=False)
    categories = forms.CharField(required=False)
    who_it_is_for = forms.CharField(max_length=300, required=False)
    minimum_age = forms.IntegerField(required=False, min_value=0, max_value=120)
    maximum_age = forms.IntegerField(required=False, min_value=0, max_value=120)
    free = forms.CharField(required=False)
    cost = forms.CharField(required=False)
    cost_description = forms.CharField(max_length=200, required=False)
    days = forms.CharField(required=False)
    opens_at = forms.TimeField(required=False)
    closes_at = forms.TimeField(required=False)
    schedule = forms.CharField(max_length=200, required=False)
    how_to_join = forms.CharField(required=False)
    capacity = forms.CharField(required=False)
    accessibility = forms.CharField(required=False)
    languages = forms.CharField(required=False)
    address = forms.CharField(max_length=300, required=False)
    postcode = forms.CharField(max_length=20, required=False)
    contact_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=30, required=False)
    website = forms.URLField(required=False, assume_scheme="https")

    def _codes(self, name: str, allowed: list[str]) -> list[str]:
        values = [v.lower().replace(" ", "_") for v in _split(self.cleaned_data.get(name, ""))]
        wrong = [v for v in values if v not in allowed]
        if wrong:
            raise forms.ValidationError(f"Unknown value {', '.join(wrong)}: use {', '.join(allowed)}")
        return values

    def clean_categories(self) -> list[str]:
        codes = self._codes("categories", list(Category.values))
        if not codes:
            raise forms.ValidationError("Give at least one category")
        return codes

    def clean_accessibility(self) -> list[str]:
        return self._codes("accessibility", list(Accessibility.values))

    def clean_days(self) -> list[str]:
        names = {label.lower(): code for code, label in Weekday.choices}
        out = []
        for part in _split(self.cleaned_data.get("days", "")):
            code = part.upper()[:2] if part.upper()[:2] in Weekday.values else names.get(part.lower())
            if not code:
                raise forms.ValidationError(f"Unknown day {part}: use MO, TU, WE, TH, FR, SA, SU")
            out.append(code)
        return out

    def clean_free(self) -> bool:
        value = self.cleaned_data.get("free", "").strip().lower()
        if value in ("", "yes", "y", "true", "1", "free"):
            return True
        if value in ("no", "n", "false", "0"):
            return False
        raise forms.ValidationError("Write yes or no")

    def clean_cost(self) -> Decimal | None:
        value = self.cleaned_data.get("cost", "").strip().lstrip("£")
        if not value:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as error:
            raise forms.ValidationError("Write the cost as a number of pounds, like 3.50") from error

    def clean_how_to_join(self) -> str:
        value = self.cleaned_data.get("how_to_join", "").strip().lower().replace(" ", "_") or HowToJoin.DROP_IN
        if value not in HowToJoin.values:
            raise forms.ValidationError(f"Use one of {', '.join(HowToJoin.values)}")
        return value

    def clean_capacity(self) -> str:
        value = self.cleaned_data.get("capacity", "").strip().lower().replace(" ", "_") or Capacity.OPEN
        if value not in Capacity.values:
            raise forms.ValidationError(f"Use one of {', '.join(Capacity.values)}")
        return value

    def clean_postcode(self) -> str:
        value = self.cleaned_data.get("postcode", "").strip()
        return normalise_postcode(value) if value else ""

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("free") is False and data.get("cost") is None:
            self.add_error("cost", "Give the cost when it is not free")
            return data
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and low > high:
            self.add_error("maximum_age", "Maximum age must be at least the minimum age")
            return data
        data["fields"] = {
            "name": data["name"],
            "description": data.get("description", ""),
            "categories": data["categories"],
            "eligibility": data.get("who_it_is_for", ""),
            "minimum_age": low,
            "maximum_age": high,
            "is_free": data["free"],
            "cost_amount": data.get("cost"),
            "cost_description": data.get("cost_description", ""),
            "schedule": data.get("schedule", ""),
            "how_to_join": data["how_to_join"],
            "capacity": data["capacity"],
            "accessibility": data.get("accessibility", []),
            "languages": _split(data.get("languages", "")),
            "address": data.get("address", ""),
            "postcode": data.get("postcode", ""),
            "contact_name": data.get("contact_name", ""),
            "email": data.get("email", ""),
            "phone": data.get("phone", ""),
            "url": data.get("website", ""),
            "status": "active",
            "is_public": True,
        }
        return data


# An .xlsx is a zip: a small file can unpack to gigabytes (a "zip bomb"), so its unpacked size is checked too.
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024


def _is_utf8_text(sample: bytes) -> bool:
    """The start of a file is UTF-8 text (not a binary file renamed .csv)."""
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 3  # only a character cut in two at the end of the sample
    return True


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet (CSV or Excel .xlsx)", error_messages={"required": "Choose a CSV or .xlsx file to import"}
    )

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large  # the upload went past LINKWORK_MAX_UPLOAD_BYTES and was not read
        self.helper = _helper("Check and import")
        self.helper.form_tag = False

    def _too_large_message(self) -> str:
        return f"The file must be smaller than {settings.LINKWORK_MAX_UPLOAD_BYTES // (1024 * 1024)} MB"

    def clean_file(self) -> Any:
        """The name says CSV or .xlsx, and the content agrees: an .xlsx is a zip that unpacks to a sane size, a
        CSV is UTF-8 text. Nothing is stored; the import reads the rows and drops the file."""
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError("The file must be a CSV or an Excel .xlsx file")
        if upload.size > settings.LINKWORK_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(self._too_large_message())
        upload.seek(0)
        head = upload.read(64 * 1024)
        upload.seek(0)
        if name.endswith(".xlsx"):
            if not zipfile.is_zipfile(upload):
                raise forms.ValidationError("This is not an Excel .xlsx file: save it from Excel as .xlsx or as CSV")
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                    raise forms.ValidationError("This spreadsheet is too large: split it into smaller files")
            upload.seek(0)
        elif not _is_utf8_text(head):
            raise forms.ValidationError("This is not a CSV file saved as UTF-8 text: in Excel, Save As CSV UTF-8")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.too_large:
            self.errors.pop("file", None)
            self.add_error("file", self._too_large_message())
        return cleaned


class NeedForm(forms.Form):
    kind = forms.ChoiceField(label="What do they need?", choices=DevelopmentNeed.Kind.choices, widget=forms.RadioSelect)
    description = forms.CharField(label="Details", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    helped_by = forms.CharField(
        label="Who is helping", max_length=200, required=False, help_text="For example: Riverside CVS"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Record need", form_tag=False)


class NeedUpdateForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=DevelopmentNeed.Status.choices)
    helped_by = forms.CharField(label="Who is helping", max_length=200, required=False)
    outcome = forms.CharField(
        label="Outcome", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Update", form_tag=False)


class OpportunityForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Opportunity.Kind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Description", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    url = forms.URLField(label="Link", required=False, assume_scheme="https")
    closes_on = DateInputField(label="Closing date", required=False, help_text="For example, 15 3 2027")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add opportunity")

    def clean_closes_on(self) -> dt.date | None:
        value = self.cleaned_data.get("closes_on")
        if value and value < dt.date.today():
            raise forms.ValidationError("Closing date must be today or in the future")
        return value


class FeedbackForm(forms.Form):
    note = forms.CharField(
        label="What the group told you about the people referred",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    received_on = DateInputField(label="Date received", not_future=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Record feedback", form_tag=False)
