from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from linkwork.notifications.models import Notification


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's own notifications, newest first. Every signed-in user has one."""
    notifications = list(Notification.objects.filter(user=request.user)[:100])
    return render(request, "notifications/inbox.html", {"notifications": notifications})


@require_POST
@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of the user's notifications read and follow its link (only ever to this site)."""
    notification = Notification.objects.filter(pk=notification_id, user=request.user).first()
    if notification is None:
        return redirect("notifications:inbox")
    Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)
    return redirect("notifications:inbox")
