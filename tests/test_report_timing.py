"""Days from referral to first contact: counted and the median taken in SQL, as the hand count says."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from outcomes import reports
from tests import factories
from tests.conftest import World

TODAY = timezone.localdate()


def _referral_with_contacts(world: World, received_days_ago: float, contact_days_ago: list[float]):
    received = timezone.now() - dt.timedelta(days=received_days_ago)
    referral = factories.AcceptedReferralFactory(
        service=world.service, received_at=received, case__link_worker=world.link_worker
    )
    for ago in contact_days_ago:
        factories.ContactFactory(case=referral.case, at=timezone.now() - dt.timedelta(days=ago))
    if contact_days_ago:  # an attempt that did not reach the person comes first and does not count
        factories.ContactFactory(case=referral.case, at=received + dt.timedelta(hours=1), attempted_only=True)
    return referral


def test_the_median_days_to_first_contact_match_the_hand_count(world: World) -> None:
    _referral_with_contacts(world, 30, [28, 10])  # first counted contact after 2 days
    _referral_with_contacts(world, 30.5, [25])  # 5.5 days: 5 whole days
    _referral_with_contacts(world, 40, [31, 5])  # 9 days
    _referral_with_contacts(world, 20, [8])  # 12 days
    _referral_with_contacts(world, 10, [])  # no contact yet: not counted
    scope = reports.Scope(services=(world.service,), start=TODAY - dt.timedelta(days=60), end=TODAY)
    timing = next(t for _, _, tables in reports.build(scope) for t in tables if t.key == "time_to_first_contact")
    assert timing.rows == [["Referrals with a first contact", 4, 7]]  # median of 2, 5, 9, 12


def test_an_odd_number_gives_the_middle_value(world: World) -> None:
    _referral_with_contacts(world, 30, [28])  # 2
    _referral_with_contacts(world, 30, [27])  # 3
    _referral_with_contacts(world, 30, [20])  # 10
    scope = reports.Scope(services=(world.service,), start=TODAY - dt.timedelta(days=60), end=TODAY)
    timing = next(t for _, _, tables in reports.build(scope) for t in tables if t.key == "time_to_first_contact")
    assert timing.rows == [["Referrals with a first contact", 3, 3]]
