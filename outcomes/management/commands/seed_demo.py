from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outcomes import demo, demo_scale


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): one service, a user for every role, a directory and 60 clients. "
        "With --scale N: benchmark data for a fresh database instead (10 = an ICB: 10 services, 2.5 million "
        "contacts; N is that × N/10)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=None,
            help="Benchmark data at this scale (10 = 10 services, 200,000 clients, 2.5 million contacts; "
            "1 = one service, 20,000 clients; fractions make less). Only into a database without other data.",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (the data is deterministic)")
        parser.add_argument(
            "--force", action="store_true", help="With --scale: add benchmark data even if the database has other data"
        )

    def handle(self, *args: Any, scale: float | None, seed: int, force: bool, **options: Any) -> None:
        if scale is None:
            created = demo.seed_demo(seed=seed)
            self.stdout.write("Demo data loaded." if created else "Demo data already present: nothing changed.")
            self.stdout.write(demo.describe_logins())
            return
        if not scale > 0:
            raise CommandError("--scale must be more than 0 (10 is the ICB benchmark)")
        try:
            report = demo_scale.seed_scale(scale=scale, seed=seed, force=force, out=self.stdout.write)
        except demo_scale.ScaleRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Benchmark data loaded in {report.seconds['total']:.1f} s.")
        self.stdout.write(f"Logins (password for all: {demo.DEMO_PASSWORD})")
        for role, email in report.logins:
            self.stdout.write(f"  {role:<16} {email}")
