"""Referral references (SP-2026-000123) are numbered from a sequence: unique without a race."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE referral_reference_seq START 1", "DROP SEQUENCE IF EXISTS referral_reference_seq"
        )
    ]
