"""Data versions: a counter per service, bumped by PostgreSQL whenever that service's data changes, so that
cached aggregates (commissioner reports, the supervisor dashboard) can be keyed on it and never go stale.

Triggers rather than Django signals, because signals miss bulk updates, ``QuerySet.update()``, COPY and raw SQL.
They are constraint triggers, deferred to commit, and bump each service once per transaction (one of 16 counters
per service, chosen by connection, so concurrent commits to one service seldom queue on the same row) (a transaction-local
setting remembers which it has bumped in the current statement, the COMMIT): the counter row is then locked only
for the instant of the commit, so a long transaction (the retention job, an import) never makes other writers of
the same service wait on it, and the new version becomes visible at the very moment the data does. A reader reads the version first and the data
after it, so what it caches under a version is never older than that version.
"""

from django.db import migrations, models

NIL = "00000000-0000-0000-0000-000000000000"

# Tables and how a row finds its service. Shared tables bump the nil scope, which every cached aggregate reads.
BY_SERVICE = ["clients_client", "clients_case", "referrals_referral"]
BY_CASE = [
    "clients_contact",
    "clients_connection",
    "clients_homevisit",
    "clients_caseassignment",
    "outcomes_assessment",
    "outcomes_systemuse",
]
BY_REFERRAL = ["referrals_referralevent"]
SHARED = [
    "accounts_organisation",
    "accounts_organisation_services",
    "community_taxonomyterm",
    "community_communityservice",
    "community_developmentneed",
    "community_postcodearea",
    "community_provider",
]
TABLES = BY_SERVICE + BY_CASE + BY_REFERRAL + SHARED

FUNCTIONS = f"""
CREATE FUNCTION linkwork_bump_version(target uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'linkwork.bumped_' || replace(target::text, '-', '');
    stamp text := statement_timestamp()::text;
BEGIN
    -- Once per scope per statement: deferred to commit, every event fires in the COMMIT statement.
    IF target IS NULL OR current_setting(flag, true) = stamp THEN
        RETURN;
    END IF;
    PERFORM set_config(flag, stamp, true);
    -- One of 16 counters per scope, by connection: commits from different connections rarely lock the same row,
    -- so they are not made to wait for each other's disk flush. Readers add the 16 up.
    INSERT INTO outcomes_dataversion (scope, shard, version, changed_at)
    VALUES (target, pg_backend_pid() % 16, 1, clock_timestamp())
    ON CONFLICT (scope, shard) DO UPDATE SET version = outcomes_dataversion.version + 1, changed_at = clock_timestamp();
END;
$$;

CREATE FUNCTION linkwork_version_by_service() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN PERFORM linkwork_bump_version(NEW.service_id); END IF;
    IF TG_OP <> 'INSERT' THEN PERFORM linkwork_bump_version(OLD.service_id); END IF;
    RETURN NULL;
END;
$$;

-- Rows that name their service through a parent row: TG_ARGV is the parent's table and the row's column for it.
CREATE FUNCTION linkwork_version_via_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lookup text := format('SELECT service_id FROM %I WHERE id = ($1).%I', TG_ARGV[0], TG_ARGV[1]);
    target uuid;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        EXECUTE lookup INTO target USING NEW;
        PERFORM linkwork_bump_version(target);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        EXECUTE lookup INTO target USING OLD;
        PERFORM linkwork_bump_version(target);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION linkwork_version_shared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM linkwork_bump_version('{NIL}'::uuid);
    RETURN NULL;
END;
$$;
"""


def _trigger(table: str, function: str, *args: str) -> str:
    arguments = ", ".join(f"'{a}'" for a in args)
    return (
        f"CREATE CONSTRAINT TRIGGER linkwork_data_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}({arguments});"
    )


FORWARD = "\n".join(
    [FUNCTIONS]
    + [_trigger(t, "linkwork_version_by_service") for t in BY_SERVICE]
    + [_trigger(t, "linkwork_version_via_parent", "clients_case", "case_id") for t in BY_CASE]
    + [_trigger(t, "linkwork_version_via_parent", "referrals_referral", "referral_id") for t in BY_REFERRAL]
    + [_trigger(t, "linkwork_version_shared") for t in SHARED]
)
REVERSE = "\n".join(
    [f"DROP TRIGGER IF EXISTS linkwork_data_version ON {t};" for t in TABLES]
    + [
        f"DROP FUNCTION IF EXISTS {f};"
        for f in (
            "linkwork_version_shared()",
            "linkwork_version_via_parent()",
            "linkwork_version_by_service()",
            "linkwork_bump_version(uuid)",
        )
    ]
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_session_generation"),
        ("clients", "0010_case_dashboard_indexes"),
        ("community", "0004_postcodearea"),
        ("outcomes", "0003_supervision_records"),
        ("referrals", "0004_performance_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scope", models.UUIDField()),
                ("shard", models.SmallIntegerField(default=0)),
                ("version", models.BigIntegerField(default=0)),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "default_permissions": (),
                "constraints": [models.UniqueConstraint(fields=("scope", "shard"), name="dataversion_scope_shard")],
            },
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
