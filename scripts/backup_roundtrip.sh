#!/usr/bin/env bash
# make backup-roundtrip: prove a pg_dump backup restores to the same data.
#
# Seeds a fresh PostgreSQL database (migrate, load_unit, seed_demo --force, a few awkward
# essays), backs it up with `pg_dump -Fc` exactly as README "Backups" says, restores that
# file into a second fresh database with pg_restore, and compares
# `manage.py backup_fingerprint` of the two: rows and a digest for every table and the
# SHA-256 of every essay must be identical. Both databases are dropped at the end.
#
#   ROUNDTRIP_SERVER_URL  PostgreSQL to use (default postgres://postgres@127.0.0.1:5432);
#                         the databases are crisis_roundtrip_{src,dst}_<pid>.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_pg.sh
. scripts/_pg.sh

PY=${VENV:-.venv}/bin/python
SERVER_URL=${ROUNDTRIP_SERVER_URL:-postgres://postgres@127.0.0.1:5432}
SRC_URL="$SERVER_URL/crisis_roundtrip_src_$$"
DST_URL="$SERVER_URL/crisis_roundtrip_dst_$$"

say() { printf '[backup-roundtrip] %s\n' "$*"; }
die() {
  printf '[backup-roundtrip] FAIL: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/crisis-roundtrip.XXXXXX")
cleanup() {
  local status=$?
  set +e
  pg_drop_db "$SRC_URL"
  pg_drop_db "$DST_URL"
  rm -rf "$work"
  [ "$status" -eq 0 ] || say "failed; both databases dropped"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PY" ] || die "$PY not found: run make install-dev first"
pg_require_server "$SERVER_URL/postgres" || die "start PostgreSQL or set ROUNDTRIP_SERVER_URL"

secret_key=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')
# Production settings, with only the database changing between the two runs.
run_with_db() {
  local url=$1
  shift
  env -i "PATH=$PATH" "HOME=$HOME" LANG=C.UTF-8 DEBUG=False "SECRET_KEY=$secret_key" \
    "DATABASE_URL=$url" "VAR_DIR=$work/var" "$@"
}
manage() {
  local url=$1
  shift
  run_with_db "$url" "$PY" manage.py "$@"
}
quietly() {
  local log="$work/step.log"
  "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
}

say "seeding $(pg_db_name "$SRC_URL")"
pg_reset_db "$SRC_URL"
pg_reset_db "$DST_URL"
quietly manage "$SRC_URL" migrate --noinput || die "migrate"
quietly manage "$SRC_URL" load_unit || die "load_unit"
quietly manage "$SRC_URL" load_comment_bank || die "load_comment_bank"
quietly manage "$SRC_URL" seed_demo --force || die "seed_demo"
run_with_db "$SRC_URL" "$PY" scripts/backup_sample_essays.py | sed 's/^/[backup-roundtrip] /' \
  || die "sample essays"

say "backup: pg_dump -Fc"
pg_dump -Fc --file="$work/backup.dump" "$SRC_URL" || die "pg_dump"
say "restore into $(pg_db_name "$DST_URL"): pg_restore"
pg_restore --exit-on-error --no-owner --dbname="$DST_URL" "$work/backup.dump" || die "pg_restore"

manage "$SRC_URL" backup_fingerprint >"$work/source.txt" || die "fingerprint of the source"
manage "$DST_URL" backup_fingerprint >"$work/restored.txt" || die "fingerprint of the restore"
manage "$DST_URL" migrate --check >/dev/null || die "the restored database has unapplied migrations"

summary=$(tail -n 1 "$work/source.txt")
grep -Eq 'rows=[1-9]' <<<"$summary" || die "the source database is empty: $summary"
if ! diff -u "$work/source.txt" "$work/restored.txt" >"$work/diff.txt"; then
  head -n 40 "$work/diff.txt" >&2
  die "the restored database differs from the source"
fi
say "ok: identical fingerprints ($summary, $(stat -c %s "$work/backup.dump") byte backup)"
