"""Notifications and reminders: everyone signed in has their own; service managers set their service's rules."""

from __future__ import annotations

from html import escape
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from linkwork.links import object_url
from linkwork.notifications import forms, selectors, services
from linkwork.notifications.models import Notification, Reminder
from linkwork.pagination import PageWithTotal, paginate

# The page's lines, written here rather than by template loops: a ``{% url %}`` pair, a ``{% csrf_token %}`` and
# a few filters per line were most of the page's rendering (make bench). Every value is escaped (``html.escape``
# is what Django's ``escape`` does); the links are reversed once a process (linkwork.links).
REMINDER_ROW = """    <tr role="row" class="nhsuk-table__row">
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Due </span>{due}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Reminder </span>
        {urgent}<a href="{link}">{title}</a>{detail}
      </td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">About </span>{subject}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Actions </span>
        <form method="post" action="{done}" novalidate>
          {csrf}
          <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-2" type="submit">Done<span class="nhsuk-u-visually-hidden">: {title}, {subject}</span></button>
        </form>
        <a href="{snooze}">Snooze<span class="nhsuk-u-visually-hidden">: {title}, {subject}</span></a>
      </td>
    </tr>
"""  # noqa: E501
NOTIFICATION_ROW = """  <li>
    <form method="post" action="{open}" novalidate>
      {csrf}
      {new}<button class="lw-link-button" type="submit">{title}</button>
      <span class="nhsuk-body-s"> {day} at {time}</span>
    </form>
  </li>
"""


def _csrf_input(token: str) -> str:
    """The hidden field ``{% csrf_token %}`` writes; one masked token serves every form on the page."""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


def reminder_rows_html(reminders: list[Reminder], *, csrf: str) -> SafeString:
    """The lines of a table of reminders: due date, title (linking to what it is about) with its detail, whom it
    is about, and the buttons to mark it done or snooze it."""
    lines = []
    for r in reminders:
        title, subject = escape(r.title), escape(r.subject)
        lines.append(
            REMINDER_ROW.format(
                due=f"{r.due_on.day} {r.due_on:%B %Y}",
                urgent='<strong class="nhsuk-tag nhsuk-tag--red">Urgent</strong> ' if r.urgent else "",
                link=escape(r.link),
                title=title,
                detail=f'\n        <br><span class="nhsuk-body-s">{escape(r.detail)}</span>' if r.detail else "",
                subject=subject,
                done=object_url("notifications:done", r.pk),
                snooze=object_url("notifications:snooze", r.pk),
                csrf=csrf,
            )
        )
    return mark_safe("".join(lines))  # noqa: S308  # nosec B308 B703 - every value escaped above


def notification_rows_html(notifications: list[Notification], *, csrf: str) -> SafeString:
    """The list of notifications: each a button that opens it (and marks it read), new ones tagged, with when
    it came (UK time)."""
    lines = []
    for n in notifications:
        when = timezone.localtime(n.created_at)
        lines.append(
            NOTIFICATION_ROW.format(
                open=object_url("notifications:open", n.pk),
                csrf=csrf,
                new="" if n.read_at else '<strong class="nhsuk-tag nhsuk-tag--blue">New</strong> ',
                title=escape(n.title),
                day=f"{when.day} {when:%b %Y}",
                time=f"{when:%H:%M}",
            )
        )
    return mark_safe("".join(lines))  # noqa: S308  # nosec B308 B703 - every value escaped above


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
    reminders = selectors.reminders_for(user=request.user, today=today)
    token = get_token(request)  # the page's one mask, the layout's sign-out form's too (csrf_token below)
    csrf = _csrf_input(token)
    return render(
        request,
        "notifications/inbox.html",
        {
            "reminders": reminders,
            "urgent_html": reminder_rows_html(reminders.urgent, csrf=csrf),
            "due_html": reminder_rows_html(reminders.due, csrf=csrf),
            "notifications": pagination.items,
            "notifications_html": notification_rows_html(pagination.items, csrf=csrf),
            "pagination": pagination,
            "managed_services": selectors.managed_services(user=request.user),
            "preference": selectors.preference_for(user=request.user),
            "csrf_token": token,
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
