"""The idle sign-out warning, with the browser's clock moved on instead of waiting half an hour."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_warning_two_minutes_before_and_sign_out_at_the_end(page: Page, world: World) -> None:
    page.clock.install()
    sign_in(page, "lw@example.nhs.uk", PASSWORD)
    notice = page.locator("#session-timeout")
    expect(notice).to_be_hidden()
    page.clock.fast_forward("28:30")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("You will be signed out in 2 minutes")
    assert_accessible(page)
    page.get_by_role("button", name="Stay signed in").click()
    expect(notice).to_be_hidden()
    page.clock.fast_forward("30:05")
    expect(page.get_by_text("You were signed out because you had not done anything for 30 minutes")).to_be_visible()
    page.goto("/caseload/")  # signed out on the server too
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Linkwork")
