"""The crispy "nhsuk" template pack renders NHS.UK frontend markup, and DateInputField validates like the
NHS.UK date input pattern. Plain template rendering: no database, no request."""

import datetime
from collections.abc import Iterator

import pytest
import time_machine
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Layout
from django import forms
from django.template import Context, Template
from django.test.html import Element, parse_html

from linkwork.forms import DateInputField, Field, Fieldset, Submit


class ReferralForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        help_text="As it appears on their GP record",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
        error_messages={"required": "Enter their full name"},
    )
    email = forms.EmailField(label="Email address", required=False)
    reason = forms.CharField(
        label="Why are you referring them?",
        help_text="Do not include their NHS number",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    contact = forms.ChoiceField(
        label="How should we contact them?",
        choices=[("email", "Email"), ("phone", "Phone"), ("letter", "Letter")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select how we should contact them"},
    )
    phone = forms.CharField(label="Phone number", required=False)
    needs = forms.MultipleChoiceField(
        label="What do they need help with?",
        help_text="Select all that apply",
        choices=[("housing", "Housing"), ("money", "Money"), ("loneliness", "Loneliness")],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select what they need help with"},
    )
    team = forms.ChoiceField(label="Team", choices=[("", "Choose a team"), ("north", "North"), ("south", "South")])
    consent = forms.BooleanField(label="They agree to be referred", help_text="Ask them first")
    date_of_birth = DateInputField(label="Date of birth", past_only=True)
    ref = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("About them", "full_name", "email", "date_of_birth"),
            "reason",
            Field("contact", conditional={"phone": "phone"}, hints={"letter": "Letters take a week"}),
            "needs",
            "team",
            "consent",
            "ref",
            Submit("save", "Send referral"),
            Submit("draft", "Save as draft", variant="secondary"),
        )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if cleaned.get("contact") == "email" and not cleaned.get("email"):
            raise forms.ValidationError("Give an email address or choose another way to contact them")
        return cleaned


INVALID = {
    "full_name": "",
    "email": "not-an-email",
    "reason": "x" * 250,
    "contact": "phone",
    "phone": "01234 567890",
    "needs": [],
    "team": "north",
    "date_of_birth_day": "31",
    "date_of_birth_month": "",
    "date_of_birth_year": "1984",
    "ref": "R-1",
}


def render(template: str, **context: object) -> Element:
    html = Template("{% load crispy_forms_tags %}" + template).render(Context(context))
    return parse_html(html)


def walk(element: Element | str) -> Iterator[Element]:
    if isinstance(element, str):
        return
    yield element
    for child in element.children:
        yield from walk(child)


def attrs(element: Element) -> dict[str, str | None]:
    return dict(element.attributes)


def by_id(root: Element, id_: str) -> Element:
    [found] = [e for e in walk(root) if attrs(e).get("id") == id_]
    return found


def by_class(root: Element, css_class: str) -> list[Element]:
    return [e for e in walk(root) if css_class in (attrs(e).get("class") or "").split()]


def text(element: Element | str) -> str:
    if isinstance(element, str):
        return element
    return " ".join(" ".join(text(child) for child in element.children).split())


def classes(element: Element) -> set[str]:
    return set((attrs(element).get("class") or "").split())


def form_group(root: Element, field_id: str) -> Element:
    """The nhsuk-form-group that holds the element with this id."""
    return next(g for g in by_class(root, "nhsuk-form-group") if any(attrs(e).get("id") == field_id for e in walk(g)))


@pytest.fixture
def page() -> Element:
    form = ReferralForm(data=INVALID)
    assert not form.is_valid()
    return render("{% crispy form %}", form=form, csrf_token="token-123")


def test_it_puts_an_error_summary_first_that_links_to_each_field(page: Element) -> None:
    form_element = next(e for e in walk(page) if e.name == "form")
    assert attrs(form_element)["method"] == "post"
    assert "novalidate" in attrs(form_element)

    [summary] = by_class(page, "nhsuk-error-summary")
    assert attrs(summary)["data-module"] == "nhsuk-error-summary"
    [alert] = [e for e in walk(summary) if attrs(e).get("role") == "alert"]
    assert text(by_class(alert, "nhsuk-error-summary__heading")[0]) == "There is a problem"
    links = {attrs(a)["href"]: text(a) for a in walk(summary) if a.name == "a"}
    assert links == {
        "#id_full_name": "Enter their full name",
        "#id_email": "Enter a valid email address.",
        "#id_reason": "Ensure this value has at most 200 characters (it has 250).",
        "#id_needs_0": "Select what they need help with",  # checkboxes: the first checkbox
        "#id_consent": "This field is required.",
        "#id_date_of_birth_day": "Date of birth must include a month",  # date: the day box
    }
    for href in links:
        by_id(page, href[1:])  # every link has a target on the page


def test_it_lists_errors_that_belong_to_no_field_in_the_summary() -> None:
    form = ReferralForm(data={**INVALID, "contact": "email", "email": ""})
    form.is_valid()
    page = render("{% crispy form %}", form=form)
    [summary] = by_class(page, "nhsuk-error-summary")
    items = [text(li) for li in walk(summary) if li.name == "li"]
    assert items[0] == "Give an email address or choose another way to contact them"


def test_it_links_the_summary_to_the_first_radio() -> None:
    form = ReferralForm(data={**INVALID, "contact": ""})
    form.is_valid()
    page = render("{% crispy form %}", form=form)
    [summary] = by_class(page, "nhsuk-error-summary")
    assert "#id_contact_0" in {attrs(a)["href"] for a in walk(summary) if a.name == "a"}


def test_it_shows_each_error_by_its_field_with_hint_and_error_described(page: Element) -> None:
    group = form_group(page, "id_full_name")
    assert classes(group) == {"nhsuk-form-group", "nhsuk-form-group--error"}
    message = by_id(page, "id_full_name-error")
    assert classes(message) == {"nhsuk-error-message"}
    assert text(message) == "Error: Enter their full name"
    [hidden_prefix] = by_class(message, "nhsuk-u-visually-hidden")
    assert text(hidden_prefix) == "Error:"
    hint = by_id(page, "id_full_name-hint")
    assert classes(hint) == {"nhsuk-hint"}
    assert text(hint) == "As it appears on their GP record"

    field = by_id(page, "id_full_name")
    assert field.name == "input"
    assert classes(field) == {"nhsuk-input", "nhsuk-input--error"}
    assert attrs(field)["aria-describedby"] == "id_full_name-hint id_full_name-error"
    assert attrs(field)["autocomplete"] == "name"
    assert attrs(field)["spellcheck"] == "false"
    assert "required" not in attrs(field)  # server-side validation only
    label = next(e for e in walk(group) if e.name == "label")
    assert attrs(label) == {"class": "nhsuk-label", "for": "id_full_name"}
    assert text(label) == "Full name"


def test_it_marks_optional_fields_rather_than_required_ones(page: Element) -> None:
    labels = {attrs(e)["for"]: text(e) for e in walk(page) if e.name == "label" and "for" in attrs(e)}
    assert labels["id_email"] == "Email address (optional)"
    assert labels["id_phone"] == "Phone number (optional)"
    assert labels["id_full_name"] == "Full name"
    assert "*" not in "".join(labels.values())


def test_it_keeps_what_the_user_typed(page: Element) -> None:
    assert attrs(by_id(page, "id_email"))["value"] == "not-an-email"
    assert attrs(by_id(page, "id_email"))["type"] == "email"
    assert text(by_id(page, "id_reason")) == "x" * 250
    assert "checked" in attrs(by_id(page, "id_contact_1"))
    assert "checked" not in attrs(by_id(page, "id_contact_0"))
    assert attrs(by_id(page, "id_phone"))["value"] == "01234 567890"
    north = next(e for e in walk(by_id(page, "id_team")) if e.name == "option" and attrs(e)["value"] == "north")
    assert "selected" in attrs(north)
    assert attrs(by_id(page, "id_date_of_birth_day"))["value"] == "31"
    assert "value" not in attrs(by_id(page, "id_date_of_birth_month"))
    assert attrs(by_id(page, "id_date_of_birth_year"))["value"] == "1984"


def test_it_renders_a_date_as_day_month_and_year_in_a_fieldset(page: Element) -> None:
    group = form_group(page, "id_date_of_birth")
    assert "nhsuk-form-group--error" in classes(group)
    fieldset = next(e for e in walk(group) if e.name == "fieldset")
    assert attrs(fieldset)["role"] == "group"
    assert attrs(fieldset)["aria-describedby"] == "id_date_of_birth-hint id_date_of_birth-error"
    legend = next(e for e in walk(fieldset) if e.name == "legend")
    assert text(legend) == "Date of birth"
    assert text(by_id(page, "id_date_of_birth-hint")) == "For example, 15 3 1984"
    assert text(by_id(page, "id_date_of_birth-error")) == "Error: Date of birth must include a month"
    assert classes(by_id(page, "id_date_of_birth")) == {"nhsuk-date-input"}

    boxes = {part: by_id(page, f"id_date_of_birth_{part}") for part in ("day", "month", "year")}
    for part, box in boxes.items():
        assert attrs(box)["name"] == f"date_of_birth_{part}"
        assert attrs(box)["inputmode"] == "numeric"
        assert attrs(box)["type"] == "text"
    # Only the missing part is outlined.
    assert classes(boxes["month"]) == {
        "nhsuk-input",
        "nhsuk-date-input__input",
        "nhsuk-input--width-2",
        "nhsuk-input--error",
    }
    assert "nhsuk-input--error" not in classes(boxes["day"])
    assert classes(boxes["year"]) == {"nhsuk-input", "nhsuk-date-input__input", "nhsuk-input--width-4"}
    labels = [text(e) for e in by_class(group, "nhsuk-date-input__label")]
    assert labels == ["Day", "Month", "Year"]


class DateForm(forms.Form):
    date_of_birth = DateInputField(label="Date of birth", past_only=True)
    seen_on = DateInputField(label="What date did you see them?", error_name="Date seen", not_future=True)
    review_on = DateInputField(label="Review date", required=False)


def date_errors(**data: str) -> dict[str, list[str]]:
    values = {"date_of_birth": ("15", "3", "1984"), "seen_on": ("1", "11", "2026")}
    post = {}
    for name, (day, month, year) in values.items():
        post |= {f"{name}_day": day, f"{name}_month": month, f"{name}_year": year}
    form = DateForm(data=post | data)
    form.is_valid()
    return dict(form.errors)


@time_machine.travel(datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC), tick=False)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"date_of_birth_day": "", "date_of_birth_month": "", "date_of_birth_year": ""},
            "Enter date of birth",
        ),
        ({"date_of_birth_month": ""}, "Date of birth must include a month"),
        ({"date_of_birth_day": "", "date_of_birth_month": ""}, "Date of birth must include a day and month"),
        ({"date_of_birth_year": "  "}, "Date of birth must include a year"),
        ({"date_of_birth_day": "31", "date_of_birth_month": "2"}, "Date of birth must be a real date"),
        ({"date_of_birth_month": "13"}, "Date of birth must be a real date"),
        ({"date_of_birth_day": "first"}, "Date of birth must be a real date"),
        ({"date_of_birth_day": "1²"}, "Date of birth must be a real date"),
        ({"date_of_birth_year": "84"}, "Year must include 4 numbers"),
        ({"date_of_birth_year": "2030"}, "Date of birth must be in the past"),
        (
            {"date_of_birth_day": "24", "date_of_birth_month": "11", "date_of_birth_year": "2026"},
            "Date of birth must be in the past",
        ),
    ],
)
def test_it_says_what_is_wrong_with_a_date(data: dict[str, str], message: str) -> None:
    assert date_errors(**data) == {"date_of_birth": [message]}


@time_machine.travel(datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC), tick=False)
def test_it_accepts_today_when_not_future_and_rejects_tomorrow() -> None:
    assert date_errors(seen_on_day="24", seen_on_month="11", seen_on_year="2026") == {}
    assert date_errors(seen_on_day="25", seen_on_month="11", seen_on_year="2026") == {
        "seen_on": ["Date seen must be today or in the past"]
    }


def test_it_cleans_a_date_and_accepts_month_names_and_spaces() -> None:
    form = DateForm(
        data={
            "date_of_birth_day": " 05 ",
            "date_of_birth_month": "Mar",
            "date_of_birth_year": "1984",
            "seen_on_day": "1",
            "seen_on_month": "11",
            "seen_on_year": "2026",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "date_of_birth": datetime.date(1984, 3, 5),
        "seen_on": datetime.date(2026, 11, 1),
        "review_on": None,
    }


def test_it_shows_an_initial_date_in_the_boxes_and_notices_changes() -> None:
    form = DateForm(initial={"date_of_birth": datetime.date(1984, 3, 15)})
    page = render("{{ form|crispy }}", form=form)
    assert [attrs(by_id(page, f"id_date_of_birth_{p}")).get("value") for p in ("day", "month", "year")] == [
        "15",
        "3",
        "1984",
    ]
    field = DateForm.base_fields["date_of_birth"]
    assert not field.has_changed(datetime.date(1984, 3, 15), ["15", "03", "1984"])
    assert field.has_changed(datetime.date(1984, 3, 15), ["16", "3", "1984"])


def test_it_outlines_every_date_box_when_the_whole_date_is_wrong() -> None:
    form = DateForm(data={"date_of_birth_day": "31", "date_of_birth_month": "2", "date_of_birth_year": "1984"})
    form.is_valid()
    page = render("{{ form|crispy }}", form=form)
    for part in ("day", "month", "year"):
        box = by_id(page, f"id_date_of_birth_{part}")
        assert "nhsuk-input--error" in classes(box)
        assert attrs(box)["aria-invalid"] == "true"


def test_it_gives_a_textarea_with_a_max_length_a_character_count(page: Element) -> None:
    group = form_group(page, "id_reason")
    assert classes(group) == {"nhsuk-form-group", "nhsuk-form-group--error", "nhsuk-character-count"}
    assert attrs(group)["data-module"] == "nhsuk-character-count"
    assert attrs(group)["data-maxlength"] == "200"
    textarea = by_id(page, "id_reason")
    assert textarea.name == "textarea"
    assert classes(textarea) == {"nhsuk-textarea", "nhsuk-textarea--error", "nhsuk-js-character-count"}
    assert attrs(textarea)["aria-describedby"] == "id_reason-info id_reason-hint id_reason-error"
    assert attrs(textarea)["rows"] == "5"
    assert "maxlength" not in attrs(textarea)  # the count, not the browser, enforces the limit
    info = by_id(page, "id_reason-info")
    assert classes(info) == {"nhsuk-hint", "nhsuk-character-count__message"}
    assert text(info) == "You can enter up to 200 characters"


def test_it_renders_radios_in_a_fieldset_with_conditional_content(page: Element) -> None:
    group = form_group(page, "id_contact_0")
    fieldset = next(e for e in walk(group) if e.name == "fieldset")
    assert classes(fieldset) == {"nhsuk-fieldset"}
    legend = next(e for e in walk(fieldset) if e.name == "legend")
    assert classes(legend) == {"nhsuk-fieldset__legend"}
    assert text(legend) == "How should we contact them?"
    [radios] = by_class(group, "nhsuk-radios")
    assert attrs(radios)["data-module"] == "nhsuk-radios"

    email, phone, letter = (by_id(page, f"id_contact_{i}") for i in range(3))
    for radio, value in ((email, "email"), (phone, "phone"), (letter, "letter")):
        assert attrs(radio)["type"] == "radio"
        assert attrs(radio)["name"] == "contact"
        assert attrs(radio)["value"] == value
        assert classes(radio) == {"nhsuk-radios__input"}
    labels = [(attrs(e)["for"], text(e)) for e in by_class(group, "nhsuk-radios__label")]
    assert labels == [("id_contact_0", "Email"), ("id_contact_1", "Phone"), ("id_contact_2", "Letter")]

    # Phone is chosen, so its conditional question shows; the phone field is inside it.
    assert attrs(phone)["data-aria-controls"] == "id_contact_1-conditional"
    conditional = by_id(page, "id_contact_1-conditional")
    assert classes(conditional) == {"nhsuk-radios__conditional"}
    by_id(conditional, "id_phone")
    # A choice hint is tied to its radio.
    assert attrs(letter)["aria-describedby"] == "id_contact_2-item-hint"
    assert classes(by_id(page, "id_contact_2-item-hint")) == {"nhsuk-hint", "nhsuk-radios__hint"}


def test_it_hides_conditional_content_until_its_choice_is_selected() -> None:
    page = render("{% crispy form %}", form=ReferralForm())
    assert "nhsuk-radios__conditional--hidden" in classes(by_id(page, "id_contact_1-conditional"))
    assert not by_class(page, "nhsuk-error-summary")
    assert not by_class(page, "nhsuk-error-message")


def test_it_renders_checkboxes_in_a_fieldset(page: Element) -> None:
    group = form_group(page, "id_needs_0")
    assert "nhsuk-form-group--error" in classes(group)
    fieldset = next(e for e in walk(group) if e.name == "fieldset")
    assert attrs(fieldset)["aria-describedby"] == "id_needs-hint id_needs-error"
    assert text(next(e for e in walk(fieldset) if e.name == "legend")) == "What do they need help with?"
    [checkboxes] = by_class(group, "nhsuk-checkboxes")
    assert attrs(checkboxes)["data-module"] == "nhsuk-checkboxes"
    items = by_class(checkboxes, "nhsuk-checkboxes__item")
    assert len(items) == 3
    first = by_id(page, "id_needs_0")
    assert classes(first) == {"nhsuk-checkboxes__input"}
    assert attrs(first)["type"] == "checkbox"
    assert attrs(first)["name"] == "needs"
    assert [text(e) for e in by_class(group, "nhsuk-checkboxes__label")] == ["Housing", "Money", "Loneliness"]


def test_it_renders_a_single_checkbox_with_its_hint(page: Element) -> None:
    group = form_group(page, "id_consent")
    assert not [e for e in walk(group) if e.name == "fieldset"]
    box = by_id(page, "id_consent")
    assert classes(box) == {"nhsuk-checkboxes__input"}
    assert attrs(box)["aria-describedby"] == "id_consent-hint id_consent-error"
    assert classes(by_id(page, "id_consent-hint")) == {"nhsuk-hint", "nhsuk-checkboxes__hint"}
    assert text(by_class(group, "nhsuk-checkboxes__label")[0]) == "They agree to be referred"


def test_it_renders_a_select(page: Element) -> None:
    select = by_id(page, "id_team")
    assert select.name == "select"
    assert classes(select) == {"nhsuk-select"}
    options = [(attrs(o)["value"], text(o)) for o in walk(select) if o.name == "option"]
    assert options == [("", "Choose a team"), ("north", "North"), ("south", "South")]


def test_it_renders_fieldsets_buttons_hidden_fields_and_csrf(page: Element) -> None:
    fieldset = next(e for e in walk(page) if e.name == "fieldset" and by_class(e, "nhsuk-fieldset__legend--m"))
    assert text(by_class(fieldset, "nhsuk-fieldset__legend")[0]) == "About them"
    by_id(fieldset, "id_full_name")

    buttons = [e for e in walk(page) if e.name == "button" and attrs(e).get("type") == "submit"]
    assert [(text(b), classes(b)) for b in buttons] == [
        ("Send referral", {"nhsuk-button"}),
        ("Save as draft", {"nhsuk-button", "nhsuk-button--secondary"}),
    ]
    assert all(attrs(b)["data-module"] == "nhsuk-button" for b in buttons)

    hidden = {attrs(e)["name"]: attrs(e)["value"] for e in walk(page) if attrs(e).get("type") == "hidden"}
    assert hidden == {"csrfmiddlewaretoken": "token-123", "ref": "R-1"}


def test_the_crispy_filter_uses_the_pack_too() -> None:
    form = ReferralForm(data=INVALID)
    form.is_valid()
    page = render("{{ form|crispy }}", form=form)
    [summary] = by_class(page, "nhsuk-error-summary")
    assert "#id_date_of_birth_day" in {attrs(a)["href"] for a in walk(summary) if a.name == "a"}
    assert "nhsuk-input--error" in classes(by_id(page, "id_full_name"))
    assert not [e for e in walk(page) if e.name == "form"]


def test_crispys_own_submit_and_layout_field_options_render_as_nhsuk() -> None:
    from crispy_forms.layout import Submit as CrispySubmit

    class QuestionForm(forms.Form):
        answer = forms.ChoiceField(
            label="Are they over 18?", choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect
        )
        postcode = forms.CharField(label="Postcode")

        def __init__(self) -> None:
            super().__init__()
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.layout = Layout(
                Field("answer", page_heading=True, label_size="l", inline=True),
                Field("postcode", css_class="nhsuk-input--width-10", autocomplete="postal-code"),
                HTML("<p>Check before you continue.</p>"),
                CrispySubmit("continue", "Continue", css_class="nhsuk-button--reverse"),
            )

    page = render("{% crispy form %}", form=QuestionForm())
    legend = next(e for e in walk(page) if e.name == "legend")
    assert classes(legend) == {"nhsuk-fieldset__legend", "nhsuk-fieldset__legend--l"}
    [heading] = [e for e in walk(legend) if e.name == "h1"]
    assert classes(heading) == {"nhsuk-fieldset__heading"}
    assert by_class(page, "nhsuk-radios--inline")
    postcode = by_id(page, "id_postcode")
    assert classes(postcode) == {"nhsuk-input", "nhsuk-input--width-10"}
    assert attrs(postcode)["autocomplete"] == "postal-code"
    [button] = [e for e in walk(page) if e.name == "button"]
    assert classes(button) == {"nhsuk-button", "nhsuk-button--reverse"}
    assert text(button) == "Continue"


def test_it_renders_single_fields_formsets_and_containers() -> None:
    from crispy_forms.layout import Column, Div, Row

    from linkwork.forms import ButtonGroup

    class NameForm(forms.Form):
        first = forms.CharField(label="First name")
        last = forms.CharField(label="Last name")

    form = NameForm(data={"first": "Ann", "last": ""})
    form.is_valid()
    page = render("{{ form.last|as_crispy_field }}", form=form)
    assert text(by_id(page, "id_last-error")) == "Error: This field is required."

    formset = forms.formset_factory(NameForm, extra=2)()
    page = render("{% crispy formset %}", formset=formset)
    by_id(page, "id_form-1-last")
    assert attrs(by_id(page, "id_form-TOTAL_FORMS"))["value"] == "2"

    form.helper = FormHelper()
    form.helper.layout = Layout(
        Row(Column("first"), Column("last")),
        Div(HTML("<p>More</p>"), css_class="lw-more"),
        ButtonGroup(Submit("save", "Save"), HTML('<a class="nhsuk-link" href="/">Cancel</a>')),
    )
    page = render("{% crispy form %}", form=form)
    [row] = by_class(page, "nhsuk-grid-row")
    assert len(by_class(row, "nhsuk-grid-column-one-half")) == 2
    assert by_class(page, "lw-more")
    [group] = by_class(page, "nhsuk-button-group")
    assert [e.name for e in group.children if not isinstance(e, str)] == ["button", "a"]


def test_widget_attributes_are_escaped_and_true_false_none_handled() -> None:
    """The pack writes a widget's other attributes in Python (linkwork.accounts.templatetags.nhsuk_forms): a
    value with quotes or markup stays inside its attribute, True is a bare attribute, False and None none."""
    from linkwork.accounts.templatetags.nhsuk_forms import nhsuk_attrs

    written = nhsuk_attrs(
        {
            "class": "ignored",
            "required": True,
            "aria-describedby": "x",
            "autocomplete": "name",
            "data-x": '"><script>alert(1)</script>',
            "disabled": True,
            "readonly": False,
            "placeholder": None,
            "maxlength": 20,
        },
        "maxlength",
    )
    assert written == ' autocomplete="name" data-x="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" disabled'


# The pack's option loop before nhsuk_options replaced it (crispy-forms' own optgroups filter), as the reference.
OPTIONS_LOOP = Template(
    "{% load crispy_forms_filters %}{% for group_name, options, index in field|optgroups %}{% if group_name %}"
    '<optgroup label="{{ group_name }}">{% endif %}{% for option in options %}<option value="{{ option.value|'
    "stringformat:'s' }}\"{% if option.selected %} selected{% endif %}>{{ option.label }}</option>{% endfor %}"
    "{% if group_name %}</optgroup>{% endif %}{% endfor %}"
)
OPTIONS_FILTER = Template("{% load nhsuk_forms %}{{ field|nhsuk_options }}")


class OptionsForm(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "A & B"), ("<b>", '"Quoted" <i>label</i>')])
    grouped = forms.ChoiceField(
        choices=[("", "Choose"), ("North", [("n1", "Leeds"), ("n2", "York")]), ("South", [("s1", "Bath")])]
    )
    many = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two"), ("3", "Three")])
    numbers = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two")], coerce=int)
    repeated = forms.ChoiceField(choices=[("x", "First x"), ("x", "Second x")])


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"plain": "<b>", "grouped": "n2", "many": ["1", "3"], "numbers": "2", "repeated": "x"},
        {"plain": "a", "grouped": "s1", "many": ["2"], "numbers": "1"},
    ],
)
def test_select_options_are_written_as_the_packs_loop_wrote_them(data: dict | None) -> None:
    """nhsuk_options writes the options in Python: the same HTML as the template loop, escaped, with every
    chosen value selected (only the first match in a single select), and optgroups for grouped choices."""
    form = OptionsForm(data)
    for name in form.fields:
        context = Context({"field": form[name]})
        assert OPTIONS_FILTER.render(context) == OPTIONS_LOOP.render(context), name
    html = OPTIONS_FILTER.render(Context({"field": form["plain"]}))
    assert "&lt;b&gt;" in html and "<i>" not in html and "A &amp; B" in html
    if data:
        many = OPTIONS_FILTER.render(Context({"field": form["many"]}))
        assert many.count(" selected") == len(data["many"])
        assert OPTIONS_FILTER.render(Context({"field": form["repeated"]})).count(" selected") == ("repeated" in data)


# The pack's per-choice include before nhsuk_choice_items replaced it, as the reference.
CHOICE_ITEMS_LOOP = Template(
    "{% load nhsuk_forms %}{% for option, item_hint, conditional in choices %}"
    '<div class="nhsuk-{{ kind }}__item">\n'
    '        <input class="nhsuk-{{ kind }}__input" type="{{ option.data.type }}" name="{{ option.data.name }}" '
    "value=\"{{ option.data.value|stringformat:'s' }}\"{{ option.data.attrs|nhsuk_attrs }}{% if item_hint %} "
    'aria-describedby="{{ option.id_for_label }}-item-hint"{% endif %}{% if conditional %} '
    'data-aria-controls="{{ option.id_for_label }}-conditional"{% endif %}>\n'
    '        <label class="nhsuk-label nhsuk-{{ kind }}__label" for="{{ option.id_for_label }}">'
    "{{ option.choice_label }}</label>{% if item_hint %}\n"
    '        <div class="nhsuk-hint nhsuk-{{ kind }}__hint" id="{{ option.id_for_label }}-item-hint">{{ item_hint }}'
    "</div>{% endif %}\n      </div>{% if conditional %}\n"
    '      <div class="nhsuk-{{ kind }}__conditional{% if not option.data.selected %} '
    'nhsuk-{{ kind }}__conditional--hidden{% endif %}" id="{{ option.id_for_label }}-conditional">\n'
    "        {{ conditional }}\n      </div>{% endif %}\n{% endfor %}"
)
CHOICE_ITEMS_TAG = Template("{% load nhsuk_forms %}{% nhsuk_choice_items choices %}")


class ChoicesForm(forms.Form):
    contact = forms.ChoiceField(
        choices=[("phone", "Phone"), ("<email>", "Email & text")], widget=forms.RadioSelect(attrs={"data-x": "1"})
    )
    needs = forms.MultipleChoiceField(
        choices=[("a", "Access"), ("b", '"Big" print'), ("c", "Carer")], widget=forms.CheckboxSelectMultiple
    )


@pytest.mark.parametrize("data", [None, {"contact": "<email>", "needs": ["b", "c"]}])
def test_radios_and_checkboxes_are_written_as_the_packs_include_wrote_them(data: dict | None) -> None:
    """nhsuk_choice_items writes each choice in Python: the same HTML as the per-choice include, with item hints,
    conditional content shown for a chosen item and hidden otherwise, and every value escaped."""
    from django.utils.safestring import mark_safe

    form = ChoicesForm(data)
    for name, kind in (("contact", "radios"), ("needs", "checkboxes")):
        options = list(form[name])
        choices = [
            (options[0], "", ""),
            (options[1], "Hint <b>escaped</b>", mark_safe('<input name="detail">')),
            *((option, "", "") for option in options[2:]),
        ]
        context = Context({"choices": choices, "kind": kind})
        html = CHOICE_ITEMS_TAG.render(context)
        assert html == CHOICE_ITEMS_LOOP.render(context), name
        assert "Hint &lt;b&gt;escaped&lt;/b&gt;" in html and '<input name="detail">' in html
        hidden = f"nhsuk-{kind}__conditional--hidden"
        assert (hidden in html) == (data is None)
    bound = Template('{% load nhsuk_forms %}{% nhsuk_choice_items field kind="radios" %}')
    assert bound.render(Context({"field": form["contact"]})) == CHOICE_ITEMS_LOOP.render(
        Context({"choices": [(option, "", "") for option in form["contact"]], "kind": "radios"})
    )
