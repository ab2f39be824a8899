"""Settings for a Celery worker started by a test that kills it mid-task (tests/test_reliability.py): the real
settings, with email written to files by a backend whose first send hangs and, if
LINKWORK_TEST_VISIBILITY_TIMEOUT is set, the broker handing a dead worker's task to another after that many
seconds instead of an hour."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from linkwork.settings import *  # noqa: F403
from linkwork.settings import CELERY_BROKER_TRANSPORT_OPTIONS

EMAIL_BACKEND = "tests.worker_settings.FirstSendHangsBackend"
if os.environ.get("LINKWORK_TEST_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": int(os.environ["LINKWORK_TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }


class FirstSendHangsBackend(BaseEmailBackend):
    """Appends the sending process's id to ``$LINKWORK_TEST_MAIL_DIR/attempts`` on every send; the first send
    then hangs (for the test to kill the worker mid-task), later ones write each email to a ``.eml`` file."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        folder = Path(os.environ["LINKWORK_TEST_MAIL_DIR"])
        attempts = folder / "attempts"
        with attempts.open("a") as out:
            out.write(f"{os.getpid()}\n")
        if len(attempts.read_text().split()) == 1:
            time.sleep(60)
        for message in messages:
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(messages)
