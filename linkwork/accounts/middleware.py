"""Sends people who must use two-factor authentication to enrol, or to give a code, before anything else; and
renews the idle timeout without writing the session on every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import router
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from django_otp.models import Device

from linkwork.accounts.two_factor import has_confirmed_device, two_factor_required
from linkwork.by_pk import fetch_by_pk

# Pages a signed-in but not yet verified user may still reach.
OPEN_URL_NAMES = {
    "accounts:two_factor_setup",
    "accounts:two_factor_verify",
    "accounts:logout",
    "accounts:login",
    "accounts:keepalive",
    "healthz",
    "accessibility",
    "privacy",
}


def _unwrap_user(request: HttpRequest) -> None:
    """Hand the view the user itself, now read in, instead of the lazy wrappers around it (django-otp's around
    Django's). A page reads ``request.user`` dozens of times (access checks, the layout, audit), each read through
    both wrappers. Function calls a request (make bench, in-process): a signed-in page with no data of its own
    4,912 → 4,692, the referral form 5,323 → 5,059, the directory search 15,481 → 15,203."""
    user = request.user
    while isinstance(user, LazyObject) and user._wrapped is not empty:  # django-otp's wrapper around Django's
        user = user._wrapped
    request.user = user


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            _unwrap_user(request)
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_URL_NAMES:
            return None
        if not two_factor_required(user):
            return None
        target = "accounts:two_factor_verify" if has_confirmed_device(user) else "accounts:two_factor_setup"
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


RENEWED_KEY = "_linkwork_renewed"
RENEW_EVERY_SECONDS = 60


def renew_session(request: HttpRequest) -> None:
    """Push the session's expiry (``SESSION_COOKIE_AGE``, the idle timeout) out from now: it is saved, and its
    expiry date set afresh, at the end of the request."""
    request.session[RENEWED_KEY] = int(time.time())


def stamp_renewal_at_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing in saves a new session anyway: stamp it, so the next minute's requests do not write it again."""
    if request is not None and hasattr(request, "session"):
        renew_session(request)


class SessionRenewalMiddleware:
    """The idle timeout without a session write on every request.

    ``SESSION_SAVE_EVERY_REQUEST`` wrote the session row on every page (the benchmark counted an UPDATE on each).
    Here an existing session is renewed only when its last renewal is a minute old or more, so someone active
    is signed out 29 to 30 minutes after their last request, never sooner, and at most one write a minute is
    made for them. A request without a session (signed out) never makes one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.session_key is not None:
            renewed = session.get(RENEWED_KEY)
            if not isinstance(renewed, int) or time.time() - renewed >= RENEW_EVERY_SECONDS:
                renew_session(request)
        return self.get_response(request)


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's middleware, reading the session's device with its SQL compiled once a process
    (linkwork.by_pk) instead of through ``Device.from_persistent_id``'s ``.first()`` on every request. Whether
    the device is the user's and confirmed is still decided by django-otp (``_finalize_device``)."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _, pk = self._normalize_persistent_id(persistent_id).rpartition("/")
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            return None
        if not issubclass(model, Device):
            return None
        try:
            return fetch_by_pk(model, pk, using=router.db_for_read(model))
        except (model.DoesNotExist, ValueError, ValidationError):
            return None
