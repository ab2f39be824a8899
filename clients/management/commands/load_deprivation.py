"""Load a postcode → LSOA → IMD 2019 decile lookup (CSV) so clients' deprivation deciles can be derived.

The file is public (ONS postcode directory joined to the English Indices of Deprivation 2019). Columns, with a
header row: ``postcode``, ``lsoa_code``, ``imd_decile`` (1 = most deprived), and optionally ``latitude`` and
``longitude`` (used for "near a postcode" in the directory). Loading is all-or-nothing and
can be repeated: rows are replaced, then every client's decile is refreshed from its postcode.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from community.models import PostcodeArea

BATCH = 5000


class Command(BaseCommand):
    help = "Load a postcode to deprivation decile lookup (CSV: postcode, lsoa_code, imd_decile)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file", type=Path)

    @transaction.atomic
    def handle(self, *args: Any, csv_file: Path, **options: Any) -> None:
        if not csv_file.exists():
            raise CommandError(f"No such file: {csv_file}")
        rows: dict[str, PostcodeArea] = {}
        with csv_file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"postcode", "lsoa_code", "imd_decile"} - set(reader.fieldnames or [])
            if missing:
                raise CommandError(f"The file needs the columns: {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                try:
                    decile = int(row["imd_decile"])
                except ValueError as error:
                    raise CommandError(f"Line {line}: imd_decile must be a whole number from 1 to 10") from error
                if not 1 <= decile <= 10:
                    raise CommandError(f"Line {line}: imd_decile must be from 1 to 10")
                postcode = row["postcode"].replace(" ", "").upper()
                try:
                    lat = float(row["latitude"]) if row.get("latitude") else None
                    lng = float(row["longitude"]) if row.get("longitude") else None
                except ValueError as error:
                    raise CommandError(f"Line {line}: latitude and longitude must be numbers") from error
                rows[postcode] = PostcodeArea(
                    postcode=postcode,
                    lsoa_code=row["lsoa_code"].strip(),
                    imd_decile=decile,
                    latitude=lat,
                    longitude=lng,
                )
        PostcodeArea.objects.bulk_create(
            rows.values(),
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["postcode"],
            update_fields=["lsoa_code", "imd_decile", "latitude", "longitude"],
        )
        with connection.cursor() as cursor:  # one set-based UPDATE, however many clients
            cursor.execute(
                "UPDATE clients_client c SET lsoa_code = p.lsoa_code, deprivation_decile = p.imd_decile "
                "FROM community_postcodearea p WHERE replace(upper(c.postcode), ' ', '') = p.postcode"
            )
            updated = cursor.rowcount
        self.stdout.write(f"Loaded {len(rows)} postcodes; updated {updated} clients' deprivation decile.")
