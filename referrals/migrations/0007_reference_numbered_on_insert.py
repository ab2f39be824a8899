"""A referral's reference is made by PostgreSQL as the row goes in, and returned by the INSERT: one statement
fewer per referral than fetching the number first (make bench's referral POST, issue #10)."""

from django.db import migrations, models

# SP-<year>-<number, at least six digits>: the year in England now, unless one is given (the demo data numbers
# referrals received in past years). services.next_reference() calls it too, so the format lives here alone.
CREATE = """
CREATE FUNCTION referral_next_reference(year integer DEFAULT NULL) RETURNS varchar
LANGUAGE sql VOLATILE AS $$
  SELECT format(
    'SP-%s-%s',
    COALESCE(year, extract(year FROM now() AT TIME ZONE 'Europe/London')::integer),
    lpad(n::text, greatest(6, length(n::text)), '0')
  )
  FROM nextval('referral_reference_seq') AS n
$$
"""
DROP = "DROP FUNCTION IF EXISTS referral_next_reference(integer)"


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
