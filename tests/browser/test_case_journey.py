"""A case in a real browser: a link worker accepts a referral, logs a first contact, records what matters,
writes a two-goal plan and prints it; a home visit on a phone; two colleagues saving the same plan; and what
the contact form does with bad input. axe-core checks every page visited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from clients import services as client_services
from clients.models import Case, Client, Contact, ContactMethod, Plan
from linkwork.accounts.models import Organisation, User
from outcomes.demo import DEMO_PASSWORD, DEMO_SERVICE_NAME
from referrals import services as referral_services
from referrals.models import Referral
from tests.browser.conftest import (
    PHONE,
    assert_accessible,
    assert_fits_a_phone,
    screenshot,
    sign_in,
    watched_page,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LINK_WORKER = "linkworker@demo.linkwork.test"
LINK_WORKER_NAME = "Amira Khan"
COLLEAGUE = "linkworker2@demo.linkwork.test"
COLLEAGUE_NAME = "Tom Evans"


# --- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture
def demo(db) -> None:
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def amira(demo: None) -> User:
    return User.objects.get(email=LINK_WORKER)


@pytest.fixture
def referral(demo: None) -> Referral:
    """A referral of the demo service waiting for triage, for someone not already known to the service (the
    demo's first waiting referral is a deliberate duplicate of an open case)."""
    service = Organisation.objects.get(name=DEMO_SERVICE_NAME)
    known = Client.objects.filter(service=service).exclude(nhs_number="").values("nhs_number")
    referral = Referral.objects.filter(service=service, status="new").exclude(nhs_number__in=known).first()
    assert referral is not None, "the demo has no new referral for someone new to the service"
    return referral


@pytest.fixture
def case(referral: Referral, amira: User) -> Case:
    """The referral accepted for Amira through the service layer: a new, empty case."""
    return referral_services.referral_accept(referral=referral, by=amira, assignee=amira)


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[Page]:
    """A link worker's phone, from the first page on."""
    yield from watched_page(browser, live_server.url, PHONE)


@pytest.fixture
def colleague_page(browser: Browser, live_server) -> Iterator[Page]:
    """A colleague at another computer: a separate browser context, so separate cookies."""
    yield from watched_page(browser, live_server.url)


# --- helpers --------------------------------------------------------------------------------------------------
def field(scope: Page | Locator, label: str) -> Locator:
    """The input labelled `label`, whether or not the label ends "(optional)"."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def date_group(scope: Page | Locator, legend: str) -> Locator:
    return scope.get_by_role("group", name=re.compile(rf"^{re.escape(legend)}( \(optional\))?$"))


def fill_date(scope: Page | Locator, legend: str, value: dt.date) -> None:
    group = date_group(scope, legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def goal(page: Page, number: int) -> Locator:
    """The fieldset of goal `number` on the plan page ("Goal 2" or, not saved yet, "Goal 2 (new)")."""
    return page.get_by_role("group", name=re.compile(rf"^Goal {number}( \(new\))?$"))


def success_banner(page: Page) -> Locator:
    return page.locator(".nhsuk-notification-banner--success")


def error_summary(page: Page) -> Locator:
    return page.locator(".nhsuk-error-summary")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def assert_no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size['width']}px wide"


def earlier_today() -> str:
    """A time already past today, to type as the contact's time: 09:30 once the morning is under way."""
    now = timezone.localtime()
    if now.time() >= dt.time(9, 35):
        return "09:30"
    earlier = now - dt.timedelta(minutes=30)
    return earlier.strftime("%H:00") if earlier.date() == now.date() else "00:00"


def later_today() -> str:
    """A time later today (or the last minute of it), for a visit being planned."""
    now = timezone.localtime()
    later = now + dt.timedelta(hours=1)
    return later.strftime("%H:%M") if later.date() == now.date() else "23:59"


def open_case_from_caseload(page: Page, person: str) -> None:
    """From "My caseload", the person's name opens their case."""
    expect(heading(page)).to_have_text("My caseload")
    page.get_by_role("link", name=person, exact=True).click()
    expect(heading(page)).to_have_text(person)


# --- 1. the journey -----------------------------------------------------------------------------------
def test_a_link_worker_opens_a_case_logs_a_contact_writes_a_plan_and_prints_it(page: Page, referral: Referral) -> None:
    person = referral.person_name
    today = timezone.localdate()
    contact_time = earlier_today()

    # Amira takes the referral from the triage queue and assigns it to herself.
    sign_in(page, LINK_WORKER, DEMO_PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Triage queue").click()
    expect(heading(page)).to_have_text("Triage queue")
    page.get_by_role("link", name=referral.reference).click()
    expect(heading(page)).to_have_text(person)
    page.get_by_label(re.compile("^Assign to a community connector")).select_option(label=LINK_WORKER_NAME)
    page.get_by_role("button", name="Accept referral").click()
    expect(success_banner(page)).to_contain_text(
        f"Referral {referral.reference} accepted and assigned to {LINK_WORKER_NAME}"
    )
    assert_accessible(page)

    # The new case is on her caseload; the person's name opens it.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("row").filter(has_text=person)).to_contain_text("contact 0 of 6–12")
    assert_accessible(page)
    assert_fits_a_phone(page)
    open_case_from_caseload(page, person)
    expect(page.get_by_text("Contact 0 of 6–12")).to_be_visible()
    expect(page.get_by_text("No contacts yet.")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)

    # A first contact, by phone, this morning.
    page.get_by_role("button", name="Log a contact").click()
    expect(heading(page)).to_have_text("Log a contact")
    expect(page.get_by_text("Contacts so far: 0 of 6 to 12.")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    fill_date(page, "Date of contact", today)
    field(page, "Time").fill(contact_time)
    page.get_by_role("radio", name="Phone", exact=True).check()
    field(page, "Duration in minutes").fill("30")
    field(page, "Notes").fill("First call. Talked about the walking group at the library on Thursdays.")
    field(page, "Next step").fill("Send the walking group's details")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "contact-form")
    page.get_by_role("button", name="Save contact").click()

    expect(success_banner(page)).to_contain_text("Contact 1 of 6 to 12 logged")
    expect(heading(page)).to_have_text(person)
    expect(page.get_by_text("Contact 1 of 6–12")).to_be_visible()
    contacts = page.locator(".lw-contacts")
    expect(contacts.get_by_role("heading", level=3)).to_have_text(f"{today.day} {today:%b %Y} at {contact_time}: Phone")
    expect(contacts).to_contain_text(f"30 minutes · recorded by {LINK_WORKER_NAME}")
    expect(contacts).to_contain_text("Talked about the walking group at the library on Thursdays.")
    assert_accessible(page)

    # What matters to them, in their own words.
    page.get_by_role("link", name="Record what matters to them").click()
    expect(heading(page)).to_have_text("What matters to them")
    assert_accessible(page)
    assert_fits_a_phone(page)
    what_matters = {
        "What matters to me": "Seeing my grandchildren and getting out of the flat.",
        "My strengths": "I used to run the church tea rota; my neighbour Pat checks in on me.",
        "What worries me": "Money, and my knee on the stairs.",
        "What I want to change": "To get out of the house twice a week.",
    }
    for label, text in what_matters.items():
        field(page, label).fill(text)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(success_banner(page)).to_contain_text("What matters to them is saved")
    matters = page.locator(".nhsuk-summary-list")
    for text in what_matters.values():
        expect(matters).to_contain_text(text)
    expect(page.get_by_role("link", name="Change what matters to them")).to_be_visible()
    assert_accessible(page)

    # The plan: one goal first, then a second in the empty goal that is ready after saving.
    page.get_by_role("link", name="Write the plan").click()
    expect(heading(page)).to_have_text("Personalised care and support plan")
    expect(page.get_by_text("To add more goals, save and an empty goal will be ready for you.")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    first = goal(page, 1)
    field(first, "Goal, in the person's words").fill("Go to the walking group on Thursdays")
    field(first, "Action 1: what will happen").fill("Send the walking group's details")
    field(first, "Who will do it").first.fill(LINK_WORKER_NAME)
    page.get_by_role("button", name="Save plan").click()
    expect(success_banner(page)).to_contain_text("Plan saved")
    expect(page.get_by_text("Version 1, saved")).to_be_visible()

    page.get_by_role("link", name="Update the plan").click()
    expect(field(goal(page, 1), "Goal, in the person's words")).to_have_value("Go to the walking group on Thursdays")
    second = goal(page, 2)
    expect(second.get_by_role("heading", name="Goal 2 (new)")).to_be_visible()
    expect(field(second, "Goal, in the person's words")).to_have_value("")
    assert_accessible(page)
    field(second, "Goal, in the person's words").fill("Sort out my money worries")
    field(second, "Action 1: what will happen").fill("Book an appointment with Citizens Advice")
    field(second, "Who will do it").first.fill("Me, with my daughter")
    page.get_by_role("button", name="Save plan").click()

    expect(success_banner(page)).to_contain_text("Plan saved")
    expect(page.get_by_text("Version 2, saved")).to_be_visible()
    goals = page.locator("ol.nhsuk-list--number > li")
    expect(goals).to_have_count(2)
    expect(goals.nth(0)).to_contain_text("Go to the walking group on Thursdays")
    expect(goals.nth(0)).to_contain_text(f"Send the walking group's details ({LINK_WORKER_NAME})")
    expect(goals.nth(1)).to_contain_text("Sort out my money worries")
    expect(goals.nth(1)).to_contain_text("Book an appointment with Citizens Advice (Me, with my daughter)")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_role("heading", name="Personalised plan").scroll_into_view_if_needed()
    screenshot(page, "case")

    # The PDF comes down as a file.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the plan as a PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"plan-{referral.family_name.lower()}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # The printed plan, for them to keep.
    page.get_by_role("link", name="Print the plan for them").click()
    expect(heading(page)).to_have_text(f"{referral.given_name}'s plan")
    expect(page.get_by_role("heading", name="1. Go to the walking group on Thursdays")).to_be_visible()
    expect(page.get_by_role("heading", name="2. Sort out my money worries")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Book an appointment with Citizens Advice")).to_contain_text(
        "Me, with my daughter"
    )
    expect(page.get_by_role("heading", name="How to contact your link worker")).to_be_visible()
    expect(page.get_by_text(f"{LINK_WORKER_NAME}, community connector, {DEMO_SERVICE_NAME}.")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, "plan-print")
    # Like every other page, the print page names its icon; otherwise Chromium asks for /favicon.ico, a 404.
    expect(page.locator("head link[rel=icon]"), "the print page links the NHS favicon").not_to_have_count(0)


# --- 2. a home visit, on a phone ------------------------------------------------------------------------------
def test_a_home_visit_on_a_phone_checks_in_and_out_and_becomes_a_contact(phone: Page, case: Case) -> None:
    person = case.client.full_name
    today = timezone.localdate()
    planned = later_today()

    sign_in(phone, LINK_WORKER, DEMO_PASSWORD)
    open_case_from_caseload(phone, person)
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)

    phone.get_by_role("button", name="Schedule a home visit").click()
    expect(heading(phone)).to_have_text("Schedule a home visit")
    expect(field(phone, "Expected length in minutes")).to_have_value("60")
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)
    fill_date(phone, "Date of visit", today)
    field(phone, "Time").fill(planned)
    field(phone, "Expected length in minutes").fill("60")
    phone.get_by_role("button", name="Schedule visit").click()

    expect(success_banner(phone)).to_contain_text("Home visit scheduled")
    expect(heading(phone)).to_have_text(f"Home visit: {case.client.known_as}")
    expect(phone.get_by_text(f"Planned for {today.day} {today:%b %Y} at {planned}, about 60 minutes.")).to_be_visible()
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)

    phone.get_by_role("button", name="Check in: I have arrived").click()
    expect(success_banner(phone)).to_contain_text("Checked in. Remember to check out when you leave")
    expect(phone.get_by_text(re.compile(r"^Checked in at \d\d:\d\d\. Check out by \d\d:\d\d"))).to_be_visible()
    expect(phone.get_by_role("button", name="Check in: I have arrived")).to_have_count(0)
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)

    field(phone, "Visit notes").fill("Met at home. Went through the walking group leaflet together.")
    phone.get_by_role("button", name="Check out: I have left safely").click()

    expect(success_banner(phone)).to_contain_text("Checked out safely. The visit is recorded as a contact")
    expect(heading(phone)).to_have_text(person)
    contacts = phone.locator(".lw-contacts")
    expect(contacts.get_by_role("heading", level=3)).to_have_text(re.compile(r": Home visit$"))
    expect(contacts).to_contain_text("Went through the walking group leaflet together.")
    expect(phone.get_by_text("Contact 1 of 6–12")).to_be_visible()
    expect(phone.get_by_role("list").filter(has_text=f"at {planned}: done")).to_be_visible()
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)
    assert Contact.objects.filter(case=case, method=ContactMethod.HOME_VISIT).count() == 1


# --- 3. two people editing the plan at once ---------------------------------------------------------------------
def test_the_second_of_two_people_saving_the_plan_is_told_and_keeps_their_text(
    page: Page, colleague_page: Page, case: Case, amira: User
) -> None:
    client_services.plan_save(
        case=case,
        by=amira,
        goals=[{"goal": "Go to the walking group", "status": "not_started", "actions": []}],
        review_on=None,
        expected_version=0,
    )
    person = case.client.full_name

    # Amira opens the plan from her caseload; Tom, covering, opens the same case.
    sign_in(page, LINK_WORKER, DEMO_PASSWORD)
    open_case_from_caseload(page, person)
    page.get_by_role("link", name="Update the plan").click()
    sign_in(colleague_page, COLLEAGUE, DEMO_PASSWORD)
    colleague_page.goto(f"/caseload/cases/{case.pk}/")
    expect(heading(colleague_page)).to_have_text(person)
    colleague_page.get_by_role("link", name="Update the plan").click()

    amiras_goal = field(goal(page, 1), "Goal, in the person's words")
    toms_goal = field(goal(colleague_page, 1), "Goal, in the person's words")
    expect(amiras_goal).to_have_value("Go to the walking group")
    expect(toms_goal).to_have_value("Go to the walking group")
    amiras_goal.fill("Go to the walking group every Thursday")
    toms_goal.fill("Go to the walking group with her neighbour Pat")

    page.get_by_role("button", name="Save plan").click()
    expect(success_banner(page)).to_contain_text("Plan saved")
    expect(page.locator("ol.nhsuk-list--number")).to_contain_text("Go to the walking group every Thursday")

    colleague_page.get_by_role("button", name="Save plan").click()
    expect(colleague_page).to_have_title(re.compile("^Error: "))
    summary = error_summary(colleague_page)
    expect(summary.first).to_contain_text("There is a problem")
    expect(summary.first).to_contain_text("Someone else changed this plan while you were editing it")
    expect(toms_goal).to_have_value("Go to the walking group with her neighbour Pat")
    assert_accessible(colleague_page)
    plan = Plan.objects.get(case=case)
    assert plan.version == 2
    assert plan.versions.first().goals[0]["goal"] == "Go to the walking group every Thursday"

    # One summary: the page's own, above the goals, not a second one from the review-date form below them.
    expect(summary, "the stale-save message is shown in one error summary, not two").to_have_count(1)


# --- 4. bad input on the contact form ----------------------------------------------------------------------------
def test_the_contact_form_explains_every_mistake_and_keeps_what_was_typed(page: Page, case: Case) -> None:
    future = timezone.localdate() + dt.timedelta(days=30)
    sign_in(page, LINK_WORKER, DEMO_PASSWORD)
    open_case_from_caseload(page, case.client.full_name)
    page.get_by_role("button", name="Log a contact").click()

    fill_date(page, "Date of contact", future)
    field(page, "Time").fill("25:99")
    field(page, "Notes").fill("Rang twice, left a message.")
    duration = field(page, "Duration in minutes")
    duration.click()
    duration.press_sequentially("abc")  # as typed: fill() refuses letters in a type="number" box
    page.get_by_role("button", name="Save contact").click()

    expect(page).to_have_title(re.compile("^Error: "))
    summary = error_summary(page)
    expect(summary).to_contain_text("There is a problem")
    for problem in [
        "Date of contact must be today or in the past",
        "Enter a time like 09:30 or 14:30",
        "Select how the contact happened",
    ]:
        expect(summary.get_by_role("link", name=problem, exact=True)).to_have_count(1)

    summary.get_by_role("link", name="Enter a time like 09:30 or 14:30").click()
    expect(field(page, "Time")).to_be_focused()

    group = date_group(page, "Date of contact")
    expect(group.get_by_label("Day")).to_have_value(str(future.day))
    expect(group.get_by_label("Month")).to_have_value(str(future.month))
    expect(group.get_by_label("Year")).to_have_value(str(future.year))
    expect(field(page, "Time")).to_have_value("25:99")
    expect(field(page, "Notes")).to_have_value("Rang twice, left a message.")
    for method in ContactMethod.labels:
        expect(page.get_by_role("radio", name=method, exact=True)).not_to_be_checked()
    assert_accessible(page)
    assert Contact.objects.filter(case=case).count() == 0

    # The duration: "abc" should be kept and explained. A type="number" box drops the letters as they are
    # typed, so the person is told to "Enter how long the contact took" instead (see the report).
    expect(duration, "the letters typed in the duration are kept").to_have_value("abc")
    expect(summary.get_by_role("link", name="Duration must be a number of minutes, like 45", exact=True)).to_have_count(
        1
    )
    expect(summary, "a duration that is not a number is not also called missing").not_to_contain_text(
        "Enter how long the contact took"
    )
