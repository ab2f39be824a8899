from __future__ import annotations

import datetime as dt
from io import StringIO

import nhs_number
from django.core.management import call_command

from clients.models import Case, CaseStatus, Client
from community.models import CommunityService
from linkwork.accounts.models import Membership, Role, User
from outcomes.demo import DEMO_PASSWORD
from referrals.models import Referral, ReferralStatus


def test_seed_demo_builds_a_realistic_service_and_is_idempotent(db) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()

    def counts() -> tuple[int, ...]:
        return tuple(m.objects.count() for m in (Client, Case, Referral, User))

    before = counts()
    call_command("seed_demo", stdout=(again := StringIO()))
    assert "nothing changed" in again.getvalue()
    assert counts() == before

    assert Client.objects.count() == 60
    assert CommunityService.objects.count() == 20
    assert set(Case.objects.values_list("status", flat=True)) == set(CaseStatus.values)
    assert Referral.objects.filter(status=ReferralStatus.NEW).exists()
    assert Referral.objects.filter(status=ReferralStatus.DECLINED).exists()
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    for number in Client.objects.values_list("nhs_number", flat=True):
        assert number.startswith("999") and nhs_number.is_valid(number)
    assert all(c.window_end >= c.start_date for c in Case.objects.all())
    assert not Case.objects.filter(start_date__gt=dt.date.today()).exists()


def test_every_demo_login_works(client, db) -> None:
    call_command("seed_demo", stdout=StringIO())
    for user in User.objects.all():
        response = client.post("/accounts/login/", {"username": user.email, "password": DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200 and "_auth_user_id" in client.session, user.email
        client.post("/accounts/logout/")
