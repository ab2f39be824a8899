"""Ways in: a logged-in referrer, an agency link, self-referral, and a referral typed in by the service."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from linkwork.accounts.access import role_required
from linkwork.accounts.models import Organisation, OrganisationKind, Role
from referrals import forms, selectors, services
from referrals.models import Channel, Referral

PUBLIC_RATE = "10/h"  # submissions per IP address per hour on the public forms


def _submitted(request: HttpRequest, referral: Referral, created: bool) -> None:
    if created:
        messages.success(request, f"Referral sent. The reference is {referral.reference}")
    else:
        messages.success(request, f"This referral was already sent. The reference is {referral.reference}")


@never_cache
@role_required(Role.REFERRER)
def new(request: HttpRequest) -> HttpResponse:
    organisations = selectors.referrer_organisations(user=request.user)
    if request.method != "POST" and not settings.DEBUG:  # the kept drawing: no form need be built
        # One masked token for the page: the form's, and the layout's sign-out form's ({% csrf_token %} reads
        # csrf_token from the context), instead of a second mask made for the layout.
        token = get_token(request)
        form_html = blank_referral_form_html(organisations, csrf_token=token)
        return render(request, "referrals/new.html", {"form_html": form_html, "csrf_token": token})
    form = forms.StaffReferralForm(request.POST or None, organisations=organisations)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/new.html", {"form": form}, status=400)
        organisation, service = form.cleaned_data["route"]
        referral, created = services.referral_submit(
            service=service,
            data=form.cleaned_data,
            channel=Channel.STAFF,
            idempotency_key=form.cleaned_data["idempotency_key"],
            referred_by=request.user,
            source_organisation=organisation,
        )
        _submitted(request, referral, created)
        return redirect("referrals:sent", referral.pk)
    return render(request, "referrals/new.html", {"form": form})


# The blank referral form, drawn once a process for each set of routes a referrer may have. Drawing its
# eighteen fields through the crispy pack was three fifths of the page's time (make bench, scale 10). Only two
# values in it differ between requests: the CSRF token and the idempotency key (new for every form, so a
# double submit is one referral). They are drawn as these placeholders and put in on each request.
CSRF_SLOT = "linkwork-csrf-slot-0c1b4e"
KEY_SLOT = uuid.UUID("00000000-0000-4000-8000-00000000feed")
BLANK_FORMS_KEPT = 256
_blank_forms: dict[tuple[Any, ...], str] = {}


def _routes(organisations: list[Organisation]) -> tuple[Any, ...]:
    """Everything about the referrer's organisations that the form is drawn from (StaffReferralForm)."""
    return tuple(
        (str(o.pk), o.kind, o.name, tuple((str(s.pk), s.name, s.is_active) for s in o.services.all()))
        for o in organisations
    )


def blank_referral_form_html(organisations: list[Organisation], *, csrf_token: str) -> SafeString:
    """The unbound form as HTML, from the process's drawings, with a new idempotency key. Not under DEBUG, where
    templates change without a restart: the view builds the form and the template draws it then."""
    routes = _routes(organisations)
    drawn = _blank_forms.get(routes)
    if drawn is None:
        blank = forms.StaffReferralForm(None, organisations=organisations, initial={"idempotency_key": KEY_SLOT})
        drawn = str(render_crispy_form(blank, context={"csrf_token": CSRF_SLOT}))
        if len(_blank_forms) >= BLANK_FORMS_KEPT:
            _blank_forms.clear()
        _blank_forms[routes] = drawn
    html = drawn.replace(CSRF_SLOT, escape(csrf_token)).replace(str(KEY_SLOT), str(uuid.uuid4()))
    return mark_safe(html)  # noqa: S308  # nosec B308 B703 - our templates, autoescaped; the token is escaped


@never_cache
@role_required(Role.LINK_WORKER, Role.SERVICE_MANAGER)
def record(request: HttpRequest) -> HttpResponse:
    """Service staff type in a referral that arrived by phone, letter or email."""
    staff_services = selectors.staff_services(user=request.user)
    form = forms.RecordedReferralForm(request.POST or None, services=staff_services)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/record.html", {"form": form}, status=400)
        referral, created = services.referral_submit(
            service=form.cleaned_data["service"],
            data=form.cleaned_data,
            channel=form.cleaned_data["channel"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            recorded_by=request.user,
        )
        _submitted(request, referral, created)
        return redirect("referrals:detail", referral.pk)
    return render(request, "referrals/record.html", {"form": form})


def _public_done(request: HttpRequest, referral: Referral) -> HttpResponse:
    # The confirmation shows the reference only: nothing the person typed is read back.
    request.session["public_referral_reference"] = referral.reference
    request.session["public_referral_service"] = referral.service.name
    return redirect("refer:thanks")


def _limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "referrals/public/limited.html", status=429)
    response["Retry-After"] = "3600"  # the limits are per hour
    return response


@never_cache
@ratelimit(key="ip", rate=PUBLIC_RATE, method="POST", block=False)
@ratelimit(key="ip", rate="120/h", method="GET", block=False)
def agency(request: HttpRequest, token: str) -> HttpResponse:
    """An agency without accounts refers through its link. No data is ever read back."""
    if getattr(request, "limited", False):
        return _limited(request)
    link = selectors.agency_link_by_token(services.hash_token(token))
    if link is None:
        return render(request, "referrals/public/link_inactive.html", status=404)
    form = forms.AgencyReferralForm(request.POST or None, agency_name=link.agency_name)
    context: dict[str, Any] = {"form": form, "service": link.service, "agency_name": link.agency_name}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/public/agency.html", context, status=400)
        referral, _ = services.referral_submit(
            service=link.service,
            data=form.cleaned_data,
            channel=Channel.AGENCY_LINK,
            idempotency_key=form.cleaned_data["idempotency_key"],
            source_organisation=link.agency,
        )
        services.agency_link_used(link=link)
        return _public_done(request, referral)
    return render(request, "referrals/public/agency.html", context)


def _self_referral_service(service_id: UUID) -> Organisation:
    service = Organisation.objects.filter(
        pk=service_id, kind=OrganisationKind.SERVICE, is_active=True, self_referral_enabled=True
    ).first()
    if service is None:
        raise Http404
    return service


@never_cache
@ratelimit(key="ip", rate=PUBLIC_RATE, method="POST", block=False)
def self_referral(request: HttpRequest, service_id: UUID) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request)
    service = _self_referral_service(service_id)
    form = forms.SelfReferralForm(request.POST or None)
    context = {"form": form, "service": service}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "referrals/public/self.html", context, status=400)
        referral, _ = services.referral_submit(
            service=service,
            data=form.cleaned_data,
            channel=Channel.SELF,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
        return _public_done(request, referral)
    return render(request, "referrals/public/self.html", context)


@never_cache
def thanks(request: HttpRequest) -> HttpResponse:
    reference = request.session.get("public_referral_reference")
    if not reference:
        return redirect("/")
    return render(
        request,
        "referrals/public/thanks.html",
        {"reference": reference, "service_name": request.session.get("public_referral_service", "")},
    )
