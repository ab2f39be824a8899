"""The directory in a real browser: a link worker searches for gardening on Tuesdays, free and step-free,
connects a person to what they find, and marks that they went to the first session. axe on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clients.models import Connection
from community.models import Schedule
from outcomes.demo import DEMO_PASSWORD
from tests import factories
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def setting(db):
    from linkwork.accounts.models import Role

    service = factories.ServiceFactory(name="Riverside Social Prescribing", link_worker_title="Community connector")
    worker = factories.UserFactory(email="amira@example.nhs.uk", full_name="Amira Khan")
    factories.MembershipFactory(user=worker, organisation=service, role=Role.LINK_WORKER)
    case = factories.ActiveCaseFactory(
        client__service=service, link_worker=worker, client__given_name="Nora", client__family_name="Jones"
    )
    garden = factories.CommunityServiceFactory(
        provider__service=service,
        provider__name="Oakwood Community Garden",
        name="Growing together",
        description="Gardening for everyone: vegetables, flowers and a cup of tea.",
        categories=["nature"],
        accessibility=["step_free", "accessible_toilet"],
        schedule="Tuesdays 10am to 1pm",
    )
    Schedule.objects.create(service=garden, byday=["TU"], opens_at=dt.time(10), closes_at=dt.time(13))
    paid = factories.CommunityServiceFactory(
        provider__service=service,
        name="Garden design course",
        description="Gardening course",
        categories=["nature", "learning"],
        is_free=False,
        cost_amount=20,
        accessibility=["step_free"],
    )
    Schedule.objects.create(service=paid, byday=["TU"], opens_at=dt.time(18), closes_at=dt.time(20))
    stairs = factories.CommunityServiceFactory(
        provider__service=service,
        name="Rooftop gardening club",
        description="Gardening up two flights of stairs",
        categories=["nature"],
    )
    Schedule.objects.create(service=stairs, byday=["TU"], opens_at=dt.time(10), closes_at=dt.time(12))
    return case, garden


def test_search_connect_and_mark_attended(page: Page, setting) -> None:
    case, garden = setting
    sign_in(page, "amira@example.nhs.uk", PASSWORD)
    page.goto(f"/caseload/cases/{case.pk}/")
    page.get_by_role("link", name="Find a group or activity for Nora").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a group for Nora")
    page.get_by_label("What are you looking for? (optional)").fill("gardening")
    page.get_by_label("Day (optional)", exact=True).select_option(label="Tuesday")
    page.get_by_label("Free only").check()
    page.get_by_role("group", name="Accessibility needs").get_by_label("Step-free access").check()
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results).to_have_text("1 result")
    expect(page.get_by_role("link", name="Growing together")).to_be_visible()
    expect(page.get_by_text("Garden design course")).to_have_count(0)
    expect(page.get_by_text("Rooftop gardening club")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "directory-search")

    card = page.locator(".nhsuk-card", has=page.get_by_role("link", name="Growing together"))
    card.get_by_role("button", name="Suggest to Nora").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Growing together suggested to Nora")
    connections = page.get_by_role("heading", name="Community connections").locator("xpath=following-sibling::ul[1]")
    expect(connections).to_contain_text("Growing together (Oakwood Community Garden): Suggested")

    for status in ("Referred or introduced", "Attended first session"):
        page.get_by_role("link", name="Growing together").click()
        assert_accessible(page)
        page.get_by_label(status).check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text(f"Growing together: {status}")
    expect(connections).to_contain_text("Attended first session")
    assert Connection.objects.get().status == "attended_first"
    assert_accessible(page)


def test_the_directory_pages_are_accessible_and_fit_a_phone(page: Page, setting) -> None:
    _, garden = setting
    garden.last_checked_on = timezone.localdate()
    garden.save()
    sign_in(page, "amira@example.nhs.uk", PASSWORD)
    for url in (
        "/community/",
        f"/community/services/{garden.pk}/",
        f"/community/organisations/{garden.provider.pk}/",
        "/community/opportunities/",
        "/outcomes/directory-demand/",
    ):
        page.goto(url)
        assert_accessible(page)
        assert_fits_a_phone(page)
    page.goto("/community/")
    screenshot(page, "directory")


def test_the_demo_directory_search_page(page: Page, db) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "linkworker@demo.linkwork.test", DEMO_PASSWORD)
    page.goto("/community/?q=walk")
    expect(page.locator("#results")).to_contain_text("result")
    assert_accessible(page)
