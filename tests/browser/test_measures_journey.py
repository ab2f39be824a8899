"""Wellbeing measures in a real browser: a link worker records a SWEMWBS baseline with a person, then the
follow-up (after a mistake in the date), and the case page says how their wellbeing changed; then the GP
appointments before referral. axe-core checks every page visited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from linkwork.accounts.models import Role
from outcomes.models import Assessment, SystemUse
from tests import factories
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in
from tests.conftest import ensure_reference_data
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SWEMWBS = "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)"
STATEMENTS = [
    "I've been feeling optimistic about the future",
    "I've been feeling useful",
    "I've been feeling relaxed",
    "I've been dealing with problems well",
    "I've been thinking clearly",
    "I've been feeling close to other people",
    "I've been able to make up my own mind about things",
]


@pytest.fixture
def case(db):
    ensure_reference_data()
    service = factories.ServiceFactory(name="Riverside Social Prescribing", link_worker_title="Community connector")
    worker = factories.UserFactory(email="amira@example.nhs.uk", full_name="Amira Khan")
    factories.MembershipFactory(user=worker, organisation=service, role=Role.LINK_WORKER)
    return factories.ActiveCaseFactory(
        client__service=service, link_worker=worker, client__given_name="Nora", client__family_name="Jones"
    )


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def success_banner(page: Page) -> Locator:
    return page.locator(".nhsuk-notification-banner--success")


def fill_date(page: Page, legend: str, value: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))


def answer(page: Page, answers: list[str]) -> None:
    for number, (statement, choice) in enumerate(zip(STATEMENTS, answers, strict=True), start=1):
        page.get_by_role("group", name=f"{number}. {statement}").get_by_label(choice, exact=True).check()


def choose(page: Page, timepoint: str) -> None:
    """From the case page, start a SWEMWBS at ``timepoint`` (which the page should already suggest)."""
    page.get_by_role("link", name="Record a wellbeing measure").click()
    expect(heading(page)).to_have_text("Record a wellbeing measure")
    expect(page.get_by_role("radio", name=timepoint, exact=True)).to_be_checked()
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_role("radio", name=SWEMWBS).check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text(SWEMWBS)
    expect(page.locator(".nhsuk-caption-l")).to_have_text(timepoint)


def test_a_link_worker_records_a_baseline_and_follow_up_and_sees_wellbeing_go_up(page: Page, case) -> None:
    today = timezone.localdate()
    sign_in(page, "amira@example.nhs.uk", PASSWORD)
    page.goto(f"/caseload/cases/{case.pk}/")
    expect(heading(page)).to_have_text("Nora Jones")
    expect(page.get_by_text("No wellbeing measures recorded yet.")).to_be_visible()
    assert_accessible(page)

    # The baseline, taken with Nora ten days ago: "some of the time" to everything, 21, which is 19.25.
    choose(page, "Baseline")
    expect(page.get_by_text("Please tick the box that best describes your experience")).to_be_visible()
    expect(page.get_by_text("© NHS Health Scotland, University of Warwick and University of Edinburgh")).to_be_visible()
    expect(page.get_by_text("SWEMWBS then has no score: a score needs every question answered.")).to_be_visible()
    expect(page.get_by_role("radio", name="On screen with the person")).to_be_checked()
    assert_accessible(page)
    assert_fits_a_phone(page)
    answer(page, ["Some of the time"] * 7)
    fill_date(page, "Date taken", today - dt.timedelta(days=10))
    page.get_by_role("button", name="Save answers").click()

    expect(success_banner(page)).to_contain_text("SWEMWBS baseline saved: score 19.25")
    expect(heading(page)).to_have_text("Nora Jones")
    measure = page.locator(".lw-measure").filter(has=page.get_by_role("heading", name=SWEMWBS))
    expect(measure).to_contain_text("Baseline only: the change shows once the follow-up is recorded.")
    expect(measure.get_by_role("row").filter(has_text="Wellbeing score")).to_contain_text("19.25 (raw 21)")
    assert_accessible(page)

    # The follow-up today, first with a date in the future by mistake: explained, and the answers kept.
    choose(page, "Follow-up")
    follow_up = ["Often", "Often", "Some of the time", "Some of the time", "Often", "Some of the time", "Often"]
    answer(page, follow_up)
    fill_date(page, "Date taken", today + dt.timedelta(days=7))
    page.get_by_role("button", name="Save answers").click()
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Date taken must be today or in the past")).to_be_visible()
    for number, (statement, choice) in enumerate(zip(STATEMENTS, follow_up, strict=True), start=1):
        group = page.get_by_role("group", name=f"{number}. {statement}")
        expect(group.get_by_label(choice, exact=True)).to_be_checked()
    assert_accessible(page)
    fill_date(page, "Date taken", today)
    page.get_by_role("button", name="Save answers").click()

    # 25 is 22.35: wellbeing up 3.1 points, a meaningful change.
    expect(success_banner(page)).to_contain_text("SWEMWBS follow-up saved: score 22.35")
    expect(measure).to_contain_text(re.compile(r"wellbeing up 3\.1 points", re.IGNORECASE))
    expect(measure.get_by_text("Meaningful change")).to_be_visible()
    expect(measure.get_by_role("row").filter(has_text="Wellbeing score")).to_contain_text("22.35 (raw 25)")
    chart = measure.get_by_role("img")
    expect(chart).to_have_accessible_name(re.compile(r"Wellbeing score: baseline 19\.25, follow-up 22\.35"))
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_role("heading", name="Wellbeing measures").evaluate("heading => heading.scrollIntoView()")
    screenshot(page, "measures")

    # GP appointments in the 3 months before referral.
    page.get_by_role("link", name="Record GP appointments and A&E attendances").click()
    expect(heading(page)).to_have_text("GP appointments and A&E")
    assert_accessible(page)
    assert_fits_a_phone(page)
    page.get_by_label("GP appointments").fill("6")
    page.get_by_label("A&E attendances").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(success_banner(page)).to_contain_text("GP appointments and A&E attendances saved")
    expect(page.locator(".lw-system-use")).to_contain_text(
        "3 months before referral: 6 GP appointments, 1 A&E attendance"
    )
    assert_accessible(page)

    assert list(Assessment.objects.filter(case=case).values_list("timepoint", "raw_total").order_by("taken_on")) == [
        ("baseline", 21),
        ("follow_up", 25),
    ]
    assert SystemUse.objects.get(case=case).gp_appointments == 6
