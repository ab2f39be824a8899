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
