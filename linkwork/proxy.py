"""The client's address behind our own reverse proxies.

Behind the load balancer every request comes from the proxy's address, so the sign-in lock-out (django-axes), the
public forms' rate limits and the audit trail would all see one address. With LINKWORK_TRUSTED_PROXIES = N, the
address N entries from the right of X-Forwarded-For (the one our outermost proxy saw) becomes REMOTE_ADDR. Entries
further left were written by the client and are ignored, so they cannot be spoofed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def forwarded_client(remote_addr: str, forwarded_for: str, trusted_proxies: int) -> str:
    if trusted_proxies <= 0 or not forwarded_for:
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if len(hops) < trusted_proxies:
        return remote_addr  # not from our proxies (a direct request): keep the socket's address
    candidate = hops[-trusted_proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = settings.LINKWORK_TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted:
            request.META["REMOTE_ADDR"] = forwarded_client(
                request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""), self.trusted
            )
        return self.get_response(request)
