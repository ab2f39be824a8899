"""Nothing is lost when Redis is down or a worker dies mid-task, and nothing happens twice.

The referrer's notices go through an outbox (``ReferrerNotice``, written with the decision); real Celery workers
are killed in the middle of sending one, and the notice is still sent, exactly once.
"""

from __future__ import annotations

import os
import signal
import smtplib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from linkwork.celery import app
from linkwork.notifications.models import Notification
from referrals import services, tasks
from referrals.models import ReferralStatus, ReferrerNotice
from tests import factories
from tests.conftest import World, login
from tests.workers import broker_unreachable, worker_process

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the filesystem broker (no REDIS_URL) does not redeliver lost tasks"
)


def test_tasks_are_acknowledged_after_they_finish_and_requeued_if_their_worker_dies() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1  # a dying worker holds at most one task besides its own
    entry = app.conf.beat_schedule["send-referrer-notices"]
    assert entry["task"] == tasks.send_pending_referrer_notices.name


# --- The broker is down -------------------------------------------------------------------------------------
def test_a_decision_made_while_redis_is_down_reaches_the_referrer_later(
    client, world: World, django_capture_on_commit_callbacks, caplog
) -> None:
    referral = factories.NewReferralFactory(service=world.service, referred_by=world.referrer)
    login(client, world.link_worker)
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:accept", args=[referral.pk]), {"assignee": str(world.colleague.pk)})

    assert response.status_code == 302, "the link worker's decision must not fail because Redis is down"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert "Could not queue referrals.tasks.send_referrer_notice" in caplog.text
    notice = ReferrerNotice.objects.get(referral=referral)
    assert notice.kind == ReferrerNotice.Kind.ACCEPTED and notice.sent_at is None
    assert mail.outbox == [] and not Notification.objects.filter(user=world.referrer).exists()

    # Redis is back; the sweep (every five minutes) finds the notice nobody sent.
    assert tasks.send_pending_referrer_notices() == 1
    assert [m.to for m in mail.outbox] == [[world.referrer.email]]
    assert f"Referral {referral.reference}" in mail.outbox[0].subject
    assert Notification.objects.filter(user=world.referrer).count() == 1
    notice.refresh_from_db()
    assert notice.sent_at is not None

    # Run again, and the queued task turning up late, do nothing more.
    assert tasks.send_pending_referrer_notices() == 0
    assert tasks.send_referrer_notice(notice.pk) is False
    assert len(mail.outbox) == 1 and Notification.objects.filter(user=world.referrer).count() == 1


def test_a_failed_email_leaves_the_notice_for_the_next_sweep_and_tells_the_referrer_once(
    world: World, monkeypatch
) -> None:
    referral = factories.NewReferralFactory(service=world.service, referred_by=world.referrer)
    services.referral_decline(referral=referral, by=world.link_worker, reason="not_eligible")
    notice = ReferrerNotice.objects.get(referral=referral)

    def relay_down(**kwargs):
        raise smtplib.SMTPServerDisconnected("relay went away")

    monkeypatch.setattr(services, "send_mail", relay_down)
    assert tasks.send_pending_referrer_notices() == 0
    notice.refresh_from_db()
    assert notice.sent_at is None and notice.failed_attempts == 1
    # the in-app notification went with the failed email: no half-told referrer
    assert not Notification.objects.filter(user=world.referrer).exists()

    monkeypatch.undo()
    assert tasks.send_pending_referrer_notices() == 1
    assert len(mail.outbox) == 1 and "has been declined" in mail.outbox[0].subject
    assert Notification.objects.filter(user=world.referrer).count() == 1


def test_a_notice_that_keeps_failing_stops_being_retried(world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service, referred_by=world.referrer)
    services.referral_decline(referral=referral, by=world.link_worker, reason="duplicate")
    ReferrerNotice.objects.filter(referral=referral).update(failed_attempts=services.NOTICE_MAX_FAILURES)
    assert tasks.send_pending_referrer_notices() == 0
    assert mail.outbox == []


def test_no_notice_is_written_if_the_decision_fails(world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service, referred_by=world.referrer)
    services.referral_decline(referral=referral, by=world.link_worker, reason="duplicate")
    with pytest.raises(services.TransitionError):
        services.referral_accept(referral=referral, by=world.link_worker, assignee=world.colleague)
    assert list(ReferrerNotice.objects.values_list("kind", flat=True)) == [ReferrerNotice.Kind.DECLINED]


# --- A worker dies mid-task ---------------------------------------------------------------------------------
def _wait_for(condition: Callable[[], bool], seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s; worker log:\n{log.read_text()}")


def _attempts(folder: Path) -> list[int]:
    path = folder / "attempts"
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def _unsent_notice(world: World) -> ReferrerNotice:
    referral = factories.AcceptedReferralFactory(service=world.service, referred_by=world.referrer)
    # written as a decision would write it, but queued by the test, to the test's worker
    return ReferrerNotice.objects.create(referral=referral, kind=ReferrerNotice.Kind.ACCEPTED)


def _assert_told_exactly_once(world: World, notice: ReferrerNotice, folder: Path) -> None:
    notice.refresh_from_db()
    assert notice.sent_at is not None
    emails = list(folder.glob("*.eml"))
    assert len(emails) == 1
    assert f"To: {world.referrer.email}" in emails[0].read_text()
    assert Notification.objects.filter(user=world.referrer).count() == 1
    # and the sweep, or a duplicate delivery, does nothing more
    assert tasks.send_pending_referrer_notices() == 0
    assert len(list(folder.glob("*.eml"))) == 1


@needs_redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_whose_worker_process_is_killed_is_run_again_and_sends_once(world: World, tmp_path: Path) -> None:
    """The out-of-memory killer takes the pool process running the task: the message goes back on the queue
    (task_reject_on_worker_lost) and the next pool process sends the notice."""
    folder, log = tmp_path / "mail", tmp_path / "worker.log"
    folder.mkdir()
    notice = _unsent_notice(world)
    queue = f"test-kill-{notice.pk}-{os.getpid()}"
    settings_env = {"DJANGO_SETTINGS_MODULE": "tests.worker_settings", "LINKWORK_TEST_MAIL_DIR": str(folder)}
    with worker_process(log, queue, pool="prefork", **settings_env) as worker:
        tasks.send_referrer_notice.apply_async(args=[notice.pk], queue=queue)
        _wait_for(lambda: len(_attempts(folder)) == 1, 60, "the task did not start", log)
        child = _attempts(folder)[0]
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)  # mid-send, inside the transaction that would mark it sent

        _wait_for(lambda: any(folder.glob("*.eml")), 60, "the task was not run again", log)
        assert worker.poll() is None, "the worker itself carries on"
    assert len(_attempts(folder)) == 2
    _assert_told_exactly_once(world, notice, folder)


@needs_redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_whose_whole_worker_dies_is_run_by_a_new_worker_and_sends_once(world: World, tmp_path: Path) -> None:
    """The worker's container is killed outright, pool process and all: the task was never acknowledged
    (task_acks_late), so the broker hands it to the next worker after the visibility timeout (two seconds here,
    an hour in production)."""
    folder, log = tmp_path / "mail", tmp_path / "worker.log"
    folder.mkdir()
    notice = _unsent_notice(world)
    queue = f"test-die-{notice.pk}-{os.getpid()}"
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "LINKWORK_TEST_MAIL_DIR": str(folder),
        "LINKWORK_TEST_VISIBILITY_TIMEOUT": "2",
    }
    with worker_process(log, queue, pool="prefork", **settings_env) as first:
        tasks.send_referrer_notice.apply_async(args=[notice.pk], queue=queue)
        _wait_for(lambda: len(_attempts(folder)) == 1, 60, "the task did not start", log)
        first.kill()
        os.kill(_attempts(folder)[0], signal.SIGKILL)
        first.wait(timeout=20)
    notice.refresh_from_db()
    assert notice.sent_at is None and not list(folder.glob("*.eml"))

    with worker_process(log, queue, pool="prefork", **settings_env):
        _wait_for(lambda: any(folder.glob("*.eml")), 60, "no new worker ran the task", log)
    assert len(_attempts(folder)) == 2
    _assert_told_exactly_once(world, notice, folder)
