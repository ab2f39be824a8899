"""The urgent home visit alert end to end: a real Celery worker, on the real broker (Redis when REDIS_URL is set,
the filesystem broker otherwise), writing to the test database and sending email into files."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from clients.models import HomeVisit
from linkwork.celery import app
from linkwork.notifications.models import Reminder, Rule
from outcomes import tasks
from tests import factories
from tests.conftest import World
from tests.workers import celery_worker


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A worker on its own queue; its email goes to files in a temporary folder (locmem cannot cross processes)."""
    outbox = tmp_path / "mail"
    outbox.mkdir()
    # environ drops one leading slash of a filemail:// path
    with celery_worker(tmp_path / "worker.log", EMAIL_URL=f"filemail:///{outbox}") as queue:
        yield queue, outbox


def test_the_home_visit_alert_is_scheduled_every_minute() -> None:
    entry = app.conf.beat_schedule["home-visit-alerts"]
    assert entry["task"] == tasks.alert_overdue_home_visits.name
    assert entry["schedule"] == 60.0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_alerts_the_manager_and_supervisor_of_a_visit_not_checked_out(
    world: World, worker: tuple[str, Path]
) -> None:
    queue, outbox = worker
    referral = factories.AcceptedReferralFactory(
        service=world.service, given_name="Jane", family_name="Smith", case__link_worker=world.link_worker
    )
    checked_in = timezone.now() - dt.timedelta(minutes=90)  # expected 60 minutes, 15 minutes' grace: overdue
    HomeVisit.objects.create(
        case=referral.case,
        link_worker=world.link_worker,
        planned_start=checked_in,
        expected_minutes=60,
        checked_in_at=checked_in,
    )
    queued = time.monotonic()
    tasks.alert_overdue_home_visits.apply_async(queue=queue)
    deadline = queued + 60
    while time.monotonic() < deadline:
        if Reminder.objects.filter(rule=Rule.HOME_VISIT_OVERDUE, emailed_at__isnull=False).count() == 2:
            break
        time.sleep(0.25)
    alerts = Reminder.objects.filter(rule=Rule.HOME_VISIT_OVERDUE, urgent=True)
    assert {a.recipient for a in alerts} == {world.manager, world.supervisor}
    assert all(a.emailed_at is not None for a in alerts), "not emailed within a minute of being queued"
    emails = "\n".join(p.read_text() for p in outbox.iterdir())
    assert emails.count("Subject: URGENT: Home visit not checked out: Amira Khan") == 2
    assert f"J.S. {referral.reference}" in emails
    assert "Jane" not in emails and "Smith" not in emails
    for person in (world.manager, world.supervisor):
        assert f"To: {person.email}" in emails
