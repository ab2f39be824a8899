"""The Celery app. Tasks live in each domain app's tasks.py; the beat schedule is defined here, once."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkwork.settings")

app = Celery("linkwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Scheduled work: set-based and idempotent (see STYLE.md). Later issues add their jobs here.
app.conf.beat_schedule = {
    "purge-read-notifications": {
        "task": "linkwork.notifications.tasks.purge_read_notifications",
        "schedule": crontab(hour=3, minute=15),
    },
}
