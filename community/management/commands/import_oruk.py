"""Import an Open Referral UK 3.0 feed into a social prescribing service's directory and print what it did.

    manage.py import_oruk --service "Riverside Social Prescribing" --url https://example.org/api/oruk
    manage.py import_oruk --service 3f1c…-uuid --file feed.json [--source NAME] [--skip-invalid]

A file may hold an ORUK page, a single service or a list of services. ``--source`` names the feed; importing with
the same service and source again refreshes the same rows. Without ``--skip-invalid`` one invalid item means
nothing is imported; the command then exits with an error after printing each item's reason.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from community.oruk import importer
from linkwork.accounts.models import Organisation, OrganisationKind


def _service(name_or_id: str) -> Organisation:
    services = Organisation.objects.filter(kind=OrganisationKind.SERVICE)
    try:
        matches = list(services.filter(pk=uuid.UUID(name_or_id)))
    except ValueError:
        matches = list(services.filter(name__iexact=name_or_id.strip())[:2])
    if len(matches) != 1:
        problem = "No" if not matches else "More than one"
        raise CommandError(f"{problem} social prescribing service is called {name_or_id!r}")
    return matches[0]


class Command(BaseCommand):
    help = "Import an Open Referral UK 3.0 feed (a saved file or an API base URL) into a service's directory"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--service", required=True, help="The social prescribing service's name or id")
        feed = parser.add_mutually_exclusive_group(required=True)
        feed.add_argument("--file", type=Path, help="A JSON file: an ORUK page, a service or a list of services")
        feed.add_argument("--url", help="The base URL of an ORUK 3.0 API (the part before /services)")
        parser.add_argument("--source", help="What names this feed (default: the URL, or the file's full path)")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid items, skip the rest")

    def handle(self, *args: Any, **options: Any) -> None:
        service = _service(options["service"])
        pages: list[dict[str, Any]] | str
        if options["file"]:
            path: Path = options["file"]
            try:
                pages = importer.pages_from_document(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, importer.FeedError) as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
            source = options["source"] or str(path.resolve())
        else:
            pages = options["url"]
            source = options["source"] or options["url"]
        try:
            report = importer.import_feed(
                service=service, source=source, pages=pages, skip_invalid=options["skip_invalid"]
            )
        except (importer.FeedError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        if not report.committed:
            raise CommandError("Nothing was imported: fix the items above, or use --skip-invalid to leave them out.")
