#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a new (or empty) database on the DATABASE_URL server.
# It never restores over data: restore beside the live database, check it, then point DATABASE_URL at it.
# See docs/backup.md.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/restore.sh [--create] DUMP_FILE DATABASE_NAME

Restore DUMP_FILE (made by scripts/backup.sh) into the database DATABASE_NAME on the server that
$DATABASE_URL points at, with pg_restore --no-owner in a single transaction: it all restores, or
nothing does.

  --create       create DATABASE_NAME first (needs the CREATEDB privilege); without it the database
                 must already exist and be empty
  DATABASE_NAME  letters, digits and underscores; refused if it already holds tables
  DATABASE_URL   postgres://user:password@host:5432/name (required): the server and the account
  PG_BIN         folder holding pg_restore and psql, if not the ones on PATH

Afterwards: run `manage.py migrate` with DATABASE_URL pointing at the restored database (it applies
anything newer than the backup), check it, then switch the application over.
EOF
}

create=0
positional=()
for arg in "$@"; do
    case "$arg" in
        -h | --help)
            usage
            exit 0
            ;;
        --create) create=1 ;;
        -*)
            echo "restore.sh: unknown option $arg" >&2
            usage >&2
            exit 2
            ;;
        *) positional+=("$arg") ;;
    esac
done
if [[ ${#positional[@]} -ne 2 ]]; then
    usage >&2
    exit 2
fi
dump="${positional[0]}"
name="${positional[1]}"

if [[ -z "${DATABASE_URL:-}" ]]; then
    echo "restore.sh: DATABASE_URL is not set" >&2
    exit 2
fi
if [[ ! -r "$dump" ]]; then
    echo "restore.sh: cannot read $dump" >&2
    exit 2
fi
# The name goes into CREATE DATABASE, so only plain identifiers.
if [[ ! "$name" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]]; then
    echo "restore.sh: $name is not a plain database name (letters, digits and underscores)" >&2
    exit 2
fi
# postgres://user:password@host:port/database?options -> the same server, another database
if [[ ! "$DATABASE_URL" =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]]; then
    echo "restore.sh: DATABASE_URL is not a postgres:// URL" >&2
    exit 2
fi
server="${BASH_REMATCH[1]}"
options="${BASH_REMATCH[4]}"
target_url="$server/$name$options"

pg_bin="${PG_BIN:+${PG_BIN%/}/}"
psql=("${pg_bin}psql" --no-psqlrc --no-password --quiet --tuples-only --no-align -v ON_ERROR_STOP=1)

"${pg_bin}pg_restore" --list "$dump" >/dev/null || {
    echo "restore.sh: $dump is not a readable pg_dump custom-format file" >&2
    exit 1
}

if [[ $create -eq 1 ]]; then
    "${psql[@]}" --dbname="$DATABASE_URL" -c "CREATE DATABASE \"$name\""
    echo "restore.sh: created database $name" >&2
fi

tables=$("${psql[@]}" --dbname="$target_url" -c \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\_%'")
if [[ "$tables" -ne 0 ]]; then
    echo "restore.sh: database $name already holds $tables tables; restore into a new one (--create)" >&2
    exit 1
fi

"${pg_bin}pg_restore" --no-owner --no-privileges --single-transaction --exit-on-error --no-password \
    --dbname="$target_url" "$dump"

restored=$("${psql[@]}" --dbname="$target_url" -c \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'")
echo "restore.sh: restored $dump into $name ($restored tables)" >&2
