"""Anonymise everyone past the retention period now (the nightly job does the same): ``--dry-run`` only counts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from outcomes import privacy


class Command(BaseCommand):
    help = (
        "Anonymise people whose cases are all closed and whose last contact was more than "
        "LINKWORK_RETENTION_YEARS ago. --dry-run counts them without changing anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count who would be anonymised; change nothing")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        years = privacy.retention_years()
        cutoff = privacy.retention_cutoff(years=years)
        result = privacy.retention_apply(dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Retention period: {years} years (last contact before {cutoff.isoformat()}).\n"
                f"Would anonymise {result.due} people, with {result.cases} cases, {result.referrals} referrals "
                f"and {result.contacts} contacts. Nothing was changed (dry run)."
            )
            return
        self.stdout.write(
            f"Retention period: {years} years. Anonymised {result.anonymised} of {result.due} people due."
        )
