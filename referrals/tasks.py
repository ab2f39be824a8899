"""Celery tasks for referrals arrive with the reminders issue."""
