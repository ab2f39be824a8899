from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from linkwork.accounts import tasks
from linkwork.notifications.models import Notification
from tests.conftest import World


def test_accounts_unused_for_90_days_are_deactivated_and_managers_told(world: World) -> None:
    now = timezone.now()
    world.link_worker.last_login = now - dt.timedelta(days=91)
    world.link_worker.save()
    world.colleague.last_login = now - dt.timedelta(days=89)
    world.colleague.save()
    world.referrer.last_login = now - dt.timedelta(days=120)  # a practice referrer of our service
    world.referrer.save()
    with time_machine.travel(now):
        assert tasks.deactivate_unused_accounts() >= 2
        assert tasks.deactivate_unused_accounts() == 0  # idempotent
    for user in (world.link_worker, world.referrer, world.colleague):
        user.refresh_from_db()
    assert not world.link_worker.is_active and not world.referrer.is_active
    assert world.colleague.is_active
    titles = set(Notification.objects.filter(user=world.manager).values_list("title", flat=True))
    assert "Amira Khan's account was deactivated after 90 days unused" in titles
    assert "Sally Brown's account was deactivated after 90 days unused" in titles


def test_new_accounts_get_90_days_before_they_count_as_unused(world: World) -> None:
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        tasks.deactivate_unused_accounts()
    world.nobody.refresh_from_db()
    assert world.nobody.is_active
    with time_machine.travel(timezone.now() + dt.timedelta(days=91)):
        tasks.deactivate_unused_accounts()
    world.nobody.refresh_from_db()
    assert not world.nobody.is_active
