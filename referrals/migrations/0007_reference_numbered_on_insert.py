"""A referral's reference is made by PostgreSQL as the row goes in, and returned by the INSERT: one statement
fewer per referral than fetching the number first (make bench's referral POST, issue #10)."""

from django.db import migrations, models

# The same reference services.next_reference() makes: SP-<year in England>-<number, at least six digits>.
CREATE = """
CREATE FUNCTION referral_next_reference() RETURNS varchar
LANGUAGE sql VOLATILE AS $$
  SELECT format('SP-%s-%s', to_char(now() AT TIME ZONE 'Europe/London', 'YYYY'), lpad(n::text, greatest(6, length(n::text)), '0'))
  FROM nextval('referral_reference_seq') AS n
$$
"""
DROP = "DROP FUNCTION IF EXISTS referral_next_reference()"


class Migration(migrations.Migration):
    dependencies = [("referrals", "0006_referral_channel_api")]
    operations = [
        migrations.RunSQL(CREATE, DROP),
        migrations.AlterField(
            model_name="referral",
            name="reference",
            field=models.CharField(
                db_default=models.Func(function="referral_next_reference", output_field=models.CharField()),
                max_length=20,
                unique=True,
            ),
        ),
    ]
