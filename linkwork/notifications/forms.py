"""Forms for reminders: snooze to a date, the email choice, and a service's reminder rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.layout import Layout
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from linkwork.accounts.access import SERVICE_ROLES
from linkwork.accounts.models import Organisation
from linkwork.forms import DateInputField, Fieldset, form_helper
from linkwork.notifications.models import ReminderSettings
from linkwork.notifications.services import REMINDER_SETTING_FIELDS

SNOOZE_LIMIT_DAYS = 366


class SnoozeForm(forms.Form):
    until = DateInputField(
        label="Snooze until",
        error_name="The date",
        help_text="It comes back on this day. For example, 15 3 2027",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Snooze")

    def clean_until(self) -> dt.date:
        until: dt.date = self.cleaned_data["until"]
        today = timezone.localdate()
        if until <= today:
            raise forms.ValidationError("The date must be in the future")
        if until > today + dt.timedelta(days=SNOOZE_LIMIT_DAYS):
            raise forms.ValidationError("The date must be within a year")
        return until


class PreferenceForm(forms.Form):
    email_digest = forms.BooleanField(
        label="Send me a daily email listing my reminders",
        required=False,
        help_text="Urgent alerts, such as a home visit not checked out, are always emailed.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Save")


def _number(label: str, help_text: str = "", maximum: int = 120) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "required": f"Enter a number for: {label.lower()}",
            "invalid": f"{label} must be a whole number",
            "min_value": f"{label} must be 0 or more",
            "max_value": f"{label} must be {maximum} or fewer",
        },
    )


OFF = "0 turns this reminder off."


class ReminderSettingsForm(forms.Form):
    triage_alert_working_days = _number(
        "Remind the triage team after (working days)",
        "Referrals waiting longer than this are highlighted in the triage queue and reminded.",
        maximum=60,
    )
    triage_escalate_working_days = _number("Escalate to the service manager after (working days)", OFF, 60)
    first_contact_working_days = _number("First contact due within (working days of acceptance)", OFF, 60)
    no_contact_days = _number("Remind after this many days without contact", OFF, 120)
    ending_soon_days = _number("Warn this many days before the support window ends", OFF, 120)
    ending_soon_below_contacts = _number("…when the person has had fewer contacts than", "", 50)
    review_at_contacts = _number("Ask for a review at this many contacts", OFF, 50)
    window_ended = forms.BooleanField(label="Remind when the window has ended on an open case", required=False)
    follow_up_measure = forms.BooleanField(label="Remind when a follow-up wellbeing measure is due", required=False)
    community_review = forms.BooleanField(
        label="Remind when a directory entry is due for its quality review", required=False
    )
    home_visit_grace_minutes = forms.IntegerField(
        label="Grace period after a home visit's expected end (minutes)",
        required=False,
        min_value=0,
        max_value=240,
        help_text="Leave blank for the site default.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "invalid": "The grace period must be a whole number of minutes",
            "min_value": "The grace period must be 0 or more minutes",
            "max_value": "The grace period must be 240 minutes or fewer",
        },
    )
    duty_contact = forms.ModelChoiceField(
        label="Duty contact for urgent home visit alerts",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="None: alert the service managers",
        help_text="Supervisors are always alerted too.",
    )

    def __init__(self, *args: Any, service: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duty_contact"].queryset = (
            get_user_model()
            .objects.filter(memberships__organisation=service, memberships__role__in=SERVICE_ROLES, is_active=True)
            .distinct()
            .order_by("full_name")
        )
        self.fields["duty_contact"].label_from_instance = lambda u: u.full_name or u.email
        self.helper = form_helper("Save reminder settings")
        self.helper.layout = _layout()

    @staticmethod
    def initial_for(service: Organisation, rules: ReminderSettings) -> dict[str, Any]:
        initial: dict[str, Any] = {f: getattr(rules, f) for f in FIELDS if f != "duty_contact"}
        initial["duty_contact"] = rules.duty_contact_id
        initial["triage_alert_working_days"] = service.triage_alert_working_days
        return initial


FIELDS = REMINDER_SETTING_FIELDS  # one list: the service saves exactly the fields the form shows


def _layout() -> Layout:
    return Layout(
        Fieldset("Referrals", "triage_alert_working_days", "triage_escalate_working_days", label_size="m"),
        Fieldset(
            "Cases",
            "first_contact_working_days",
            "no_contact_days",
            "ending_soon_days",
            "ending_soon_below_contacts",
            "review_at_contacts",
            "window_ended",
            "follow_up_measure",
            label_size="m",
        ),
        Fieldset("Home visits", "home_visit_grace_minutes", "duty_contact", label_size="m"),
        Fieldset("Community directory", "community_review", label_size="m"),
    )
