from __future__ import annotations

import datetime as dt
import re

import pytest
from django.middleware.csrf import get_token
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse

from linkwork.links import object_url
from linkwork.notifications import views
from linkwork.notifications.models import Notification, Reminder
from tests.conftest import PERSONAS, World, login


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_signed_in_has_an_inbox(client, world: World, persona: str) -> None:
    login(client, getattr(world, persona))
    assert client.get(reverse("notifications:inbox")).status_code == 200


def test_the_header_counts_unread_notifications_and_opening_one_marks_it_read(client, world: World) -> None:
    note = Notification.objects.create(
        user=world.referrer, title="Referral SP-2026-000001 (A.B.) accepted", link=reverse("referrals:mine")
    )
    Notification.objects.create(user=world.link_worker, title="Someone else's")
    login(client, world.referrer)
    page = client.get(reverse("notifications:inbox")).text
    assert "Referral SP-2026-000001 (A.B.) accepted" in page
    assert "Someone else" not in page
    assert '1<span class="nhsuk-u-visually-hidden"> unread</span>' in page
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == reverse("referrals:mine")
    note.refresh_from_db()
    assert note.read_at is not None
    assert "unread</span>" not in client.get(reverse("notifications:inbox")).text


def test_another_users_notification_cannot_be_opened(client, world: World) -> None:
    note = Notification.objects.create(user=world.link_worker, title="Private", link="/caseload/")
    login(client, world.referrer)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == reverse("notifications:inbox")
    note.refresh_from_db()
    assert note.read_at is None


def test_an_off_site_link_is_never_followed(client, world: World) -> None:
    note = Notification.objects.create(user=world.referrer, title="x", link="https://evil.example/")
    login(client, world.referrer)
    assert client.post(reverse("notifications:open", args=[note.pk]))["Location"] == reverse("notifications:inbox")


def test_opening_needs_a_post_and_a_sign_in(client, world: World) -> None:
    note = Notification.objects.create(user=world.referrer, title="x")
    assert client.post(reverse("notifications:open", args=[note.pk])).status_code == 302
    login(client, world.referrer)
    assert client.get(reverse("notifications:open", args=[note.pk])).status_code == 405


def test_notifications_are_shown_twenty_at_a_time_newest_first(client, world: World) -> None:
    Notification.objects.bulk_create(
        Notification(user=world.referrer, title=f"Notification number {n:02d}") for n in range(1, 46)
    )
    Notification.objects.create(user=world.link_worker, title="Someone else's")
    login(client, world.referrer)
    first = client.get(reverse("notifications:inbox")).text
    assert "Notification number 45" in first
    assert "Notification number 26" in first
    assert "Notification number 25" not in first
    assert "Showing 1 to 20 of 45, newest first." in first
    assert 'aria-label="Pages of notifications"' in first
    last = client.get(reverse("notifications:inbox") + "?page=3").text
    assert "Showing 41 to 45 of 45, newest first." in last
    assert "Notification number 05" in last
    assert "Notification number 06" not in last
    assert "Someone else" not in last
    # A page that is not a number gives the first; one past the end, the last.
    assert "Showing 1 to 20 of 45" in client.get(reverse("notifications:inbox") + "?page=x").text
    assert "Showing 41 to 45 of 45" in client.get(reverse("notifications:inbox") + "?page=9").text


def test_a_few_notifications_need_no_pages(client, world: World) -> None:
    Notification.objects.create(user=world.referrer, title="Only one")
    login(client, world.referrer)
    page = client.get(reverse("notifications:inbox")).text
    assert "Only one" in page
    assert "Pages of notifications" not in page
    assert "Showing" not in page


# What the reminders page's template loops wrote before its lines were written in Python (views.*_rows_html):
# kept here to show the lines are the same markup, values and escaping.
REMINDERS_LOOP = Template(
    """{% for r in items %}
    <tr role="row" class="nhsuk-table__row">
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Due </span>{{ r.due_on|date:"j F Y" }}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Reminder </span>
        {% if r.urgent %}<strong class="nhsuk-tag nhsuk-tag--red">Urgent</strong> {% endif %}<a href="{{ r.link }}">{{ r.title }}</a>
        {% if r.detail %}<br><span class="nhsuk-body-s">{{ r.detail }}</span>{% endif %}
      </td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">About </span>{{ r.subject }}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Actions </span>
        <form method="post" action="{% url 'notifications:done' r.pk %}" novalidate>
          {% csrf_token %}
          <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-2" type="submit">Done<span class="nhsuk-u-visually-hidden">: {{ r.title }}, {{ r.subject }}</span></button>
        </form>
        <a href="{% url 'notifications:snooze' r.pk %}">Snooze<span class="nhsuk-u-visually-hidden">: {{ r.title }}, {{ r.subject }}</span></a>
      </td>
    </tr>
    {% endfor %}"""  # noqa: E501
)
NOTIFICATIONS_LOOP = Template(
    """{% for n in notifications %}
  <li>
    <form method="post" action="{% url 'notifications:open' n.pk %}" novalidate>
      {% csrf_token %}
      {% if not n.read_at %}<strong class="nhsuk-tag nhsuk-tag--blue">New</strong> {% endif %}
      <button class="lw-link-button" type="submit">{{ n.title }}</button>
      <span class="nhsuk-body-s"> {{ n.created_at|date:"j M Y" }} at {{ n.created_at|time:"H:i" }}</span>
    </form>
  </li>
  {% endfor %}"""
)


def _same_markup(html: str) -> str:
    """Whitespace collapsed, and the masked CSRF token (new at every draw) blanked."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def test_the_pages_lines_are_what_the_template_loops_wrote() -> None:
    request = RequestFactory().get("/notifications/")
    hostile = "<script>alert('x')</script> & \"quoted\""
    reminders = [
        Reminder(
            pk=7,
            due_on=dt.date(2026, 8, 1),
            title="Home visit not checked out",
            subject="A.K. SP-1",
            link="/caseload/cases/x/?a=1&b=2",
            urgent=True,
            detail=hostile,
        ),
        Reminder(pk=1234567, due_on=dt.date(2026, 12, 25), title=hostile, subject=hostile, link="/x/"),
    ]
    late = dt.datetime(2026, 7, 31, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 August in the UK
    notifications = [
        Notification(pk=5, title=hostile, created_at=late),
        Notification(pk=6, title="Referral accepted", created_at=late, read_at=late),
    ]
    csrf = views._csrf_input(get_token(request))
    old = REMINDERS_LOOP.render(RequestContext(request, {"items": reminders}))
    new = views.reminder_rows_html(reminders, csrf=csrf)
    assert _same_markup(new) == _same_markup(old)
    assert "<script>" not in new and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in new
    assert "1 August 2026" in new and "/notifications/reminders/1234567/snooze/" in new
    old = NOTIFICATIONS_LOOP.render(RequestContext(request, {"notifications": notifications}))
    new = views.notification_rows_html(notifications, csrf=csrf)
    assert _same_markup(new) == _same_markup(old)
    assert "1 Aug 2026 at 00:30" in new
    assert new.count("New</strong>") == 1


def test_links_to_pages_of_integer_ids_are_made_like_reverse() -> None:
    for pk in (1, 42, 918_273_645_546_373, 10**12):
        assert object_url("notifications:done", pk) == reverse("notifications:done", args=[pk])
