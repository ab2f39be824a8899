"""Two-factor authentication with django-otp: a TOTP device (an authenticator app) and single-use backup codes.

Who must use it: everyone who can see identifiable data (link workers, referrers, supervisors, service managers,
site admins and Django staff). Commissioners see aggregates only and are not asked.
"""

from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linkwork.accounts.access import access_for
from linkwork.accounts.models import Role

IDENTIFIABLE_DATA_ROLES = {Role.LINK_WORKER, Role.REFERRER, Role.SUPERVISOR, Role.SERVICE_MANAGER, Role.SITE_ADMIN}
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def two_factor_required(user: Any) -> bool:
    if not settings.LINKWORK_TWO_FACTOR_REQUIRED or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or access_for(user).has(*IDENTIFIABLE_DATA_ROLES))


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_app_device(user: Any) -> TOTPDevice:
    """The unconfirmed device shown while enrolling; the same secret on every reload until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG (no external image, no inline style: CSP stays strict)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR code for your authenticator app")


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for people who type it instead of scanning."""
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def confirm_app_device(device: TOTPDevice) -> list[str]:
    """Confirm the device, drop any other app devices, and issue a fresh set of backup codes."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_backup_codes(device.user)


@transaction.atomic
def new_backup_codes(user: Any) -> list[str]:
    """Replace the user's backup codes; the codes are shown once and only kept to be checked."""
    backup, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    backup.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return codes


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def reset_two_factor(user: Any) -> None:
    """Lost phone: remove every device; the user enrols again at their next sign-in, signed out everywhere."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.sign_out_everywhere()


def verify_code(user: Any, code: str) -> Any:
    """The device that accepts ``code`` (the app's 6 digits or a backup code), or None. Checked device by device
    so django-otp's throttling applies to the app."""
    code = "".join(code.split())
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(code):
                return device
        for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code.lower()):
                return device
    return None


def app_device_throttled(user: Any) -> bool:
    """Three wrong codes in a row: django-otp now makes each attempt wait (1, 2, 4... seconds)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device is not None and device.throttling_failure_count >= 3 and not device.verify_is_allowed()[0]
