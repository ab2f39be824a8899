"""Supervision in a real browser: the supervising GP signs in between surgeries, sees one overdue first contact
for a link worker on the caseload dashboard, drills down to the case, and records a supervision session
discussing it; the link worker then finds the session and the action in "My supervision". axe-core checks
every page visited; the dashboard must also fit a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clients.models import AlertKind, ClientAlert
from linkwork.accounts.models import Role
from outcomes.models import SupervisionSession
from tests import factories
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PERSON = "Ivy Marsh"


@pytest.fixture
def caseload(world: World) -> None:
    """Amira has one case waiting 10 days for a first contact and one seen this week; Tom's case is fine; a
    referral waits for triage; a practice refers; a home visit is planned."""
    today = timezone.localdate()
    overdue = factories.ActiveCaseFactory(
        client__service=world.service,
        client__practice=world.practice,
        client__given_name="Ivy",
        client__family_name="Marsh",
        link_worker=world.link_worker,
        start_date=today - dt.timedelta(days=10),
    )
    factories.ContactFactory(case=overdue, attempted_only=True, recorded_by=world.link_worker)  # not a contact
    seen = factories.ActiveCaseFactory(
        client__service=world.service,
        client__given_name="Sam",
        client__family_name="Seen",
        link_worker=world.link_worker,
        start_date=today - dt.timedelta(days=20),
    )
    factories.ContactFactory(case=seen, recorded_by=world.link_worker)
    toms = factories.ActiveCaseFactory(
        client__service=world.service, link_worker=world.colleague, start_date=today - dt.timedelta(days=3)
    )
    factories.ContactFactory(case=toms, recorded_by=world.colleague)
    ClientAlert.objects.create(client=seen.client, kind=AlertKind.LONE_WORKER, raised_by=world.link_worker)
    factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    assert world.supervisor.memberships.get().role == Role.SUPERVISOR


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_a_supervisor_drills_down_to_an_overdue_case_and_records_supervision(
    page: Page, second_page: Page, world: World, caseload: None
) -> None:
    today = timezone.localdate()
    due = today + dt.timedelta(days=7)

    # Between surgeries: the dashboard answers "is anyone not being seen?"
    sign_in(page, world.supervisor.email, factories.PASSWORD)
    expect(heading(page)).to_have_text("Caseload dashboard")
    overdue = page.get_by_role("link", name="1 first contact overdue, Amira Khan", exact=True)
    expect(overdue).to_be_visible()
    expect(page.get_by_role("link", name="first contact overdue, Tom Evans")).to_have_count(0)  # none for Tom
    expect(page.get_by_role("img", name=re.compile("^Contacts each week"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "supervisor-dashboard")
    assert_fits_a_phone(page)

    # The number opens the list behind it; the person's name opens the case, read-only for the supervisor.
    overdue.click()
    expect(heading(page)).to_have_text("First contact overdue")
    expect(page.get_by_text("1 case", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=PERSON, exact=True).click()
    expect(heading(page)).to_have_text(PERSON)
    expect(page.get_by_text("Contact 0 of 6–12")).to_be_visible()
    expect(page.get_by_role("button", name="Log a contact")).to_have_count(0)
    assert_accessible(page)

    # Back to the list, and a supervision session with Amira about it.
    page.go_back()
    expect(heading(page)).to_have_text("First contact overdue")
    page.get_by_role("button", name="Record a supervision session with Amira Khan").click()
    expect(heading(page)).to_have_text("Record a supervision session")
    assert_accessible(page)
    page.get_by_role("checkbox", name=PERSON).check()
    page.get_by_label("Concerns").fill("Ivy has not been reached in 10 days; one unanswered call.")
    page.get_by_role("radio", name="Managing, with some pressure").check()
    action = page.get_by_role("group", name="Action 1")
    action.get_by_label("What will be done").fill("Try Ivy by letter and ask the practice for another number")
    action.get_by_role("radio", name="Amira Khan").check()
    when = action.get_by_role("group", name=re.compile(r"^By when"))
    when.get_by_label("Day").fill(str(due.day))
    when.get_by_label("Month").fill(str(due.month))
    when.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Save supervision record").click()

    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Supervision with Amira Khan recorded")
    expect(heading(page)).to_have_text(f"Supervision on {today.day} {today:%B %Y}")
    expect(page.locator(".nhsuk-summary-list")).to_contain_text(PERSON)
    expect(page.get_by_role("row").filter(has_text="Try Ivy by letter")).to_contain_text("Amira Khan")
    assert_accessible(page)
    record = SupervisionSession.objects.get()
    assert [c.client.full_name for c in record.cases_discussed.all()] == [PERSON]

    # Amira sees the session and her action in "My supervision".
    sign_in(second_page, world.link_worker.email, factories.PASSWORD)
    second_page.goto("/supervision/")
    expect(heading(second_page)).to_have_text("My supervision")
    expect(second_page.get_by_role("row").filter(has_text="Try Ivy by letter")).to_contain_text("To do")
    expect(second_page.get_by_role("link", name=f"{today.day} {today:%B %Y}")).to_be_visible()
    assert_accessible(second_page)


def test_a_safeguarding_concern_reaches_the_supervisor_who_decides_and_then_corrects(
    page: Page, second_page: Page, world: World, caseload: None
) -> None:
    # Amira raises a concern from the case; the flag form is one click away too.
    sign_in(second_page, world.link_worker.email, factories.PASSWORD)
    second_page.get_by_role("link", name=PERSON, exact=True).click()
    expect(heading(second_page)).to_have_text(PERSON)
    second_page.get_by_role("link", name="Flag this case for supervision").click()
    expect(heading(second_page)).to_have_text("Flag this case for supervision")
    assert_accessible(second_page)
    second_page.get_by_label("What would you like to discuss?").fill("Should I try a home visit?")
    second_page.get_by_role("button", name="Flag for supervision").click()
    expect(second_page.locator(".nhsuk-notification-banner--success")).to_contain_text("Case flagged for supervision")
    second_page.get_by_role("link", name="Raise a safeguarding concern").click()
    expect(heading(second_page)).to_have_text("Raise a safeguarding concern")
    assert_accessible(second_page)
    second_page.get_by_role("button", name="Record the concern and tell the supervisors").click()
    expect(second_page.locator(".nhsuk-error-summary")).to_contain_text("Describe the concern")
    assert_accessible(second_page)
    second_page.get_by_label("What is the concern?").fill("Her neighbour says she has not been seen for a week.")
    second_page.get_by_role("button", name="Record the concern and tell the supervisors").click()
    expect(heading(second_page)).to_have_text("Supervision and safeguarding")
    expect(second_page.get_by_text("Waiting for a supervisor's decision")).to_be_visible()
    assert_accessible(second_page)

    # The supervisor sees it at once, with who raised it and when, and the flag with its question.
    sign_in(page, world.supervisor.email, factories.PASSWORD)
    callout = page.locator(".nhsuk-warning-callout")
    expect(callout).to_contain_text(f"{PERSON}: raised by Amira Khan on")
    expect(page.get_by_text("“Should I try a home visit?”")).to_be_visible()
    callout.get_by_role("link", name=PERSON).click()
    expect(heading(page)).to_have_text("Safeguarding concern")
    expect(page.get_by_text("Her neighbour says she has not been seen for a week.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("radio", name="No further action").check()
    page.get_by_label("Note").fill("Spoke to Amira: Ivy is away at her daughter's.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Decision recorded: No further action")
    assert_accessible(page)

    # A correction is added after the decision, which stays on record.
    page.get_by_role("radio", name="Referred to local authority safeguarding").check()
    page.get_by_label("Why is the decision being corrected?").fill("The daughter has not seen her either.")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Correction recorded")
    decisions = page.locator("main ol.nhsuk-list > li")
    expect(decisions).to_have_count(2)
    expect(decisions.nth(0)).to_contain_text("No further action")
    expect(decisions.nth(0)).to_contain_text("Corrected below")
    expect(decisions.nth(1)).to_contain_text("Correction: Referred to local authority safeguarding")
    expect(decisions.nth(1)).to_contain_text("In force")
    assert_accessible(page)
    page.get_by_role("link", name="Back to the caseload dashboard").click()
    expect(page.locator(".nhsuk-warning-callout")).to_have_count(0)
