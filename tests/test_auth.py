"""Signing in and out, changing and resetting a password."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.urls import reverse

from linkwork.audit.models import Action, AuditEvent
from tests.conftest import World, current_totp, login, totp_device
from tests.factories import PASSWORD


def test_it_signs_a_link_worker_in_and_takes_them_to_their_caseload(client, world: World) -> None:
    device = totp_device(world.link_worker)
    response = client.post(
        reverse("accounts:login"), {"username": "LW@example.nhs.uk", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_verify"))
    response = client.post(response.redirect_chain[-1][0], {"code": current_totp(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("clients:caseload")
    assert "My caseload" in response.text
    assert AuditEvent.objects.filter(actor=world.link_worker, action=Action.LOGIN).exists()


def test_a_wrong_password_gets_a_clear_message_and_keeps_the_email(client, world: World) -> None:
    response = client.post(reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": "nope"})
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Enter a correct email address and password" in response.text
    assert 'value="lw@example.nhs.uk"' in response.text
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == 1


def test_empty_fields_are_named_in_the_error_summary(client, db) -> None:
    response = client.post(reverse("accounts:login"), {"username": "", "password": ""})
    assert "Enter your email address" in response.text
    assert "Enter your password" in response.text
    assert 'href="#id_username"' in response.text


def test_a_deactivated_user_cannot_sign_in(client, world: World) -> None:
    world.link_worker.is_active = False
    world.link_worker.save()
    response = client.post(reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(client, world: World) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("clients:caseload")).status_code == 302


def test_sessions_are_read_from_redis_and_kept_in_the_database_and_signing_out_ends_both(
    client, world: World, settings
) -> None:
    """cached_db sessions (the engine whenever Redis is configured, test_settings): a page reads the session from
    the cache, not PostgreSQL; emptying the cache signs no one out (the database still has it); a session taken
    by someone else stops working the moment its owner signs out, from the cache and the database alike."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    from django.contrib.sessions.models import Session
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    login(client, world.link_worker)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("accounts:profile")).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    assert Session.objects.filter(session_key=key).exists()
    cache.clear()
    assert client.get(reverse("accounts:profile")).status_code == 200
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get(reverse("accounts:profile")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert stolen.get(reverse("accounts:profile")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_the_session_id_changes_when_signing_in(client, world: World) -> None:
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": PASSWORD})
    assert client.session.session_key != before


def test_password_reset_sends_a_link_that_sets_a_new_password(client, world: World) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "lw@example.nhs.uk"}, follow=True)
    assert "Check your email" in response.text
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Set a new password" in form_page.text
    new = "a-much-longer-passphrase-2026"
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True)
    assert "Your new password is set" in response.text
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": new})
    assert "_auth_user_id" in client.session


def test_password_reset_does_not_reveal_whether_an_account_exists(client, db) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "stranger@example.com"}, follow=True)
    assert "Check your email" in response.text
    assert len(mail.outbox) == 0


def test_weak_new_passwords_are_refused_with_reasons(client, world: World) -> None:
    login(client, world.link_worker)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    assert "This password is too short" in response.text
    assert "This password is too common" in response.text


def test_password_change_works(client, world: World) -> None:
    login(client, world.link_worker)
    new = "a-much-longer-passphrase-2026"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Your password has been changed" in response.text


def _fail(client, email: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        client.post(reverse("accounts:login"), {"username": email, "password": "wrong"}, REMOTE_ADDR=ip)


def test_repeated_failures_lock_the_account_with_a_clear_message(client, world: World, settings) -> None:
    _fail(client, "lw@example.nhs.uk", settings.AXES_FAILURE_LIMIT)
    response = client.post(
        reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert "_auth_user_id" not in client.session
    # another account from the same place is not locked by this one
    ok = client.post(
        reverse("accounts:login"),
        {"username": "colleague@example.nhs.uk", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.3",
    )
    assert ok.status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, world: World, settings) -> None:
    import datetime as dt

    import time_machine
    from django.utils import timezone

    _fail(client, "lw@example.nhs.uk", settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = client.post(
            reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
        )
    assert response.status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(client, world: World, settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"), {"username": f"guess{n}@example.nhs.uk", "password": "x"}, REMOTE_ADDR="10.6.6.6"
        )
    response = client.post(
        reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": PASSWORD}, REMOTE_ADDR="10.6.6.6"
    )
    assert response.status_code == 429


def test_sign_in_does_not_reveal_which_emails_have_accounts(client, world: World) -> None:
    known = client.post(reverse("accounts:login"), {"username": "lw@example.nhs.uk", "password": "wrong"})
    unknown = client.post(reverse("accounts:login"), {"username": "nobody-here@example.com", "password": "wrong"})
    assert known.status_code == unknown.status_code == 200
    assert "Enter a correct email address and password" in known.text
    assert "Enter a correct email address and password" in unknown.text


def test_keepalive_renews_the_idle_session_and_needs_a_sign_in(client, world: World) -> None:
    assert client.get(reverse("accounts:keepalive")).status_code == 302
    login(client, world.link_worker)
    response = client.get(reverse("accounts:keepalive"))
    assert response.status_code == 204 and response.content == b""
    assert client.session.get_expiry_age() == 30 * 60


def _expiry(client) -> dt.datetime:
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_the_idle_timeout_is_renewed_at_most_once_a_minute_and_still_signs_people_out(client, world: World) -> None:
    import time_machine

    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        login(client, world.link_worker)
        home = reverse("notifications:inbox")
        assert client.get(home).status_code == 200
        first = _expiry(client)
        clock.shift(dt.timedelta(seconds=30))
        assert client.get(home).status_code == 200
        assert _expiry(client) == first  # no write within the minute
        clock.shift(dt.timedelta(seconds=31))
        assert client.get(home).status_code == 200
        renewed = _expiry(client)
        assert renewed == start + dt.timedelta(seconds=61) + dt.timedelta(minutes=30)
        # Keepalive renews at once, whatever the minute.
        clock.shift(dt.timedelta(seconds=5))
        assert client.get(reverse("accounts:keepalive")).status_code == 204
        assert _expiry(client) == renewed + dt.timedelta(seconds=5)
        # 30 idle minutes later the session has gone.
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get(home)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_a_signed_out_visit_makes_no_session(client, db) -> None:
    from django.contrib.sessions.models import Session

    client.get(reverse("accounts:login"))
    client.get(reverse("accessibility"))
    assert Session.objects.count() == 0


def test_the_sign_in_page_explains_a_timed_out_session(client, db) -> None:
    page = client.get(reverse("accounts:login") + "?timed_out=1").text
    assert "You were signed out because you had not done anything for 30 minutes" in page
