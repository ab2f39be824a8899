"""Celery tasks for accounts: a thin interface over services."""

from __future__ import annotations

from celery import shared_task

from linkwork.accounts import services


@shared_task(time_limit=300)
def deactivate_unused_accounts() -> int:
    return len(services.users_deactivate_unused())


@shared_task(time_limit=600)
def clear_expired_sessions() -> None:
    """Sessions live in PostgreSQL; expired ones are deleted nightly so the table does not only grow."""
    from django.core.management import call_command

    call_command("clearsessions")
