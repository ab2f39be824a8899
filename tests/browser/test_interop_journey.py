"""Interoperability in the browser: a service manager makes an API key, a GP system uses it to send a FHIR
referral over real HTTP, the referral waits in triage; practice staff mark coded events recorded in the GP record;
anyone reads the API documentation. axe on every page visited, and each at phone width."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from linkwork.accounts.models import Membership, Role
from outcomes.demo import DEMO_PASSWORD
from referrals.models import Channel, Referral
from tests.browser.conftest import assert_accessible, assert_fits_a_phone, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BUNDLE = Path(__file__).resolve().parents[1] / "fhir" / "referral-bundle.json"


def test_a_manager_gives_a_gp_system_a_key_and_its_referral_arrives(page: Page, db) -> None:
    call_command("seed_demo", stdout=StringIO())
    practice = Membership.objects.get(user__email="referrer@demo.linkwork.test", role=Role.REFERRER).organisation
    sign_in(page, "manager@demo.linkwork.test", DEMO_PASSWORD)
    page.goto("/referrals/queue/")
    page.get_by_role("link", name="Manage API keys for GP and agency systems").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys for GP and agency systems")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the name of the system")
    assert_accessible(page)
    page.get_by_label("System name").fill("EMIS Web at the practice")
    page.get_by_label(practice.name).check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-api-key").inner_text().strip()
    assert key.startswith("lw_")
    assert_accessible(page)
    screenshot(page, "api-keys")

    payload = BUNDLE.read_text().replace("ODSCODE", practice.ods_code)
    answer = page.request.post(
        "/api/fhir/",
        data=payload,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/fhir+json"},
    )
    assert answer.status == 201, answer.text()
    task = json.loads(answer.text())
    assert task["resourceType"] == "Task" and task["status"] == "requested"
    referral = Referral.objects.get(pk=task["id"])
    assert referral.channel == Channel.API and referral.family_name == "Okoro"

    page.goto("/referrals/queue/")
    expect(page.get_by_text("Ada Okoro").first).to_be_visible()
    page.goto("/referrals/api-keys/")
    page.get_by_role("button", name="Revoke the key for EMIS Web at the practice").click()
    expect(page.get_by_text("no longer works")).to_be_visible()
    assert_fits_a_phone(page)
    again = page.request.post(
        "/api/fhir/",
        data=payload,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/fhir+json"},
    )
    assert again.status == 403


def test_practice_staff_mark_coded_events_recorded(page: Page, db) -> None:
    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "referrer@demo.linkwork.test", DEMO_PASSWORD)
    page.get_by_role("link", name="Coded events for the GP record").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("GP record")
    assert_accessible(page)
    screenshot(page, "gp-record-coded-events")
    boxes = page.locator("input[type=checkbox][name=referral]")
    waiting = boxes.count()
    assert waiting > 0  # the demo practice's accepted and declined referrals
    page.get_by_role("button", name="Mark as recorded").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select the events you have recorded")
    assert_accessible(page)
    page.locator("input[type=checkbox][name=referral]").first.check()
    page.get_by_role("button", name="Mark as recorded").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    assert page.locator("input[type=checkbox][name=referral]").count() == waiting - 1
    assert_fits_a_phone(page)


def test_the_api_documentation_is_readable_by_anyone(page: Page, db) -> None:
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("/api/fhir/ServiceRequest").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "api-docs")
    assert_fits_a_phone(page)
