"""Cross-cutting pages: the role-aware home redirect, health check and error pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from linkwork.accounts.access import access_for
from linkwork.accounts.models import Role
from linkwork.celery import app as celery_app

# The first role a user holds, in this order, decides where "home" is.
HOME_BY_ROLE: list[tuple[str, str]] = [
    (Role.LINK_WORKER, "clients:caseload"),
    (Role.SUPERVISOR, "outcomes:dashboard"),
    (Role.SERVICE_MANAGER, "outcomes:dashboard"),
    (Role.REFERRER, "referrals:mine"),
    (Role.COMMISSIONER, "outcomes:reports"),
    (Role.SITE_ADMIN, "accounts:admin_home"),
]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    for role, url_name in HOME_BY_ROLE:
        if access.has(role):
            return redirect(url_name)
    return render(request, "no_role.html", status=403)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker status for load balancers and monitoring. Reveals no data."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "down"
        checks["database"] = "unavailable"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception:  # noqa: BLE001
        checks["broker"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token (cookies blocked, or a page left open across a sign-in). The
    reason is for the logs, not the page."""
    return render(request, "csrf_failure.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the database may be the thing that failed.
    return HttpResponse(loader.get_template("500.html").render({"service_name": "Linkwork"}), status=500)
