from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from linkwork.accounts import forms, two_factor
from linkwork.accounts.access import access_for, role_required
from linkwork.accounts.middleware import renew_session
from linkwork.accounts.models import Membership, Organisation, Role, User
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/profile.html",
        {
            "memberships": access_for(user).memberships,
            "two_factor_on": two_factor.has_confirmed_device(user),
            "two_factor_required": two_factor.two_factor_required(user),
            "backup_codes_left": two_factor.backup_codes_left(user),
        },
    )


@role_required(Role.SITE_ADMIN)
def admin_home(request: HttpRequest) -> HttpResponse:
    """Site admins: every user with their roles, every organisation."""
    users = User.objects.order_by("full_name").prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("organisation"))
    )
    organisations = Organisation.objects.order_by("kind", "name")
    return render(request, "accounts/admin_home.html", {"users": users, "organisations": organisations})


@login_required
def keepalive(request: HttpRequest) -> HttpResponse:
    """Renews the idle timer now (not only once a minute, as other pages do); tells nothing."""
    renew_session(request)
    return HttpResponse(status=204)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in: add Linkwork to an authenticator app, prove it with a code, take the backup codes away."""
    user = request.user
    if two_factor.has_confirmed_device(user) and not request.user.is_verified():
        return redirect(f"{reverse('accounts:two_factor_verify')}?next={_next_url(request)}")
    device = two_factor.pending_app_device(user)
    form = forms.TwoFactorSetupForm(request.POST or None, initial={"next": _next_url(request)})
    if request.method == "POST" and form.is_valid():
        code = "".join(form.cleaned_data["code"].split())
        if device.verify_is_allowed()[0] and device.verify_token(code):
            codes = two_factor.confirm_app_device(device)
            otp_login(request, device)
            audit_record(request=request, action=Action.UPDATE, obj=user, summary="Turned on two-factor authentication")
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error(
            "code", "That code did not match. Check the time on your phone is right and enter the newest code"
        )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_for_typing(device),
            "next": _next_url(request),
            "replacing": two_factor.has_confirmed_device(user),
        },
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not two_factor.has_confirmed_device(user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?next={_next_url(request)}")
    if user.is_verified():
        return redirect(_next_url(request))
    form = forms.TwoFactorCodeForm(request.POST or None, initial={"next": _next_url(request)})
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            used_backup = device.name == two_factor.BACKUP_DEVICE_NAME
            audit_record(
                request=request,
                action=Action.LOGIN,
                obj=user,
                summary="Gave a backup code" if used_backup else "Gave a two-factor code",
            )
            if used_backup:
                left = two_factor.backup_codes_left(user)
                messages.warning(
                    request,
                    f"You used a backup code. You have {left} left: get new ones from Your account if you are "
                    "running out.",
                )
            return redirect(_next_url(request))
        audit_record(request=request, action=Action.LOGIN_FAILED, obj=user, summary="Wrong two-factor code")
        if two_factor.app_device_throttled(user):
            form.add_error("code", "Too many wrong codes. Wait a minute, then enter the newest code from your app")
        else:
            form.add_error("code", "That code did not work. Enter the newest code from your app, or a backup code")
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes replace the old ones; shown once."""
    codes = two_factor.new_backup_codes(request.user)
    audit_record(request=request, action=Action.UPDATE, obj=request.user, summary="Made new backup codes")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("accounts:profile")})


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session this user has, on every device, this one included."""
    user = request.user
    user.sign_out_everywhere()
    audit_record(request=request, action=Action.LOGOUT, obj=user, summary="Signed out everywhere")
    logout(request)
    messages.success(request, "You have been signed out on every device.")
    return redirect("accounts:login")


@role_required(Role.SITE_ADMIN)
@require_POST
def admin_user_action(request: HttpRequest, user_id: UUID) -> HttpResponse:
    """Site admins: deactivate or reactivate an account, or reset its two-factor authentication."""
    target = get_object_or_404(User, pk=user_id)
    action = request.POST.get("action")
    if target == request.user and action == "deactivate":
        messages.error(request, "You cannot deactivate your own account")
        return redirect("accounts:admin_home")
    if action == "deactivate":
        target.is_active = False
        target.save(update_fields=["is_active"])
        target.sign_out_everywhere()
        summary = "Deactivated the account"
    elif action == "reactivate":
        target.is_active = True
        target.save(update_fields=["is_active"])
        summary = "Reactivated the account"
    elif action == "reset_two_factor":
        two_factor.reset_two_factor(target)
        summary = "Reset two-factor authentication"
    else:
        messages.error(request, "Choose an action")
        return redirect("accounts:admin_home")
    audit_record(request=request, action=Action.UPDATE, obj=target, summary=summary)
    messages.success(request, f"{summary}: {target.full_name}")
    return redirect("accounts:admin_home")
