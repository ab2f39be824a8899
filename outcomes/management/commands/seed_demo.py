from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from outcomes import demo


class Command(BaseCommand):
    help = "Load demo data (idempotent): one service, a user for every role, a directory and 60 clients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=int, default=1, help="Multiply the number of clients (60 × N)")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (the data is deterministic)")

    def handle(self, *args: Any, scale: int, seed: int, **options: Any) -> None:
        if scale < 1:
            self.stderr.write("--scale must be 1 or more")
            raise SystemExit(2)
        created = demo.seed_demo(scale=scale, seed=seed)
        self.stdout.write("Demo data loaded." if created else "Demo data already present: nothing changed.")
        self.stdout.write(demo.describe_logins())
