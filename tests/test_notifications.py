from __future__ import annotations

import pytest
from django.urls import reverse

from linkwork.notifications.models import Notification
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
