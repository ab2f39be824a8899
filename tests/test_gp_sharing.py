"""The person's choice of what goes back to their GP (nothing beyond the outcome, codes only, or a summary)
decides what the referrer sees of a referral's outcome."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import ShareWithGP
from referrals import services
from tests import factories
from tests.conftest import World, login

SUMMARY = "Joined the Tuesday walking group and the lunch club; feels less alone."


def _closed_referral(world: World, choice: str):
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    services.referral_accept(referral=referral, by=world.link_worker, assignee=world.link_worker)
    referral.refresh_from_db()
    referral.case.client.share_with_gp = choice
    referral.case.client.save(update_fields=["share_with_gp"])
    services.referral_close(referral=referral, by=world.link_worker, reason="goals_met", summary=SUMMARY)
    return referral


@pytest.mark.parametrize(
    ("choice", "sees_code", "sees_summary"),
    [(ShareWithGP.SUMMARY, True, True), (ShareWithGP.CODES, True, False), (ShareWithGP.NONE, False, False)],
)
def test_the_referrer_sees_only_what_the_person_agreed_to_share(
    client, world: World, choice: str, sees_code: bool, sees_summary: bool
) -> None:
    referral = _closed_referral(world, choice)
    login(client, world.referrer)
    page = client.get(reverse("referrals:sent", args=[referral.pk])).text
    assert "Closed" in page
    assert ("871731000000106" in page) is sees_code
    assert (SUMMARY in page) is sees_summary
    if not sees_summary:
        assert "Not shared" in page


def test_the_service_still_sees_the_summary_it_wrote(client, world: World) -> None:
    referral = _closed_referral(world, ShareWithGP.NONE)
    login(client, world.link_worker)
    assert SUMMARY in client.get(reverse("referrals:detail", args=[referral.pk])).text


def test_a_declined_referral_shows_its_outcome_and_code(client, world: World) -> None:
    referral = factories.DeclinedReferralFactory(service=world.service, source_organisation=world.practice)
    login(client, world.referrer)
    page = client.get(reverse("referrals:sent", args=[referral.pk])).text
    assert "871711000000103" in page
