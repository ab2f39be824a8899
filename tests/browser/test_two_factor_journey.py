"""A new link worker's first sign-in: password, then setting up an authenticator app, then the backup codes;
and a later sign-in with a code, on a phone-sized screen."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot
from tests.conftest import World, current_totp, totp_device
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _code_from_typed_key(key: str) -> str:
    """What an authenticator app shows for the key the person typed in (as the page shows it)."""
    raw = key.replace(" ", "")
    secret = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{TOTP(secret).token():06d}"


def test_first_sign_in_sets_up_an_authenticator_app_and_shows_backup_codes(page: Page, world: World) -> None:
    page.goto("/caseload/")
    page.get_by_label("Email address").fill(world.link_worker.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "two-factor-setup")

    page.get_by_label("Security code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not match")
    assert_accessible(page)

    page.get_by_text("I cannot scan the QR code").click()
    key = page.get_by_test_id("totp-secret").inner_text()
    page.wait_for_timeout(1100)  # django-otp makes each attempt after a wrong code wait a second
    page.get_by_label("Security code").fill(_code_from_typed_key(key))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="I have saved my backup codes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")


def test_a_later_sign_in_asks_for_the_code_on_a_phone(page: Page, world: World) -> None:
    device = totp_device(world.link_worker)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(world.link_worker.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    assert_fits_a_phone(page)
    screenshot(page, "two-factor-code")
    page.get_by_label("Security code").fill("12")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not work")
    expect(page.get_by_label("Security code")).to_have_value("12")

    page.get_by_label("Security code").fill(current_totp(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    assert_accessible(page)
