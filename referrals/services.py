"""Writes to referrals: submission, triage and the loop back arrive with the referrals issue."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone


def next_reference(*, year: int | None = None) -> str:
    """A human reference like SP-2026-000123, from a PostgreSQL sequence (no gaps reused, no races)."""
    year = year or timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('referral_reference_seq')")
        (number,) = cursor.fetchone()
    return f"SP-{year}-{number:06d}"
