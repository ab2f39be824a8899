"""Client, case, contact, plan and home-visit forms. They validate and normalise; services save."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from crispy_forms.layout import Layout
from django import forms
from django.utils import timezone

from clients.models import (
    AlertKind,
    Client,
    ContactMethod,
    EthnicCategory,
    Sex,
    ShareWithGP,
    YesNoPreferNot,
)
from clients.services import GOAL_STATUSES
from linkwork.accounts.models import Organisation, OrganisationKind
from linkwork.forms import DateInputField, Field, Fieldset, Submit, form_helper
from linkwork.nhs import normalise_nhs_number
from linkwork.validators import normalise_phone, normalise_postcode, validate_person_name

NOTES_LIMIT = 5000


_helper = form_helper


def _text(label: str, limit: int, rows: int = 4, help_text: str = "", required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "data-lw-draft": "1"}),
        error_messages={"max_length": f"{label} must be {limit} characters or fewer"},
    )


class VersionedForm(forms.Form):
    """Carries the version the user started from, so a second, stale save is refused (and their text kept)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ClientForm(VersionedForm):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    preferred_name = forms.CharField(
        label="Preferred name", max_length=100, required=False, help_text="What they like to be called"
    )
    pronouns = forms.CharField(label="Pronouns", max_length=40, required=False, help_text="For example, she/her")
    date_of_birth = DateInputField(label="Date of birth", past_only=True)
    nhs_number = forms.CharField(label="NHS number", max_length=20, required=False)
    address = forms.CharField(label="Address", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    postcode = forms.CharField(label="Postcode", max_length=20, required=False)
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        required=False,
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
    )
    contact_preference = forms.ChoiceField(
        label="Preferred contact method",
        required=False,
        choices=[
            ("", "No preference"),
            ("phone", "Phone call"),
            ("text", "Text message"),
            ("email", "Email"),
            ("letter", "Letter"),
        ],
    )
    contact_times = forms.CharField(label="Best times to contact", max_length=200, required=False)
    practice = forms.ModelChoiceField(
        label="Registered GP practice", queryset=Organisation.objects.none(), required=False, empty_label="Not known"
    )
    interpreter_needed = forms.BooleanField(label="Needs an interpreter", required=False)
    language = forms.CharField(label="Preferred language", max_length=100, required=False)
    accessibility_needs = forms.CharField(
        label="Accessibility or communication needs",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ethnic_category = forms.ChoiceField(
        label="Ethnic group", required=False, choices=[("", "Not asked yet"), *EthnicCategory.choices]
    )
    sex = forms.ChoiceField(label="Sex", required=False, choices=[("", "Not asked yet"), *Sex.choices])
    gender_identity = forms.CharField(
        label="Gender identity", max_length=60, required=False, help_text="In their own words, or 'prefer not to say'"
    )
    disability = forms.ChoiceField(
        label="Do they consider themselves to have a disability?",
        required=False,
        choices=[("", "Not asked yet"), *YesNoPreferNot.choices],
    )
    carer = forms.ChoiceField(
        label="Are they an unpaid carer?", required=False, choices=[("", "Not asked yet"), *YesNoPreferNot.choices]
    )
    consent_to_contact = forms.BooleanField(label="They agree to be contacted by the service", required=False)
    share_with_gp = forms.ChoiceField(
        label="What may be shared with their GP?", choices=ShareWithGP.choices, widget=forms.RadioSelect
    )
    consent_to_share_with_groups = forms.BooleanField(
        label="They agree to their name and contact details being shared with community groups they join",
        required=False,
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.PRACTICE, services=client.service
        )
        self.helper = _helper()
        self.helper.layout = Layout(
            Fieldset(
                "Name and identity",
                "given_name",
                "family_name",
                "preferred_name",
                "pronouns",
                "date_of_birth",
                Field("nhs_number", css_class="nhsuk-input--width-10"),
                label_size="m",
            ),
            Fieldset(
                "Contact",
                "address",
                Field("postcode", css_class="nhsuk-input--width-10"),
                "phone",
                "email",
                "contact_preference",
                "contact_times",
                "practice",
                label_size="m",
            ),
            Fieldset("Communication", "interpreter_needed", "language", "accessibility_needs", label_size="m"),
            Fieldset(
                "Equality monitoring",
                "ethnic_category",
                "sex",
                "gender_identity",
                "disability",
                "carer",
                label_size="m",
            ),
            Fieldset("Consent", "consent_to_contact", "share_with_gp", "consent_to_share_with_groups", label_size="m"),
            "version",
            Submit("submit", "Save changes"),
        )

    def clean_given_name(self) -> str:
        return validate_person_name(self.cleaned_data["given_name"], "First name")

    def clean_family_name(self) -> str:
        return validate_person_name(self.cleaned_data["family_name"], "Last name")

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"].strip()
        return normalise_nhs_number(value) if value else ""

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"].strip()
        return normalise_postcode(value) if value else ""

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("interpreter_needed") and not data.get("language", "").strip():
            self.add_error("language", "Enter the language they need an interpreter for")
        return data


class AlertForm(forms.Form):  # rendered inside the record page's own <form>
    kind = forms.ChoiceField(
        label="Kind of alert",
        choices=AlertKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of alert"},
    )
    detail = forms.CharField(
        label="Details",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What colleagues need to know. Shown on every page of the record.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add alert", form_tag=False)
        self.helper.disable_csrf = True  # the page's own <form> carries the token


class ContactForm(forms.Form):
    date = DateInputField(
        label="Date of contact", not_future=True, error_name="Date of contact", help_text="For example, 15 3 2026"
    )
    time = forms.CharField(
        label="Time",
        max_length=5,
        help_text="24-hour clock, for example 14:30",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
    )
    method = forms.ChoiceField(
        label="How",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the contact happened"},
    )
    attempted_only = forms.BooleanField(
        label="Tried but did not reach them (no answer)",
        required=False,
        help_text="Attempts are shown on the timeline but do not count toward the 6 to 12 contacts.",
    )
    duration_minutes = forms.IntegerField(
        label="Duration in minutes",
        help_text="Needed unless you did not reach them",
        min_value=0,
        max_value=600,
        required=False,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
        error_messages={
            "max_value": "Duration must be 600 minutes or fewer",
            "min_value": "Duration cannot be negative",
            "invalid": "Duration must be a number of minutes, like 45",
        },
    )
    notes = _text("Notes", NOTES_LIMIT, rows=6)
    next_step = forms.CharField(label="Next step", max_length=300, required=False)
    follow_up_on = DateInputField(label="Follow-up date", required=False, help_text="For example, 15 3 2027")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("date", now.date())
            self.initial.setdefault("time", now.strftime("%H:%M"))
        self.helper = _helper("Save contact")

    def clean_time(self) -> dt.time:
        value = self.cleaned_data["time"].strip().replace(".", ":")
        match = re.fullmatch(r"([01]?\d|2[0-3]):?([0-5]\d)", value)
        if not match:
            raise forms.ValidationError("Enter a time like 09:30 or 14:30")
        return dt.time(int(match.group(1)), int(match.group(2)))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and isinstance(data.get("time"), dt.time):
            at = timezone.make_aware(dt.datetime.combine(data["date"], data["time"]))
            if at > timezone.now() + dt.timedelta(minutes=5):
                self.add_error("time", "The contact must be in the past")
            data["at"] = at
        missing = data.get("duration_minutes") in (None, "") and "duration_minutes" not in self.errors
        if not data.get("attempted_only") and missing:
            self.add_error("duration_minutes", "Enter how long the contact took, in minutes")
        return data


class WhatMattersForm(VersionedForm):
    what_matters = _text("What matters to me", 3000, 5, "In the person's own words.")
    strengths = _text("My strengths", 3000, 4, "What they are good at, who and what helps them.")
    worries = _text("What worries me", 3000, 4)
    want_to_change = _text("What I want to change", 3000, 4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper()
        self.helper.layout = Layout(
            "what_matters", "strengths", "worries", "want_to_change", "version", Submit("submit", "Save")
        )


class GoalForm(forms.Form):
    goal = forms.CharField(
        label="Goal, in the person's words", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    status = forms.ChoiceField(label="Status", choices=list(GOAL_STATUSES.items()), initial="not_started")
    progress = forms.CharField(
        label="Progress notes",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "data-lw-draft": "1"}),
    )
    action_1 = forms.CharField(label="Action 1: what will happen", max_length=300, required=False)
    who_1 = forms.CharField(label="Who will do it", max_length=100, required=False)
    by_1 = DateInputField(label="By when", required=False, help_text="For example, 15 3 2027")
    action_2 = forms.CharField(label="Action 2: what will happen", max_length=300, required=False)
    who_2 = forms.CharField(label="Who will do it", max_length=100, required=False)
    by_2 = DateInputField(label="By when", required=False, help_text="For example, 15 3 2027")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(form_tag=False)
        self.helper.disable_csrf = True

    def as_goal(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("goal", "").strip():
            return None
        actions = []
        for n in (1, 2):
            if data.get(f"action_{n}", "").strip():
                by = data.get(f"by_{n}")
                actions.append(
                    {
                        "what": data[f"action_{n}"],
                        "who": data.get(f"who_{n}", ""),
                        "by_when": by.isoformat() if by else "",
                    }
                )
        return {
            "goal": data["goal"],
            "status": data["status"],
            "progress": data.get("progress", ""),
            "actions": actions,
        }

    @staticmethod
    def initial_from(goal: dict[str, Any]) -> dict[str, Any]:
        initial = {"goal": goal["goal"], "status": goal["status"], "progress": goal.get("progress", "")}
        for n, action in enumerate(goal.get("actions", [])[:2], start=1):
            initial[f"action_{n}"] = action["what"]
            initial[f"who_{n}"] = action.get("who", "")
            if action.get("by_when"):
                initial[f"by_{n}"] = dt.date.fromisoformat(action["by_when"])
        return initial


GoalFormSet = forms.formset_factory(GoalForm, extra=1, max_num=12, validate_max=True)


class PlanMetaForm(VersionedForm):
    review_on = DateInputField(label="Next review date", required=False, help_text="For example, 15 3 2027")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(form_tag=False)
        self.helper.disable_csrf = True
        self.helper.template = "nhsuk/display_form.html"  # the page draws the one error summary itself


class PauseForm(forms.Form):
    reason = forms.CharField(
        label="Why is the case paused?",
        max_length=300,
        help_text="For example: in hospital, away for a month",
        error_messages={"required": "Say why the case is paused"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Pause case")


class ExtendForm(forms.Form):
    weeks = forms.IntegerField(
        label="Extend by how many weeks?",
        min_value=1,
        max_value=26,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-2", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter a number of weeks",
            "min_value": "Extend by 1 to 26 weeks",
            "max_value": "Extend by 1 to 26 weeks",
            "invalid": "Enter a number of weeks, like 4",
        },
    )
    reason = forms.CharField(
        label="Why?", max_length=300, error_messages={"required": "Say why the window is extended"}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Extend support window")


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(
        label="Reassign to",
        queryset=None,
        empty_label="Choose a link worker",
        error_messages={"required": "Choose who will take over the case"},
    )
    reason = forms.CharField(
        label="Why?", max_length=300, error_messages={"required": "Say why the case is reassigned"}
    )

    def __init__(self, *args: Any, workers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = workers
        self.helper = _helper("Reassign case")


class HomeVisitForm(forms.Form):
    date = DateInputField(label="Date of visit", help_text="For example, 15 3 2027")
    time = forms.CharField(
        label="Time",
        max_length=5,
        help_text="24-hour clock, for example 14:30",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
    )
    expected_minutes = forms.IntegerField(
        label="Expected length in minutes",
        min_value=10,
        max_value=240,
        initial=60,
        help_text="If you have not checked out 15 minutes after this, your duty contact and supervisor are alerted.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
        error_messages={
            "min_value": "A visit should be expected to last 10 to 240 minutes",
            "max_value": "A visit should be expected to last 10 to 240 minutes",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Schedule visit")

    clean_time = ContactForm.clean_time

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and isinstance(data.get("time"), dt.time):
            data["planned_start"] = timezone.make_aware(dt.datetime.combine(data["date"], data["time"]))
            if data["planned_start"] < timezone.now() - dt.timedelta(hours=12):
                self.add_error("date", "The visit must be today or in the future")
        return data


class CheckOutForm(forms.Form):
    notes = _text("Visit notes", NOTES_LIMIT, rows=5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Check out: I have left safely", form_tag=False)
