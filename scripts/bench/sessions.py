"""Signed-in sessions for the benchmark's personas, made directly in the session store: the load generator never
goes through the sign-in form (django-axes would lock it out, and a one-time code cannot be typed by wrk).

A session holds what ``django.contrib.auth.login`` and django-otp's ``login`` would have put there: the user, the
backend, the password hash check, and the confirmed authenticator device that marks two-factor verification done.
Needs Django set up (``django_side`` or the tests)."""

from __future__ import annotations

import time
from typing import Any

BACKEND = "django.contrib.auth.backends.ModelBackend"
DEVICE_NAME = "Benchmark authenticator"


def verified_device(user: Any) -> Any:
    """The user's confirmed TOTP device (made if they have none): the one a verified session points at."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


def signed_in_session(user: Any) -> str:
    """A new session in which ``user`` is signed in and has given their two-factor code. Returns its key (the
    session cookie's value)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from linkwork.accounts.middleware import RENEWED_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
    session[RENEWED_KEY] = int(time.time())  # as sign-in stamps it (SessionRenewalMiddleware)
    session.create()
    return session.session_key


def renewed_now(session_key: str) -> None:
    """Mark the session renewed now, as someone active for the past minute would have it: their next requests
    do not write it (SessionRenewalMiddleware renews at most once a minute)."""
    from importlib import import_module

    from django.conf import settings

    from linkwork.accounts.middleware import RENEWED_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    session[RENEWED_KEY] = int(time.time())
    session.save()


def csrf_secret() -> str:
    """A CSRF secret for the cookie. Django accepts the unmasked secret as the form token too, so the same value
    goes in the cookie, the X-CSRFToken header and the csrfmiddlewaretoken field."""
    from django.middleware.csrf import _get_new_csrf_string

    return _get_new_csrf_string()
