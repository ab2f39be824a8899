"""Celery tasks for cases arrive with the reminders issue."""
