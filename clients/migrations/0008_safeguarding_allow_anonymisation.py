"""Safeguarding concerns and decisions stay append-only, with one exception: when a person's record is anonymised
(after the retention period, or erased on request) the free text that identifies them must go too. The
anonymisation service sets the transaction-local flag ``linkwork.anonymising`` and the trigger then lets an
UPDATE through if it changes nothing but the text (``detail`` of a concern, ``note`` of a decision): who raised
it, when, and what was decided stay as they were. DELETE is still refused, always."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION safeguarding_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('linkwork.anonymising', true) = 'on'
       AND to_jsonb(NEW) - 'detail' - 'note' = to_jsonb(OLD) - 'detail' - 'note' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'safeguarding records are append-only (% on % refused)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

REVERSE = """
CREATE OR REPLACE FUNCTION safeguarding_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'safeguarding records are append-only (% on % refused)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("clients", "0007_client_anonymised_at")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
