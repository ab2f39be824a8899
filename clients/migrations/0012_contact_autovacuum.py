"""Autovacuum for the contacts table: after every 2,000 new contacts, not after a fifth of the table.

The caseload, the case page and the dashboard count contacts from ``contact_case_cover_idx`` alone (an
index-only scan), which skips the table only for pages the visibility map marks all-visible, and only vacuum
marks them. PostgreSQL's default starts vacuuming a table for inserts after 1,000 + 20% of its rows: at ICB scale
(2.5 million contacts, about 250,000 a year) that is about two years of contacts. Every open case's contacts are
newer than that, so each would be read from the table as well as the index (make bench data, EXPLAIN ANALYZE,
docs/scaling.md). A vacuum after inserts alone visits only the pages not yet all-visible, so a small fixed
threshold costs little.
"""

from django.db import migrations

SETTINGS = ("autovacuum_vacuum_insert_threshold", "autovacuum_vacuum_insert_scale_factor")


class Migration(migrations.Migration):
    dependencies = [("clients", "0011_contact_covering_index")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE clients_contact SET "
            "(autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0)",
            reverse_sql=f"ALTER TABLE clients_contact RESET ({', '.join(SETTINGS)})",
        )
    ]
