#!/usr/bin/env bash
# make prod-smoke: run Crisis Classroom the way a school does (gunicorn with
# deploy/gunicorn.conf.py, DEBUG=False, whitenoise, PostgreSQL, behind a TLS proxy) on a
# free port on 127.0.0.1, then check it over HTTP (scripts/prod_smoke_checks.py).
#
# The requests carry X-Forwarded-Proto: https as nginx would, so the proxy settings
# (SECURE_PROXY_SSL_HEADER=True, PROXY_COUNT=1) are what is tested.
#
#   SMOKE_DATABASE_URL  throwaway database, dropped and recreated, dropped again at the end
#                       (default postgres://postgres@127.0.0.1:5432/crisis_smoke_<pid>; never
#                       read from DATABASE_URL, so a real database cannot be wiped by mistake)
#   SMOKE_READY_TIMEOUT seconds to wait for /readyz (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_pg.sh
. scripts/_pg.sh
# shellcheck source=scripts/_serve.sh
. scripts/_serve.sh

PY=${VENV:-.venv}/bin/python
GUNICORN=${VENV:-.venv}/bin/gunicorn
DB_URL=${SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crisis_smoke_$$}
READY_TIMEOUT=${SMOKE_READY_TIMEOUT:-30}

say() { printf '[prod-smoke] %s\n' "$*"; }
die() {
  printf '[prod-smoke] FAIL: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/crisis-smoke.XXXXXX")
server_pid=""
db_created=""

cleanup() {
  local status=$?
  set +e
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping gunicorn (pid $server_pid)"
    stop_process "$server_pid"
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/gunicorn.log" ]; then
    echo "--- last lines of the gunicorn log ---" >&2
    tail -n 40 "$work/gunicorn.log" >&2
  fi
  [ -n "$db_created" ] && pg_drop_db "$DB_URL"
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PY" ] || die "$PY not found: run make install first"
[ -x "$GUNICORN" ] || die "$GUNICORN not found: run make install first"
pg_require_server "$DB_URL" || die "start PostgreSQL or set SMOKE_DATABASE_URL"

port=$(free_port)
secret_key=$(new_secret_key)

# Only what a production environment file would hold: nothing leaks in from the caller.
app_env=(
  env -i "PATH=$PATH" "HOME=$HOME" LANG=C.UTF-8
  DEBUG=False "SECRET_KEY=$secret_key" "DATABASE_URL=$DB_URL"
  ALLOWED_HOSTS=127.0.0.1,localhost
  SECURE_PROXY_SSL_HEADER=True SECURE_SSL_REDIRECT=True PROXY_COUNT=1
  "VAR_DIR=$work/var" "STATIC_ROOT=$work/staticfiles"
  "GUNICORN_BIND=127.0.0.1:$port" GUNICORN_WORKERS=2 GUNICORN_THREADS=2
)
manage() { "${app_env[@]}" "$PY" manage.py "$@"; }

say "fresh database $(pg_db_name "$DB_URL")"
pg_reset_db "$DB_URL"
db_created=1

prepare_demo_site

say "gunicorn on 127.0.0.1:$port with deploy/gunicorn.conf.py"
"${app_env[@]}" "$GUNICORN" --config deploy/gunicorn.conf.py >"$work/gunicorn.log" 2>&1 &
server_pid=$!

wait_ready "$port" "$server_pid" "$READY_TIMEOUT"

"$PY" scripts/prod_smoke_checks.py "http://127.0.0.1:$port"
