"""``User.access_version``: a number PostgreSQL changes whenever what the user may do could have changed, so a
process may keep the user's memberships (``linkwork.accounts.access``) until it does, instead of reading them
on every request.

Triggers, so no write can forget it (the admin site, a bulk update, a cascade): a membership added, changed or
removed changes its user's version; an organisation changed (deactivated, renamed, its settings), or a link
between a practice, agency or commissioner and a service made or removed, changes the version of everyone in
the organisations concerned and in those linked to them. Versions come from a sequence, never reused, so one a
rolled-back transaction took is never seen again; and a save of a user loaded before a change cannot put an
older version back (``linkwork_access_keep``)."""

from django.db import migrations, models

SQL = """
CREATE SEQUENCE linkwork_access_version;

CREATE FUNCTION linkwork_access_bump(users uuid[]) RETURNS void LANGUAGE sql AS $$
    UPDATE accounts_user SET access_version = nextval('linkwork_access_version') WHERE id = ANY(users)
$$;

-- Everyone in these organisations, and in the organisations linked to them either way.
CREATE FUNCTION linkwork_access_members(organisations uuid[]) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT m.user_id), '{}')
    FROM accounts_membership m
    WHERE m.organisation_id = ANY(organisations)
       OR m.organisation_id IN (SELECT l.from_organisation_id FROM accounts_organisation_services l
                                WHERE l.to_organisation_id = ANY(organisations))
       OR m.organisation_id IN (SELECT l.to_organisation_id FROM accounts_organisation_services l
                                WHERE l.from_organisation_id = ANY(organisations))
$$;

CREATE FUNCTION linkwork_access_on_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM linkwork_access_bump(ARRAY[NEW.user_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM linkwork_access_bump(ARRAY[OLD.user_id]);
    ELSE
        PERFORM linkwork_access_bump(ARRAY[OLD.user_id, NEW.user_id]);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION linkwork_access_on_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM linkwork_access_bump(linkwork_access_members(ARRAY[OLD.id]));
    RETURN NULL;
END;
$$;

CREATE FUNCTION linkwork_access_on_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM linkwork_access_bump(linkwork_access_members(ARRAY[OLD.from_organisation_id, OLD.to_organisation_id]));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM linkwork_access_bump(linkwork_access_members(ARRAY[NEW.from_organisation_id, NEW.to_organisation_id]));
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION linkwork_access_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.access_version < OLD.access_version THEN
        NEW.access_version := OLD.access_version;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER linkwork_access AFTER INSERT OR UPDATE OR DELETE ON accounts_membership
    FOR EACH ROW EXECUTE FUNCTION linkwork_access_on_membership();
CREATE TRIGGER linkwork_access AFTER UPDATE ON accounts_organisation
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION linkwork_access_on_organisation();
CREATE TRIGGER linkwork_access AFTER INSERT OR UPDATE OR DELETE ON accounts_organisation_services
    FOR EACH ROW EXECUTE FUNCTION linkwork_access_on_link();
CREATE TRIGGER linkwork_access_keep BEFORE UPDATE OF access_version ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION linkwork_access_keep();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS linkwork_access_keep ON accounts_user;
DROP TRIGGER IF EXISTS linkwork_access ON accounts_organisation_services;
DROP TRIGGER IF EXISTS linkwork_access ON accounts_organisation;
DROP TRIGGER IF EXISTS linkwork_access ON accounts_membership;
DROP FUNCTION IF EXISTS linkwork_access_keep();
DROP FUNCTION IF EXISTS linkwork_access_on_link();
DROP FUNCTION IF EXISTS linkwork_access_on_organisation();
DROP FUNCTION IF EXISTS linkwork_access_on_membership();
DROP FUNCTION IF EXISTS linkwork_access_members(uuid[]);
DROP FUNCTION IF EXISTS linkwork_access_bump(uuid[]);
DROP SEQUENCE IF EXISTS linkwork_access_version;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_clients"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="access_version",
            field=models.BigIntegerField(
                default=0,
                editable=False,
                help_text="Changed by PostgreSQL whenever the user's memberships or organisations change "
                "(migration accounts 0005): what a process keeps of the user's access is keyed on it.",
            ),
        ),
        migrations.RunSQL(SQL, REVERSE_SQL),
    ]
