"""Celery tasks for the directory (quality review reminders) arrive with the reminders issue."""
