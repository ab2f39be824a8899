"""Celery tasks for referrals: a thin interface over services, taking ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from linkwork.notifications import services as notification_services
from referrals.models import Referral

MESSAGES = {
    "accepted": "has been accepted",
    "declined": "has been declined",
    "closed": "has been closed: an outcome summary is ready",
}


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def notify_referrer(referral_id: str, kind: str) -> None:
    """Tell the referrer what happened, in the app and by email. No clinical detail leaves the system:
    the person's initials and the reference only, and a link to sign in."""
    referral = Referral.objects.select_related("referred_by").get(pk=referral_id)
    initials = f"{referral.given_name[:1]}.{referral.family_name[:1]}.".upper()
    title = f"Referral {referral.reference} ({initials}) {MESSAGES[kind]}"
    user = referral.referred_by
    if user is not None and user.is_active:
        link = reverse("referrals:sent", args=[referral.pk])
        notification_services.notification_create(user=user, title=title, link=link)
        recipient = user.email
    else:
        recipient = referral.referrer_email
    if not recipient:
        return
    body = f"{title}.\n\n"
    if user is not None:
        body += f"Sign in to see the details: {settings.SITE_URL}{reverse('referrals:sent', args=[referral.pk])}\n"
    else:
        body += "Contact the social prescribing service, quoting the reference, if you need to know more.\n"
    send_mail(subject=title, message=body, from_email=None, recipient_list=[recipient])
