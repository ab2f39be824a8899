"""Referrals in a real browser: a practice refers, a link worker triages, the practice sees the outcome; the
public self-referral and agency-link forms; and what the form does with bad input and a double click."""

from __future__ import annotations

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Locator, Page, Request, expect

from linkwork.accounts.models import Organisation, User
from linkwork.nhs import format_nhs_number, synthetic_nhs_number
from outcomes.demo import DEMO_PASSWORD, DEMO_SERVICE_NAME
from referrals import services
from referrals.models import Referral
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RECEPTIONIST = "referrer@demo.linkwork.test"
LINK_WORKER = "linkworker@demo.linkwork.test"
LINK_WORKER_NAME = "Amira Khan"
MANAGER = "manager@demo.linkwork.test"
REFERENCE = re.compile(r"SP-\d{4}-\d{6}")
PERSON, STATUS, LINK_WORKER_COLUMN = 1, 3, 4  # columns of the "My referrals" table
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def demo(db) -> None:
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def demo_service(demo: None) -> Organisation:
    return Organisation.objects.get(name=DEMO_SERVICE_NAME)


# --- filling in the form -------------------------------------------------------------------------------------
def field(page: Page, label: str) -> Locator:
    """The input labelled `label`, whether or not the label ends "(optional)"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def fill_date(page: Page, legend: str, value: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def fill_person(
    page: Page,
    *,
    given_name: str = "Siobhán",
    family_name: str = "O'Brien",
    date_of_birth: date = date(1958, 3, 14),
    nhs_number: str = "",
    postcode: str = "LS1 4AP",
    phone: str = "07700 900982",
    reason: str = "Loneliness or isolation",
    hopes: str = "To get out of the house and meet people again",
    consent: bool = True,
    self_referral: bool = False,
) -> None:
    """The questions every referral form asks, answered as a person would, finding each by the label they read.
    The self-referral form asks the same questions in the second person ("Your first name")."""

    def label(staff: str, yours: str) -> str:
        return yours if self_referral else staff

    field(page, label("First name", "Your first name")).fill(given_name)
    field(page, label("Last name", "Your last name")).fill(family_name)
    fill_date(page, label("Date of birth", "Your date of birth"), date_of_birth)
    if nhs_number:
        field(page, label("NHS number", "Your NHS number")).fill(nhs_number)
    field(page, label("Postcode", "Your postcode")).fill(postcode)
    field(page, label("Phone number", "Your phone number")).fill(phone)
    page.get_by_role("radio", name="Phone call").check()
    page.get_by_role("checkbox", name=reason).check()
    field(page, label("What the person hopes for", "What would you like to change?")).fill(hopes)
    if consent:
        consent_box = label(
            "The person has agreed to be referred to social prescribing", "I would like a link worker to contact me"
        )
        page.get_by_role("checkbox", name=consent_box).check()


def fill_referrer(page: Page) -> None:
    field(page, "Your name").fill("Kate Mensah")
    field(page, "Your job title").fill("Volunteer coordinator")
    expect(field(page, "Your organisation")).to_have_value("Riverside Foodbank")
    field(page, "Your phone number").fill("01632 960001")
    field(page, "Your email address").fill("kate@foodbank.example")


def send(page: Page, button: str = "Send referral") -> None:
    """Send a filled-in referral form, first checking it carries the key that makes sending it twice harmless
    (without one, the server refuses every referral with a bare "This field is required.")."""
    key = page.locator("input[name=idempotency_key]")
    expect(key, "the referral form carries its idempotency key").to_have_value(UUID)
    page.get_by_role("button", name=button).click()


def success_banner(page: Page) -> Locator:
    return page.locator(".nhsuk-notification-banner--success")


# --- 1. the acceptance test ---------------------------------------------------------------------------------
def test_a_practice_refers_a_link_worker_accepts_and_the_practice_sees_it(
    page: Page, second_page: Page, demo: None
) -> None:
    nhs_number = synthetic_nhs_number()

    # The receptionist refers Siobhán.
    sign_in(page, RECEPTIONIST, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("My referrals")
    assert_accessible(page)
    page.get_by_role("button", name="Refer someone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer someone to social prescribing")
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, "referral-form")

    fill_person(page, nhs_number=format_nhs_number(nhs_number))
    send(page)

    expect(success_banner(page)).to_contain_text(REFERENCE)
    expect(success_banner(page)).to_contain_text("Referral sent. The reference is")
    reference = REFERENCE.search(success_banner(page).inner_text()).group(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Siobhán O'Brien")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "referral-sent")

    page.get_by_role("link", name="Back to my referrals").click()
    cells = page.get_by_role("row").filter(has_text=reference).get_by_role("cell")
    expect(cells.nth(STATUS)).to_contain_text("Waiting for triage")
    expect(cells.nth(LINK_WORKER_COLUMN)).to_contain_text("Not yet assigned")

    # Amira, at the service, triages it.
    sign_in(second_page, LINK_WORKER, DEMO_PASSWORD)
    second_page.get_by_role("navigation", name="Menu").get_by_role("link", name="Triage queue").click()
    expect(second_page.get_by_role("heading", level=1)).to_have_text("Triage queue")
    in_queue = second_page.get_by_role("row").filter(has_text=reference)
    expect(in_queue).to_contain_text("Siobhán O'Brien")
    expect(in_queue).to_contain_text("Riverside Medical Centre")
    assert_accessible(second_page)
    assert_fits_a_phone(second_page)
    screenshot(second_page, "triage-queue")

    second_page.get_by_role("link", name=reference).click()
    expect(second_page.get_by_role("heading", level=1)).to_have_text("Siobhán O'Brien")
    expect(second_page.get_by_text(format_nhs_number(nhs_number))).to_be_visible()
    assert_accessible(second_page)
    assert_fits_a_phone(second_page)

    second_page.get_by_label(re.compile("^Assign to a community connector")).select_option(label=LINK_WORKER_NAME)
    second_page.get_by_role("heading", name="Accept and assign").scroll_into_view_if_needed()
    screenshot(second_page, "referral-triage")
    second_page.get_by_role("button", name="Accept referral").click()
    expect(success_banner(second_page)).to_contain_text(
        f"Referral {reference} accepted and assigned to {LINK_WORKER_NAME}"
    )
    expect(second_page.get_by_role("link", name=reference)).to_have_count(0)
    assert_accessible(second_page)

    # Back at the practice, a reload of "My referrals" shows it accepted, with Amira's name.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("My referrals")
    expect(cells.nth(PERSON)).to_contain_text("Siobhán O'Brien")
    expect(cells.nth(STATUS)).to_contain_text("Accepted")
    expect(cells.nth(LINK_WORKER_COLUMN)).to_contain_text(LINK_WORKER_NAME)
    assert_accessible(page)
    assert_fits_a_phone(page)


# --- 2. bad input -------------------------------------------------------------------------------------------
def test_the_referral_form_explains_every_mistake_and_keeps_what_was_typed(page: Page, demo: None) -> None:
    before = Referral.objects.count()
    future = date(timezone.localdate().year + 1, 6, 1)
    sign_in(page, RECEPTIONIST, DEMO_PASSWORD)
    page.goto("/referrals/new/")
    fill_person(
        page,
        given_name="<script>alert(1)</script>",
        nhs_number="943 476 5918",
        date_of_birth=future,
        postcode="LS1 4AP",
        hopes="A walking group, and someone to talk to",
        consent=False,
    )
    page.get_by_role("button", name="Send referral").click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    problems = [
        "First name must only include letters, spaces, hyphens and apostrophes",
        "Date of birth must be in the past",
        "This is not a valid NHS number: check each digit against the letter or record",
        "You can only refer someone who has agreed to it. Ask them first: most people are glad to be asked.",
    ]
    # Each problem once, each a link to its question, and nothing else (nothing the user cannot put right).
    expect(summary.get_by_role("listitem")).to_have_text(problems, use_inner_text=True)
    for problem in problems:
        expect(summary.get_by_role("link", name=problem, exact=True)).to_have_count(1)
    expect(page).to_have_title(re.compile("^Error: "))

    summary.get_by_role("link", name=problems[2], exact=True).click()
    expect(field(page, "NHS number")).to_be_focused()

    # Nothing typed is lost, and the payload is shown back as text, never run.
    expect(field(page, "First name")).to_have_value("<script>alert(1)</script>")
    expect(field(page, "Last name")).to_have_value("O'Brien")
    expect(field(page, "NHS number")).to_have_value("943 476 5918")
    group = page.get_by_role("group", name="Date of birth")
    expect(group.get_by_label("Day")).to_have_value(str(future.day))
    expect(group.get_by_label("Month")).to_have_value(str(future.month))
    expect(group.get_by_label("Year")).to_have_value(str(future.year))
    expect(field(page, "Postcode")).to_have_value("LS1 4AP")
    expect(field(page, "Phone number")).to_have_value("07700 900982")
    expect(page.get_by_role("radio", name="Phone call")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Loneliness or isolation")).to_be_checked()
    expect(field(page, "What the person hopes for")).to_have_value("A walking group, and someone to talk to")
    expect(page.get_by_role("checkbox", name=re.compile("agreed to be referred"))).not_to_be_checked()
    assert_accessible(page)
    assert Referral.objects.count() == before


# --- 3. double submission -----------------------------------------------------------------------------------
def test_sending_the_same_form_twice_makes_one_referral(page: Page, demo: None) -> None:
    nhs_number = synthetic_nhs_number()
    sign_in(page, RECEPTIONIST, DEMO_PASSWORD)
    page.goto("/referrals/new/")
    fill_person(page, given_name="Róisín", family_name="Nic Giolla", nhs_number=nhs_number)
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)

    # An impatient double click: the button sends the form once.
    expect(page.locator("input[name=idempotency_key]")).to_have_value(UUID)
    page.get_by_role("button", name="Send referral").dblclick()
    expect(success_banner(page)).to_contain_text("Referral sent. The reference is")
    reference = REFERENCE.search(success_banner(page).inner_text()).group(0)
    assert len(posts) == 1, f"the double click posted the form {len(posts)} times"

    # The very same form arriving again (a retry after a dropped connection, a second tab): the service
    # recognises it and answers with the first referral's reference.
    again = page.request.post(
        posts[0].url, data=posts[0].post_data_buffer, headers={"Content-Type": posts[0].headers["content-type"]}
    )
    assert again.ok, again.status
    assert f"This referral was already sent. The reference is {reference}" in again.text()
    assert Referral.objects.filter(nhs_number=nhs_number).count() == 1

    page.get_by_role("link", name="Back to my referrals").click()
    expect(page.get_by_role("row").filter(has_text="Róisín Nic Giolla")).to_have_count(1)


# --- 4. self-referral ---------------------------------------------------------------------------------------
def test_a_person_refers_themselves_without_signing_in(page: Page, demo_service: Organisation) -> None:
    page.goto(f"/refer/self/{demo_service.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ask for support from {DEMO_SERVICE_NAME}")
    expect(page.get_by_text("Social prescribing is free")).to_be_visible()
    expect(page.get_by_role("navigation", name="Menu")).to_have_count(0)
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, "self-referral")

    before = Referral.objects.count()
    fill_person(page, given_name="Niamh", family_name="Ó Súilleabháin", self_referral=True)
    send(page, "Send my referral")

    panel = page.locator(".nhsuk-panel--confirmation")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Referral sent")
    expect(panel).to_contain_text(REFERENCE)
    reference = REFERENCE.search(panel.inner_text()).group(0)
    assert Referral.objects.count() == before + 1
    assert Referral.objects.get(reference=reference).person_name == "Niamh Ó Súilleabháin"
    # Whoever opens this browser next learns nothing about the person.
    for personal in ["Niamh", "Súilleabháin", "14 March 1958", "LS1 4AP", "07700", "meet people"]:
        expect(page.locator("body")).not_to_contain_text(personal)
    assert_accessible(page)


# --- 5. agency links ----------------------------------------------------------------------------------------
def test_an_agency_refers_through_its_link_until_it_is_revoked(page: Page, demo_service: Organisation) -> None:
    manager = User.objects.get(email=MANAGER)
    link, token = services.agency_link_create(service=demo_service, agency_name="Riverside Foodbank", by=manager)

    page.goto(f"/refer/agency/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Refer someone to {DEMO_SERVICE_NAME}")
    expect(page.get_by_text("Referral from Riverside Foodbank")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)

    fill_referrer(page)
    fill_person(page, given_name="Mary-Jane", family_name="D'Souza")
    send(page)

    panel = page.locator(".nhsuk-panel--confirmation")
    expect(panel.get_by_role("heading", level=1)).to_have_text("Referral sent")
    expect(panel).to_contain_text(REFERENCE)
    for personal in ["Mary-Jane", "D'Souza", "LS1 4AP", "07700"]:
        expect(page.locator("body")).not_to_contain_text(personal)
    assert_accessible(page)
    referral = Referral.objects.get(reference=REFERENCE.search(panel.inner_text()).group(0))
    assert (referral.referrer_name, referral.referrer_email) == ("Kate Mensah", "kate@foodbank.example")
    link.refresh_from_db()
    assert link.use_count == 1

    services.agency_link_revoke(link=link, by=manager)
    page.goto(f"/refer/agency/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This referral link is not active")
    expect(page.get_by_role("button", name="Send referral")).to_have_count(0)
    assert_accessible(page)
