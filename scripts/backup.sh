#!/usr/bin/env bash
# Back up the Linkwork database: a pg_dump custom-format file, timestamped (UTC), readable only by its owner.
# See docs/backup.md for the schedule, retention, encryption and restore tests.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/backup.sh [DIRECTORY]

Dump the PostgreSQL database at $DATABASE_URL (pg_dump --format=custom) to
DIRECTORY/linkwork-YYYYMMDDTHHMMSSZ.dump and print the file's path.

  DIRECTORY      where to write (default: $LINKWORK_BACKUP_DIR, else ./backups); created if missing
  DATABASE_URL   postgres://user:password@host:5432/name (required)
  PG_BIN         folder holding pg_dump and pg_restore, if not the ones on PATH (their major version
                 must be the server's or newer)

The file is written under a temporary name and renamed only once pg_dump has finished and pg_restore can
read it back, so a file with the final name is always a complete dump. It is created with mode 600.
EOF
}

case "${1:-}" in
    -h | --help)
        usage
        exit 0
        ;;
    -*)
        echo "backup.sh: unknown option $1" >&2
        usage >&2
        exit 2
        ;;
esac
if [[ $# -gt 1 ]]; then
    usage >&2
    exit 2
fi
if [[ -z "${DATABASE_URL:-}" ]]; then
    echo "backup.sh: DATABASE_URL is not set" >&2
    usage >&2
    exit 2
fi

pg_bin="${PG_BIN:+${PG_BIN%/}/}"
directory="${1:-${LINKWORK_BACKUP_DIR:-backups}}"
umask 077
mkdir -p -- "$directory"

target="$directory/linkwork-$(date -u +%Y%m%dT%H%M%SZ).dump"
if [[ -e "$target" ]]; then
    echo "backup.sh: $target already exists; not overwriting it" >&2
    exit 1
fi
partial="$target.partial"
trap 'rm -f -- "$partial"' EXIT

"${pg_bin}pg_dump" --format=custom --compress=6 --no-password --file="$partial" --dbname="$DATABASE_URL"
# A dump that cannot be listed is no backup.
"${pg_bin}pg_restore" --list "$partial" >/dev/null
mv -- "$partial" "$target"
trap - EXIT

echo "backup.sh: wrote $target ($(wc -c <"$target") bytes)" >&2
echo "$target"
