"""Safeguarding concerns and decisions are append-only: a trigger refuses UPDATE and DELETE on them, even from
the application, so a decision is never lost or rewritten; a correction is a new row. TRUNCATE (table owner
only) stays possible so test databases can be flushed."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION safeguarding_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'safeguarding records are append-only (% on % refused)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER safeguarding_concern_append_only BEFORE UPDATE OR DELETE ON clients_safeguardingconcern
    FOR EACH ROW EXECUTE FUNCTION safeguarding_refuse_change();
CREATE TRIGGER safeguarding_decision_append_only BEFORE UPDATE OR DELETE ON clients_safeguardingdecision
    FOR EACH ROW EXECUTE FUNCTION safeguarding_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS safeguarding_decision_append_only ON clients_safeguardingdecision;
DROP TRIGGER IF EXISTS safeguarding_concern_append_only ON clients_safeguardingconcern;
DROP FUNCTION IF EXISTS safeguarding_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("clients", "0005_supervision_flags_and_safeguarding")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
