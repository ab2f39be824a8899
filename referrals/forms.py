"""Referral forms. They validate and normalise; the NHS.UK crispy pack renders them; services save."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Layout
from django import forms
from django.utils import timezone
from django.utils.functional import cached_property

from clients.models import Case, Client, ClosureReason
from linkwork.accounts.models import Organisation, OrganisationKind, User
from linkwork.forms import DateInputField, Field, Fieldset, Submit, form_helper
from linkwork.nhs import normalise_nhs_number
from linkwork.validators import normalise_phone, normalise_postcode, validate_person_name
from referrals.models import Channel, ContactPreference, DeclineReason, ReferralReason

TEXT_LIMIT = 1000
URGENT_HELP = HTML(
    '<div class="nhsuk-warning-callout"><h2 class="nhsuk-warning-callout__label">'
    '<span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Not for urgent needs</span></h2>'
    "<p>Social prescribing is not an emergency or clinical service. If the person needs urgent medical help, "
    "call 999 or NHS 111. For a safeguarding concern about a child or adult at risk, follow your safeguarding "
    "procedure and contact the local authority safeguarding team now.</p></div>"
)


URGENT_HELP_SELF = HTML(
    '<div class="nhsuk-warning-callout"><h2 class="nhsuk-warning-callout__label">'
    '<span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>If you need help now</span></h2>'
    "<p>This service cannot help in an emergency. If you need urgent medical help, call 999 or NHS 111. "
    "If you are worried about your safety or someone else's, call 999.</p></div>"
)


def _textarea(label: str, help_text: str = "", limit: int = TEXT_LIMIT, rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": f"{label} must be {limit} characters or fewer"},
    )


class ReferralForm(forms.Form):
    """The person and why they are referred: the same questions whichever way the referral comes in."""

    consent_label = "The person has agreed to be referred to social prescribing"
    consent_hint = "They know a link worker will contact them, and what the service is for."
    nhs_number_required = False
    submit_label = "Send referral"

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = DateInputField(label="Date of birth", past_only=True)
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=20,
        help_text="10 digits, for example 943 476 5919. Leave blank if you do not know it.",
    )
    address = _textarea("Address", limit=300, rows=3)
    postcode = forms.CharField(label="Postcode", max_length=20)
    phone = forms.CharField(label="Phone number", required=False, max_length=30)
    email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
    )
    contact_preference = forms.ChoiceField(
        label="How would they like to be contacted?",
        choices=ContactPreference.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how they would like to be contacted"},
    )
    contact_times = forms.CharField(
        label="Best times to contact them",
        required=False,
        max_length=200,
        help_text="For example: weekday mornings, not Wednesdays",
    )
    interpreter_needed = forms.BooleanField(label="They need an interpreter", required=False)
    language = forms.CharField(
        label="Preferred language",
        required=False,
        max_length=100,
        help_text="Needed if they need an interpreter. Include British Sign Language (BSL).",
    )
    accessibility_needs = _textarea(
        "Accessibility or communication needs",
        "For example: uses a wheelchair, large print, hearing loss",
        limit=500,
        rows=3,
    )
    reasons = forms.MultipleChoiceField(
        label="Reasons for referral",
        choices=ReferralReason.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one reason for referral"},
    )
    reason_other = forms.CharField(
        label="If other, what is it?",
        required=False,
        max_length=200,
        error_messages={"max_length": "Other reason must be 200 characters or fewer"},
    )
    hopes = _textarea("What the person hopes for", "In their own words if you can.")
    risk_information = _textarea(
        "Risks a link worker should know about before a home visit",
        "For example: aggressive dog, others in the home with a history of violence. Leave blank if none.",
    )
    consent_given = forms.BooleanField(label="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
        self.fields["consent_given"].label = self.consent_label
        self.fields["consent_given"].help_text = self.consent_hint
        self.fields["consent_given"].error_messages["required"] = (
            "You can only refer someone who has agreed to it. Ask them first: most people are glad to be asked."
        )
        self.fields["nhs_number"].required = self.nhs_number_required
        for name, message in [
            ("given_name", "Enter the person's first name"),
            ("family_name", "Enter the person's last name"),
            ("postcode", "Enter the person's postcode"),
            ("nhs_number", "Enter the person's NHS number"),
        ]:
            self.fields[name].error_messages["required"] = message
        self.fields["date_of_birth"].error_messages["required"] = "Enter the person's date of birth"

    @cached_property
    def helper(self) -> FormHelper:
        """Built when the form is drawn, after every subclass has set its fields: a valid POST never draws it,
        and the blank staff form is drawn once a process (views.intake.blank_referral_form_html)."""
        helper = FormHelper()
        helper.layout = self.build_layout()
        return helper

    def leading_layout(self) -> list[Any]:
        return [URGENT_HELP]

    def person_layout(self) -> list[Any]:
        return [
            Fieldset(
                "About the person",
                Field("given_name", autocomplete="off", spellcheck="false"),
                Field("family_name", autocomplete="off", spellcheck="false"),
                "date_of_birth",
                Field("nhs_number", inputmode="numeric", css_class="nhsuk-input--width-10"),
                "address",
                Field("postcode", css_class="nhsuk-input--width-10"),
                Field("phone", inputmode="tel", css_class="nhsuk-input--width-20"),
                Field("email", spellcheck="false"),
                "contact_preference",
                "contact_times",
                "interpreter_needed",
                Field("language", css_class="nhsuk-input--width-20"),
                "accessibility_needs",
                label_size="m",
            ),
            Fieldset(
                "The referral",
                "reasons",
                "reason_other",
                "hopes",
                "risk_information",
                label_size="m",
            ),
            Fieldset("Consent", "consent_given", label_size="m"),
        ]

    def build_layout(self) -> Layout:
        return Layout(
            *self.leading_layout(),
            *self.person_layout(),
            "idempotency_key",
            Submit("submit", self.submit_label),
        )

    # --- cleaning ---------------------------------------------------------------------------------------
    def clean_given_name(self) -> str:
        return validate_person_name(self.cleaned_data["given_name"], "First name")

    def clean_family_name(self) -> str:
        return validate_person_name(self.cleaned_data["family_name"], "Last name")

    def clean_date_of_birth(self) -> dt.date:
        value = self.cleaned_data["date_of_birth"]
        if value < timezone.localdate().replace(year=timezone.localdate().year - 120):
            raise forms.ValidationError("Date of birth must be within the last 120 years")
        return value

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"].strip()
        return normalise_nhs_number(value) if value else ""

    def clean_postcode(self) -> str:
        return normalise_postcode(self.cleaned_data["postcode"])

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "other" in data.get("reasons", []) and not data.get("reason_other", "").strip():
            self.add_error("reason_other", "Say what the other reason is")
        if data.get("interpreter_needed") and not data.get("language", "").strip():
            self.add_error("language", "Enter the language they need an interpreter for")
        preference = data.get("contact_preference")
        if preference in ("phone", "text") and not data.get("phone"):
            self.add_error("phone", "Enter a phone number, or choose another way to contact them")
        if preference == "email" and not data.get("email"):
            self.add_error("email", "Enter an email address, or choose another way to contact them")
        if preference == "letter" and not data.get("address", "").strip():
            self.add_error("address", "Enter an address, or choose another way to contact them")
        return data


class StaffReferralForm(ReferralForm):
    """A logged-in practice or agency referrer. Practices must give the NHS number (it is on their screen)."""

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        self.organisations = organisations
        super().__init__(*args, **kwargs)
        if any(o.kind == "practice" for o in organisations) and len(organisations) == 1:
            self.fields["nhs_number"].required = True
            self.fields["nhs_number"].help_text = "10 digits, for example 943 476 5919"
        choices = [
            (
                f"{org.pk}:{service.pk}",
                f"{service.name} (from {org.name})" if len(organisations) > 1 else service.name,
            )
            for org in organisations
            for service in org.services.all()
            if service.is_active
        ]
        self.fields["route"] = forms.ChoiceField(
            label="Which service are you referring to?",
            choices=choices,
            widget=forms.RadioSelect,
            error_messages={"required": "Select the service you are referring to"},
        )
        if len(choices) == 1:
            # Nothing to choose: the only route is taken whether or not the hidden field comes back.
            self.fields["route"].initial = choices[0][0]
            self.fields["route"].required = False
            self.fields["route"].widget = forms.HiddenInput()

    def leading_layout(self) -> list[Any]:
        return [URGENT_HELP, "route"]

    def clean_route(self) -> tuple[Organisation, Organisation]:
        route = self.cleaned_data["route"] or self.fields["route"].initial
        if not route:
            raise forms.ValidationError("Your organisation is not linked to a social prescribing service yet")
        org_id, service_id = route.split(":")
        org = next(o for o in self.organisations if str(o.pk) == org_id)
        service = next(s for s in org.services.all() if str(s.pk) == service_id)
        return org, service


class ReferrerDetailsForm(ReferralForm):
    """Referrals from people without an account: who is referring, so the service can reach them."""

    referrer_name = forms.CharField(label="Your name", max_length=150)
    referrer_role = forms.CharField(label="Your job title", max_length=100, required=False)
    referrer_organisation_name = forms.CharField(label="Your organisation", max_length=200)
    referrer_phone = forms.CharField(label="Your phone number", max_length=30, required=False)
    referrer_email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="We will email you, without any personal details, when the referral is accepted or declined.",
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referrer_name"].error_messages["required"] = "Enter your name"
        self.fields["referrer_organisation_name"].error_messages["required"] = "Enter your organisation"
        self.fields["referrer_email"].error_messages["required"] = "Enter your email address"

    def referrer_layout(self) -> list[Any]:
        return [
            Fieldset(
                "About you",
                Field("referrer_name", autocomplete="name"),
                "referrer_role",
                Field("referrer_organisation_name", autocomplete="organization"),
                Field("referrer_phone", inputmode="tel", autocomplete="tel", css_class="nhsuk-input--width-20"),
                Field("referrer_email", autocomplete="email", spellcheck="false"),
                label_size="m",
            )
        ]

    def leading_layout(self) -> list[Any]:
        return [URGENT_HELP, *self.referrer_layout()]

    def clean_referrer_name(self) -> str:
        return validate_person_name(self.cleaned_data["referrer_name"], "Your name")

    def clean_referrer_phone(self) -> str:
        return normalise_phone(self.cleaned_data["referrer_phone"])


class AgencyReferralForm(ReferrerDetailsForm):
    def __init__(self, *args: Any, agency_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agency_name and not self.is_bound:
            self.initial.setdefault("referrer_organisation_name", agency_name)


class RecordedReferralForm(ReferrerDetailsForm):
    """A link worker or manager types in a referral received by phone, letter or email."""

    submit_label = "Save referral"

    def __init__(self, *args: Any, services: list[Organisation], **kwargs: Any) -> None:
        self.services = services
        super().__init__(*args, **kwargs)
        self.fields["channel"] = forms.ChoiceField(
            label="How did the referral arrive?",
            choices=[(Channel.PHONE, "Phone call"), (Channel.LETTER, "Letter or email")],
            widget=forms.RadioSelect,
            error_messages={"required": "Select how the referral arrived"},
        )
        self.fields["service"] = forms.ModelChoiceField(
            label="Service",
            queryset=Organisation.objects.filter(pk__in=[s.pk for s in services]),
            empty_label=None,
            error_messages={"required": "Select the service"},
        )
        if len(services) == 1:
            self.fields["service"].initial = services[0].pk
            self.fields["service"].required = False
            self.fields["service"].widget = forms.HiddenInput()
        for name in ("referrer_name", "referrer_organisation_name", "referrer_email"):
            self.fields[name].required = False
        self.fields["referrer_name"].label = "Referrer's name"
        self.fields["referrer_role"].label = "Referrer's job title"
        self.fields["referrer_organisation_name"].label = "Referrer's organisation"
        self.fields["referrer_phone"].label = "Referrer's phone number"
        self.fields["referrer_email"].label = "Referrer's email address"
        self.fields["referrer_email"].help_text = "They will be emailed, without personal details, when it is triaged."
        self.consent_label = "The person has agreed to be referred"
        self.fields["consent_given"].label = self.consent_label

    def clean_referrer_name(self) -> str:
        value = self.cleaned_data["referrer_name"]
        return validate_person_name(value, "Referrer's name") if value.strip() else ""

    def clean_service(self) -> Organisation:
        service = self.cleaned_data["service"]
        if service is None and len(self.services) == 1:
            return self.services[0]
        if service is None:
            raise forms.ValidationError("Select the service")
        return service

    def referrer_layout(self) -> list[Any]:
        layout = super().referrer_layout()
        layout[0].legend = "Who referred them (if not self-referral)"
        return layout

    def leading_layout(self) -> list[Any]:
        return ["service", "channel", *self.referrer_layout()]


class SelfReferralForm(ReferralForm):
    consent_label = "I would like a link worker to contact me"
    consent_hint = "They will ask what matters to you and help you find support nearby."
    submit_label = "Send my referral"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in [
            ("given_name", "Your first name"),
            ("family_name", "Your last name"),
            ("date_of_birth", "Your date of birth"),
            ("nhs_number", "Your NHS number"),
            ("address", "Your address"),
            ("postcode", "Your postcode"),
            ("phone", "Your phone number"),
            ("email", "Your email address"),
            ("contact_preference", "How would you like us to contact you?"),
            ("contact_times", "Best times to contact you"),
            ("interpreter_needed", "I need an interpreter"),
            ("accessibility_needs", "Anything that would make it easier for you to talk to us"),
            ("reasons", "What would you like help with?"),
            ("hopes", "What would you like to change?"),
            ("risk_information", "Is there anything we should know before visiting you at home?"),
        ]:
            self.fields[name].label = label
        self.fields[
            "nhs_number"
        ].help_text = "You can find it on a letter from your GP or in the NHS App. Leave blank if you do not know it."
        self.fields["hopes"].help_text = ""
        self.fields[
            "risk_information"
        ].help_text = "For example: a dog, or other people in your home. Leave blank if nothing."
        self.fields["consent_given"].error_messages["required"] = (
            "Tick the box to say you would like a link worker to contact you"
        )

    def leading_layout(self) -> list[Any]:
        return [URGENT_HELP_SELF]

    def person_layout(self) -> list[Any]:
        layout = super().person_layout()
        layout[0].legend = "About you"
        layout[1].legend = "What you would like help with"
        return layout

    def clean_given_name(self) -> str:
        return validate_person_name(self.cleaned_data["given_name"], "Your first name")

    def clean_family_name(self) -> str:
        return validate_person_name(self.cleaned_data["family_name"], "Your last name")


# --- Triage ---------------------------------------------------------------------------------------------
NEW_CASE = "new"
NEW_CLIENT = "new"


class AcceptForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assign to", queryset=User.objects.none(), empty_label="Choose a link worker", required=False
    )

    def __init__(
        self,
        *args: Any,
        link_workers: Any,
        open_cases: list[Case],
        clients: list[Client],
        title: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.open_cases = {str(c.pk): c for c in open_cases}
        self.clients = {str(c.pk): c for c in clients}
        self.fields["assignee"].queryset = link_workers
        self.fields["assignee"].label = f"Assign to a {title.lower()}"
        # Only optional when the referral can instead be added to the person's open case.
        self.fields["assignee"].required = not open_cases
        self.fields["assignee"].error_messages["required"] = "Choose who will support this person"
        layout: list[Any] = []
        if open_cases:
            self.fields["case"] = forms.ChoiceField(
                label="This person already has an open case",
                choices=[
                    *[
                        (
                            str(c.pk),
                            f"Add this referral to the open case for {c.client.full_name}"
                            f" ({c.link_worker.full_name if c.link_worker else 'unassigned'})",
                        )
                        for c in open_cases
                    ],
                    (NEW_CASE, "Open a new case"),
                ],
                widget=forms.RadioSelect,
                error_messages={"required": "Choose whether to merge or open a new case"},
            )
            layout.append("case")
        if clients:
            self.fields["client"] = forms.ChoiceField(
                label="Use an existing client record?",
                choices=[
                    *[(str(c.pk), f"{c.full_name}, born {c.date_of_birth:%-d %b %Y}") for c in clients],
                    (NEW_CLIENT, "No, create a new client record"),
                ],
                widget=forms.RadioSelect,
                error_messages={"required": "Choose a client record"},
            )
            layout.append("client")
        self.helper = form_helper(form_tag=False)
        self.helper.layout = Layout(*layout, "assignee")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["into_case"] = self.open_cases.get(data.get("case", ""))
        data["client_record"] = self.clients.get(data.get("client", ""))
        if data["into_case"] is None and not data.get("assignee"):
            self.add_error("assignee", "Choose who will support this person")
        return data


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is it declined?",
        choices=DeclineReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the referral is declined"},
    )
    note = _textarea("Note for the referrer", "Say where else the person could go, if you know.", 500, 3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper(form_tag=False)


class RedirectForm(forms.Form):
    service = forms.ModelChoiceField(
        label="Send to which service?",
        queryset=Organisation.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Select the service to send the referral to"},
    )
    note = _textarea("Why", limit=500, rows=2)

    def __init__(self, *args: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.helper = form_helper(form_tag=False)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the case closing?",
        choices=ClosureReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the case is closing"},
    )
    summary = forms.CharField(
        label="Outcome summary for the GP record",
        max_length=1000,
        help_text="Shared with the referrer. Do not include the case notes.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Write a short outcome summary for the GP record",
            "max_length": "Outcome summary must be 1000 characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper(form_tag=False)


class AgencyLinkForm(forms.Form):
    agency_name = forms.CharField(
        label="Agency name",
        max_length=200,
        help_text="For example: Riverside Foodbank",
        error_messages={"required": "Enter the agency's name"},
    )
    service = forms.ModelChoiceField(label="Service", queryset=Organisation.objects.none(), empty_label=None)

    def __init__(self, *args: Any, services: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Organisation.objects.filter(pk__in=[s.pk for s in services])
        if len(services) == 1:
            self.fields["service"].initial = services[0].pk
            self.fields["service"].widget = forms.HiddenInput()
        self.helper = form_helper("Create link")


class UUIDListField(forms.Field):
    """Several ids under one name (a column of checkboxes the template draws): a list of UUIDs, repeats dropped."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "The events selected were not recognised: reload the page and try again"}

    def to_python(self, value: Any) -> list[uuid.UUID]:
        if not value:
            return []
        try:
            return list(dict.fromkeys(uuid.UUID(str(v)) for v in value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class GPRecordingMarkForm(forms.Form):
    """The coded events ticked as recorded in the GP record. Whether they are the practice's to mark is the
    service's check (``coded_event_services.gp_recording_mark``)."""

    referral = UUIDListField(error_messages={"required": "Select the events you have recorded in the GP record"})


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label="System name",
        max_length=150,
        help_text="For example: EMIS Web at Riverside Surgery",
        error_messages={"required": "Enter the name of the system that will use the key"},
    )
    route = forms.ChoiceField(
        label="Which organisation sends referrals with it, and to which service?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the organisation the key is for"},
    )

    def __init__(self, *args: Any, services: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routes = {
            f"{org.pk}:{service.pk}": (org, service)
            for service in services
            for org in service.partners.filter(
                kind__in=(OrganisationKind.PRACTICE, OrganisationKind.AGENCY), is_active=True
            ).order_by("name")
        }
        self.fields["route"].choices = [
            (key, f"{org.name} to {service.name}" if len(services) > 1 else org.name)
            for key, (org, service) in self.routes.items()
        ]
        self.helper = form_helper("Create key")

    def clean_route(self) -> tuple[Organisation, Organisation]:
        route = self.routes.get(self.cleaned_data["route"])
        if route is None:
            raise forms.ValidationError("Select the organisation the key is for")
        return route
