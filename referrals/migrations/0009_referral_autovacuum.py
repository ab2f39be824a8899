"""Autovacuum for the referrals table: after every 1,000 changed or deleted rows, not after a fifth of the table.

Every triage decision leaves the referral's old row version behind, in the table and in the waiting list's
indexes (``referral_queue_idx``, ``referral_new_nhs_idx``, ``referral_new_person_idx``), which the triage queue
reads until a vacuum removes them. PostgreSQL's default waits for 50 + 20% of the rows to be dead: at ICB scale
(270,000 referrals) about 54,000 decisions, months of triage, while the queue's statement slows with each
(docs/scaling.md: 1.4 ms clean, 2.6-3.2 ms with 2,500 dead versions).
"""

from django.db import migrations

SETTINGS = ("autovacuum_vacuum_threshold", "autovacuum_vacuum_scale_factor")


class Migration(migrations.Migration):
    dependencies = [("referrals", "0008_waiting_duplicate_indexes")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE referrals_referral SET (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0)",
            reverse_sql=f"ALTER TABLE referrals_referral RESET ({', '.join(SETTINGS)})",
        )
    ]
