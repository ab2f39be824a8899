"""Signing in as every demo role, in a real browser, with accessibility checks on each page visited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from outcomes.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROLE_HOMES = [
    ("linkworker@demo.linkwork.test", "My caseload", "caseload"),
    ("referrer@demo.linkwork.test", "My referrals", "referrer-home"),
    ("supervisor@demo.linkwork.test", "Caseload dashboard", "supervisor-dashboard"),
    ("manager@demo.linkwork.test", "Caseload dashboard", "manager-home"),
    ("commissioner@demo.linkwork.test", "Outcome reports", "commissioner-reports"),
    ("admin@demo.linkwork.test", "Users and organisations", "admin-home"),
]


@pytest.fixture
def demo(db) -> None:
    call_command("seed_demo", stdout=StringIO())


def test_the_login_page_is_accessible_and_explains_mistakes(page: Page, demo: None) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Linkwork")
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, "login")

    page.get_by_label("Email address").fill("linkworker@demo.linkwork.test")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Enter a correct email address and password")
    expect(page.get_by_label("Email address")).to_have_value("linkworker@demo.linkwork.test")
    assert_accessible(page)


@pytest.mark.parametrize(("email", "heading", "shot"), ROLE_HOMES)
def test_each_role_signs_in_to_an_accessible_home_page(
    page: Page, demo: None, email: str, heading: str, shot: str
) -> None:
    sign_in(page, email, DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, shot)


def test_signing_out_returns_to_the_login_page(page: Page, demo: None) -> None:
    sign_in(page, "linkworker@demo.linkwork.test", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Linkwork")
    page.goto("/caseload/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Linkwork")


def test_a_link_worker_reads_reminders_and_pages_through_notifications(page: Page, demo: None) -> None:
    from linkwork.accounts.models import User
    from linkwork.notifications.models import Notification
    from outcomes import reminders

    user = User.objects.get(email="linkworker@demo.linkwork.test")
    reminders.reminders_scan()
    Notification.objects.bulk_create(
        Notification(user=user, title=f"Referral update {n:02d}", link="/caseload/") for n in range(1, 26)
    )
    sign_in(page, user.email, DEMO_PASSWORD)
    page.goto("/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications and reminders")
    expect(page.get_by_text("Referral update 25")).to_be_visible()
    expect(page.get_by_text("Showing 1 to 20 of")).to_be_visible()
    assert_accessible(page)
    assert_fits_a_phone(page)
    screenshot(page, "notifications")
    page.get_by_role("navigation", name="Pages of notifications").get_by_role("link", name="Next page").click()
    expect(page.get_by_text("Showing 21 to")).to_be_visible()
    expect(page.get_by_text("Referral update 25")).not_to_be_visible()
    assert_accessible(page)
