"""Sends people who must use two-factor authentication to enrol, or to give a code, before anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from linkwork.accounts.two_factor import has_confirmed_device, two_factor_required

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


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_URL_NAMES:
            return None
        if not two_factor_required(user):
            return None
        target = "accounts:two_factor_verify" if has_confirmed_device(user) else "accounts:two_factor_setup"
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
