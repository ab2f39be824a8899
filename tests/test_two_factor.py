"""Two-factor authentication (an authenticator app and backup codes), signing out everywhere, and what site
admins can do about a lost phone or a leaver."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linkwork.audit.models import Action, AuditEvent
from tests.conftest import World, current_totp, login, totp_device
from tests.factories import PASSWORD


def _sign_in_with_password(client: HttpClient, email: str, next_url: str = ""):
    url = reverse("accounts:login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": email, "password": PASSWORD}, follow=True)


def _code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_first_sign_in_asks_a_link_worker_to_set_up_an_authenticator_app(client, world: World) -> None:
    response = _sign_in_with_password(client, world.link_worker.email)
    setup_url = response.redirect_chain[-1][0]
    assert setup_url.startswith(reverse("accounts:two_factor_setup"))
    page = response.text
    assert "Set up two-factor authentication" in page
    assert "<svg" in page and "QR code for your authenticator app" in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) >= 32

    # Nothing else is reachable until the app is set up.
    assert client.get(reverse("clients:caseload")).url.startswith(reverse("accounts:two_factor_setup"))
    assert client.get("/django-admin/").url.startswith(reverse("accounts:two_factor_setup"))

    # The same secret is shown on every reload until it is confirmed.
    again = client.get(setup_url).text
    assert secret in again

    wrong = client.post(setup_url, {"code": "000000"})
    assert wrong.status_code == 200
    assert "That code did not match" in wrong.text
    assert not TOTPDevice.objects.filter(user=world.link_worker, confirmed=True).exists()

    device = TOTPDevice.objects.get(user=world.link_worker)
    device.throttle_reset()  # a person takes more than the one second django-otp now waits to type the next code
    done = client.post(setup_url, {"code": _code_for(device), "next": "/"})
    assert done.status_code == 200
    assert "Your backup codes" in done.text
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(
        actor=world.link_worker, action=Action.UPDATE, summary="Turned on two-factor authentication"
    ).exists()
    # Verified for the rest of the session.
    assert client.get(reverse("clients:caseload")).status_code == 200


def test_a_later_sign_in_asks_for_the_code_and_then_goes_where_the_person_was_going(client, world: World) -> None:
    device = totp_device(world.link_worker)
    response = _sign_in_with_password(client, world.link_worker.email, next_url=reverse("referrals:queue"))
    verify_url = response.redirect_chain[-1][0]
    assert verify_url.startswith(reverse("accounts:two_factor_verify"))
    assert "Enter your security code" in response.text

    wrong = client.post(verify_url, {"code": "123456"})
    assert "That code did not work" in wrong.text
    assert AuditEvent.objects.filter(actor=world.link_worker, action=Action.LOGIN_FAILED).exists()
    assert client.get(reverse("clients:caseload")).status_code == 302

    right = client.post(verify_url, {"code": current_totp(device)})
    assert right.status_code == 302
    assert right.url == reverse("referrals:queue")
    assert client.get(reverse("clients:caseload")).status_code == 200
    assert AuditEvent.objects.filter(
        actor=world.link_worker, action=Action.LOGIN, summary="Gave a two-factor code"
    ).exists()


def test_the_code_page_never_sends_people_to_another_site(client, world: World) -> None:
    device = totp_device(world.link_worker)
    login(client, world.link_worker, verified=False)
    for evil in ("https://evil.example/", "//evil.example/x"):
        response = client.post(
            reverse("accounts:two_factor_verify") + f"?next={evil}", {"code": current_totp(device), "next": evil}
        )
        assert response.status_code == 302
        assert response.url == reverse("home")
        client.logout()
        login(client, world.link_worker, verified=False)


def test_a_code_cannot_be_used_twice(client, world: World) -> None:
    device = totp_device(world.link_worker)
    code = current_totp(device)
    login(client, world.link_worker, verified=False)
    assert client.post(reverse("accounts:two_factor_verify"), {"code": code}).status_code == 302

    other = HttpClient()
    login(other, world.link_worker, verified=False)
    replay = other.post(reverse("accounts:two_factor_verify"), {"code": code})
    assert replay.status_code == 200
    assert "did not work" in replay.text


def test_repeated_wrong_codes_are_slowed_down(client, world: World) -> None:
    device = totp_device(world.link_worker)
    login(client, world.link_worker, verified=False)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(3):
            clock.shift(30)
            client.post(reverse("accounts:two_factor_verify"), {"code": "000000"})
        response = client.post(reverse("accounts:two_factor_verify"), {"code": _code_for(device)})
        assert response.status_code == 200
        assert "Too many wrong codes" in response.text
        clock.shift(5)  # the wait doubles with each wrong code: 4 seconds after the third
        assert client.post(reverse("accounts:two_factor_verify"), {"code": _code_for(device)}).status_code == 302


def test_a_backup_code_works_once(client, world: World) -> None:
    from linkwork.accounts.two_factor import new_backup_codes

    totp_device(world.link_worker)
    codes = new_backup_codes(world.link_worker)
    login(client, world.link_worker, verified=False)
    response = client.post(reverse("accounts:two_factor_verify"), {"code": codes[0].upper()}, follow=True)
    assert response.redirect_chain
    assert "You used a backup code. You have 9 left" in response.text
    assert AuditEvent.objects.filter(actor=world.link_worker, summary="Gave a backup code").exists()

    other = HttpClient()
    login(other, world.link_worker, verified=False)
    assert "did not work" in other.post(reverse("accounts:two_factor_verify"), {"code": codes[0]}).text


def test_new_backup_codes_replace_the_old_ones(client, world: World) -> None:
    from linkwork.accounts.two_factor import new_backup_codes

    old = new_backup_codes(world.link_worker)
    login(client, world.link_worker)
    response = client.post(reverse("accounts:backup_codes"))
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.text)
    assert len(new) == 10
    stored = set(StaticToken.objects.filter(device__user=world.link_worker).values_list("token", flat=True))
    assert stored == set(new)
    assert not stored.intersection(old)
    assert client.get(reverse("accounts:backup_codes")).status_code == 405


@pytest.mark.parametrize("persona", ["link_worker", "referrer", "agency_referrer", "supervisor", "manager", "admin"])
def test_every_role_that_sees_identifiable_data_must_use_two_factor(client, world: World, persona: str) -> None:
    response = _sign_in_with_password(client, getattr(world, persona).email)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_setup"))


def test_commissioners_see_only_aggregates_and_are_not_asked(client, world: World) -> None:
    response = _sign_in_with_password(client, world.commissioner.email)
    assert not response.redirect_chain[-1][0].startswith("/accounts/two-factor/")
    assert response.status_code == 200


def test_pages_are_handed_the_verified_user_itself_not_a_lazy_wrapper(client, world: World) -> None:
    """Read through the lazy wrapper, each of a page's ~80 reads of ``request.user`` cost two more calls."""
    from django.contrib.auth.models import AnonymousUser

    from linkwork.accounts.models import User

    login(client, world.link_worker)
    user = client.get(reverse("clients:caseload")).wsgi_request.user
    assert type(user) is User and user.pk == world.link_worker.pk and user.is_verified()
    anonymous = HttpClient().get(reverse("privacy")).wsgi_request.user
    assert type(anonymous) is AnonymousUser
    unverified = HttpClient()
    login(unverified, world.link_worker, verified=False)
    assert unverified.get(reverse("clients:caseload")).url.startswith(reverse("accounts:two_factor_verify"))


def test_a_local_demo_may_turn_it_off(client, world: World, settings) -> None:
    settings.LINKWORK_TWO_FACTOR_REQUIRED = False
    login(client, world.link_worker, verified=False)
    assert client.get(reverse("clients:caseload")).status_code == 200


def test_the_profile_shows_the_state_and_offers_new_codes_and_a_new_phone(client, world: World) -> None:
    from linkwork.accounts.two_factor import new_backup_codes

    new_backup_codes(world.link_worker)
    login(client, world.link_worker)
    page = client.get(reverse("accounts:profile")).text
    assert "You have 10 backup codes left" in page
    assert "Get new backup codes" in page
    assert "Move two-factor authentication to a new phone" in page
    assert "Sign out everywhere" in page


def test_moving_to_a_new_phone_replaces_the_old_app(client, world: World) -> None:
    old = totp_device(world.link_worker)
    login(client, world.link_worker)
    page = client.get(reverse("accounts:two_factor_setup")).text
    assert "Move two-factor authentication to a new app" in page
    new = TOTPDevice.objects.get(user=world.link_worker, confirmed=False)
    client.post(reverse("accounts:two_factor_setup"), {"code": _code_for(new)})
    assert list(TOTPDevice.objects.filter(user=world.link_worker)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_sign_out_everywhere_ends_every_session_of_that_person(world: World) -> None:
    laptop, phone, colleague = HttpClient(), HttpClient(), HttpClient()
    login(laptop, world.link_worker)
    login(phone, world.link_worker)
    login(colleague, world.colleague)
    assert phone.get(reverse("clients:caseload")).status_code == 200

    response = laptop.post(reverse("accounts:sign_out_everywhere"), follow=True)
    assert "You have been signed out on every device" in response.text
    for device in (laptop, phone):
        answer = device.get(reverse("clients:caseload"))
        assert answer.status_code == 302 and answer.url.startswith(reverse("accounts:login"))
    assert colleague.get(reverse("clients:caseload")).status_code == 200
    assert AuditEvent.objects.filter(actor=world.link_worker, summary="Signed out everywhere").exists()
    assert laptop.get(reverse("accounts:sign_out_everywhere")).status_code in (302, 405)


def test_sign_out_everywhere_needs_a_sign_in(client, db) -> None:
    response = client.post(reverse("accounts:sign_out_everywhere"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_a_site_admin_deactivates_a_leaver_and_their_sessions_end(client, world: World) -> None:
    leaver = HttpClient()
    login(leaver, world.colleague)
    login(client, world.admin)
    page = client.get(reverse("accounts:admin_home")).text
    assert "Deactivate" in page and "Reset two-factor" in page

    client.post(reverse("accounts:admin_user_action", args=[world.colleague.pk]), {"action": "deactivate"})
    world.colleague.refresh_from_db()
    assert not world.colleague.is_active
    assert leaver.get(reverse("clients:caseload")).status_code == 302
    assert AuditEvent.objects.filter(
        actor=world.admin, action=Action.UPDATE, object_id=str(world.colleague.pk), summary="Deactivated the account"
    ).exists()

    client.post(reverse("accounts:admin_user_action", args=[world.colleague.pk]), {"action": "reactivate"})
    world.colleague.refresh_from_db()
    assert world.colleague.is_active


def test_a_site_admin_resets_a_lost_phone_and_the_person_enrols_again(client, world: World) -> None:
    totp_device(world.colleague)
    on_lost_phone = HttpClient()
    login(on_lost_phone, world.colleague)
    login(client, world.admin)
    client.post(reverse("accounts:admin_user_action", args=[world.colleague.pk]), {"action": "reset_two_factor"})
    assert not TOTPDevice.objects.filter(user=world.colleague).exists()
    assert on_lost_phone.get(reverse("clients:caseload")).status_code == 302
    response = _sign_in_with_password(HttpClient(), world.colleague.email)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_setup"))


def test_admins_cannot_deactivate_themselves(client, world: World) -> None:
    login(client, world.admin)
    response = client.post(
        reverse("accounts:admin_user_action", args=[world.admin.pk]), {"action": "deactivate"}, follow=True
    )
    assert "You cannot deactivate your own account" in response.text
    world.admin.refresh_from_db()
    assert world.admin.is_active


@pytest.mark.parametrize("persona", ["link_worker", "manager", "supervisor", "commissioner", "referrer", "nobody"])
def test_only_site_admins_may_deactivate_or_reset(client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    response = client.post(reverse("accounts:admin_user_action", args=[world.colleague.pk]), {"action": "deactivate"})
    assert response.status_code == 403
    world.colleague.refresh_from_db()
    assert world.colleague.is_active


def test_signed_out_people_are_sent_to_sign_in_from_the_admin_action(client, world: World) -> None:
    response = client.post(reverse("accounts:admin_user_action", args=[world.colleague.pk]), {"action": "deactivate"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
