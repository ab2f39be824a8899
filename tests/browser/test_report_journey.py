"""A commissioner chooses last quarter, reads the report and downloads the XLSX, which opens with the expected
sheets and nothing identifiable. axe on every page visited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from outcomes.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_commissioner_downloads_last_quarter(page: Page, db, tmp_path) -> None:
    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "commissioner@demo.linkwork.test", DEMO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome reports")
    page.get_by_text("Period and scope").click()
    page.get_by_label("Period", exact=True).select_option(label="Last quarter")
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_text("Counts from 1 to 7 are shown as *")).to_be_visible()
    expect(page.get_by_role("heading", name="Reach and equity")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "commissioner-reports")
    assert_fits_a_phone(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download as Excel").click()
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames[0] == "About this report"
    for sheet in (
        "Referrals received by source",
        "Accepted and declined",
        "By age band",
        "Change in wellbeing between bas",
        "GP appointments in the 3 months",
    ):
        assert sheet in book.sheetnames, sheet
    cover = {row[0]: row[1] for row in book["About this report"].iter_rows(values_only=True)}
    assert "Counts from 1 to 7" in cover["Small numbers"]
    text = " ".join(str(c) for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row if c)
    assert "999" not in text.replace("9999", "")  # no NHS numbers (all demo numbers start 999)

    page.get_by_role("link", name="Printable summary with charts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Social prescribing outcome report")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    assert_accessible(page)
