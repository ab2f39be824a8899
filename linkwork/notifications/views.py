"""Notifications and reminders: everyone signed in has their own; service managers set their service's rules."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from linkwork.notifications import forms, selectors, services
from linkwork.notifications.models import Notification
from linkwork.pagination import PageWithTotal, paginate


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's reminders (urgent first, then what is due, then what is snoozed) and notifications. Reminders
    whose condition has been met since the last scan are cleared first, so nothing done is still listed."""
    services.reminders_recheck(user=request.user)
    today = timezone.localdate()
    per_page = selectors.NOTIFICATIONS_PER_PAGE
    notifications = PageWithTotal(
        selectors.notifications_for(user=request.user), page=request.GET.get("page"), per_page=per_page
    )
    pagination = paginate(request, notifications, per_page=per_page)
    return render(
        request,
        "notifications/inbox.html",
        {
            "reminders": selectors.reminders_for(user=request.user, today=today),
            "notifications": pagination.items,
            "pagination": pagination,
            "managed_services": selectors.managed_services(user=request.user),
            "preference": selectors.preference_for(user=request.user),
        },
    )


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


@require_POST
@login_required
def reminder_done(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = selectors.reminder_for_user(request.user, reminder_id)
    services.reminder_mark_done(reminder=reminder, by=request.user)
    messages.success(request, f"Marked as done: {reminder.title} ({reminder.subject})")
    return redirect("notifications:inbox")


@login_required
def reminder_snooze(request: HttpRequest, reminder_id: int) -> HttpResponse:
    reminder = selectors.reminder_for_user(request.user, reminder_id)
    form = forms.SnoozeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reminder_snooze(reminder=reminder, by=request.user, until=form.cleaned_data["until"])
        except ValidationError as error:
            form.add_error("until" if hasattr(error, "error_dict") else None, error)
        else:
            until = form.cleaned_data["until"]
            messages.success(request, f"Snoozed until {until.day} {until:%B %Y}: {reminder.title}")
            return redirect("notifications:inbox")
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/snooze.html", {"reminder": reminder, "form": form}, status=status)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Whether to get the daily digest email. Urgent alerts are always emailed."""
    current = selectors.preference_for(user=request.user)
    # An unticked box posts nothing, so bind on POST even when the data is empty.
    data = request.POST if request.method == "POST" else None
    form = forms.PreferenceForm(data, initial={"email_digest": current.email_digest})
    if request.method == "POST" and form.is_valid():
        services.preference_save(user=request.user, email_digest=form.cleaned_data["email_digest"])
        messages.success(
            request,
            "You will get a daily email of your reminders"
            if form.cleaned_data["email_digest"]
            else "You will not get the daily email. Urgent alerts are still emailed",
        )
        return redirect("notifications:inbox")
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


@login_required
def reminder_settings(request: HttpRequest, service_id: UUID) -> HttpResponse:
    """A service's reminder rules, for its service managers (404 outside the service, 403 for other roles)."""
    service = selectors.service_for_manager(request.user, service_id)
    rules = selectors.settings_for(service=service)
    initial = forms.ReminderSettingsForm.initial_for(service, rules)
    data = request.POST if request.method == "POST" else None
    form = forms.ReminderSettingsForm(data, initial=initial, service=service)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reminder_settings_save(
                service=service,
                by=request.user,
                triage_alert_working_days=data["triage_alert_working_days"],
                **{f: data[f] for f in forms.FIELDS},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Reminder settings saved for {service.name}")
            return redirect("notifications:inbox")
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/settings.html", {"service": service, "form": form}, status=status)
