"""Forms for wellbeing measures and GP use. They validate and normalise; services score and save."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Layout
from django import forms
from django.utils import timezone

from linkwork.forms import DateInputField, Field, Fieldset, Submit
from outcomes.models import Instrument, InstrumentItem, Mode, Timepoint
from outcomes.services import MAX_AE_ATTENDANCES, MAX_GP_APPOINTMENTS

ITEM_PREFIX = "item_"


class QuestionRadioSelect(forms.RadioSelect):
    """A questionnaire item: NHS.UK radios whose legend is the question, never marked "(optional)" (every
    question may be left unanswered, and the page says so once at the top)."""

    nhsuk_template = "outcomes/measures/_question.html"

    def __init__(self, *args: Any, inline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inline = inline


def _helper(submit: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", submit))
    return helper


class ChooseForm(forms.Form):
    instrument = forms.ModelChoiceField(
        label="Which measure?",
        queryset=Instrument.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose a measure", "invalid_choice": "Choose one of the measures listed"},
    )
    timepoint = forms.ChoiceField(
        label="Is this the baseline or the follow-up?",
        choices=Timepoint.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose baseline or follow-up"},
    )

    def __init__(
        self, *args: Any, instruments: Sequence[Instrument], hints: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["instrument"])
        field.queryset = Instrument.objects.filter(pk__in=[i.pk for i in instruments])
        field.label_from_instance = lambda instrument: instrument.name
        self.helper = _helper("Continue")
        self.helper.layout = Layout(
            Field("instrument", label_size="m", hints=hints or {}),
            Field(
                "timepoint",
                label_size="m",
                hints={
                    Timepoint.BASELINE: "At or near the start of support",
                    Timepoint.FOLLOW_UP: "At or near the end of support",
                },
            ),
        )


class AssessmentForm(forms.Form):
    """One radio question per item of the instrument (``item_<code>``), the date taken and how it was done.
    Every question may be left unanswered."""

    taken_on = DateInputField(
        label="Date taken", not_future=True, error_name="Date taken", help_text="For example, 15 3 2026"
    )
    mode = forms.ChoiceField(
        label="How was it completed?",
        choices=Mode.choices,
        initial=Mode.WITH_PERSON,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how it was completed"},
    )

    def __init__(self, *args: Any, instrument: Instrument, items: Sequence[InstrumentItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.items = list(items)
        if not self.is_bound:
            self.initial.setdefault("taken_on", timezone.localdate())
        for item in self.items:
            choices = [(str(value), str(label)) for value, label in item.options]
            inline = all(len(label) <= 3 for _, label in choices)  # a 0 to 10 scale reads across
            self.fields[ITEM_PREFIX + item.code] = forms.ChoiceField(
                label=f"{item.number}. {item.text}",
                choices=choices,
                required=False,
                widget=QuestionRadioSelect(inline=inline),
                error_messages={"invalid_choice": f"Choose one of the answers to “{item.text}”"},
            )
        self.helper = _helper("Save answers")
        self.helper.layout = Layout(
            *(Field(ITEM_PREFIX + item.code, label_size="s") for item in self.items),
            HTML('<h2 class="nhsuk-heading-m">When and how it was done</h2>'),
            "taken_on",
            Field("mode", label_size="s"),
        )

    def answers(self) -> dict[str, int]:
        """The answered items as {item code: value}."""
        found = {}
        for item in self.items:
            value = self.cleaned_data.get(ITEM_PREFIX + item.code)
            if value not in (None, ""):
                found[item.code] = int(value)
        return found

    def field_for(self, item_code: str) -> str | None:
        name = ITEM_PREFIX + item_code
        return name if name in self.fields else None


def _count(label: str, maximum: int, *, required: bool = False, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "invalid": f"{label} must be a number, like 3",
            "min_value": f"{label} must be 0 or more",
            "max_value": f"{label} must be {maximum} or fewer",
        },
    )


class SystemUseForm(forms.Form):
    """GP appointments and A&E attendances in the 3 months before referral and, once the case is closed, the
    3 months after. A period left blank is not recorded (and one already recorded is kept)."""

    before_gp = _count("GP appointments", MAX_GP_APPOINTMENTS, help_text="From the GP record or as they recall")
    before_ae = _count("A&E attendances", MAX_AE_ATTENDANCES)
    after_gp = _count("GP appointments", MAX_GP_APPOINTMENTS)
    after_ae = _count("A&E attendances", MAX_AE_ATTENDANCES)

    PERIODS = (("before", "before_gp", "before_ae"), ("after", "after_gp", "after_ae"))

    def __init__(self, *args: Any, closed: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed = closed
        parts: list[Any] = [Fieldset("In the 3 months before referral", "before_gp", "before_ae", legend_size="m")]
        if closed:
            parts.append(Fieldset("In the 3 months after closure", "after_gp", "after_ae", legend_size="m"))
        else:
            del self.fields["after_gp"], self.fields["after_ae"]
        self.helper = _helper("Save")
        self.helper.layout = Layout(*parts)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        recorded = False
        for _, gp, ae in self.PERIODS:
            if gp not in self.fields:
                continue
            if data.get(gp) is not None:
                recorded = True
            elif data.get(ae) is not None and gp not in self.errors:
                self.add_error(gp, "Enter the number of GP appointments (0 if none)")
        if not recorded and not self.errors:
            self.add_error("before_gp", "Enter the number of GP appointments (0 if none)")
        return data

    def periods(self) -> list[tuple[str, int, int | None]]:
        """(period, GP appointments, A&E attendances) for each period filled in."""
        return [
            (period, self.cleaned_data[gp], self.cleaned_data.get(ae))
            for period, gp, ae in self.PERIODS
            if gp in self.fields and self.cleaned_data.get(gp) is not None
        ]
