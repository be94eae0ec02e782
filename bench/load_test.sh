#!/usr/bin/env bash
# make load-test: pupils writing and teachers marking (bench/locustfile.py), against the app
# served the production way (gunicorn with deploy/gunicorn.conf.py, DEBUG=False, whitenoise)
# on a throwaway PostgreSQL database filled by `seed_school`. Prints p50/p95/p99 per endpoint
# from Locust's CSV statistics (bench/load_report.py); exits non-zero on any failed request.
#
#   bench/load_test.sh [--pupils N] [--teachers N] [--spawn-rate N] [--duration SECONDS]
#                      [--students N] [--classes N] [--assignments N] [--workers N]
#
# Defaults: 200 pupils and 5 teachers for 60 s, arriving 5 a second, on a seeded school of
# 1,500 students in 60 classes with 12 assignments each, 2 gunicorn workers of 4 threads.
# The numbers are this machine's; docs/scaling.md says how to read them.
#
#   LOAD_DATABASE_URL  throwaway database, dropped and recreated, dropped again at the end
#                      (default postgres://postgres@127.0.0.1:5432/crisis_load_<pid>)
#   LOAD_RESULTS       a directory to keep Locust's CSV files and the gunicorn log in
#   BENCH_VENV         the virtualenv with Locust (default .venv-bench; make load-test makes it)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_pg.sh
. scripts/_pg.sh
# shellcheck source=scripts/_serve.sh
. scripts/_serve.sh

PY=${VENV:-.venv}/bin/python
GUNICORN=${VENV:-.venv}/bin/gunicorn
LOCUST=${BENCH_VENV:-.venv-bench}/bin/locust
DB_URL=${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crisis_load_$$}

pupils=200 teachers=5 spawn_rate=5 duration=60 students=1500 classes=60 assignments=12 workers=2
while [ $# -gt 0 ]; do
  case $1 in
    --pupils) pupils=$2 ;;
    --teachers) teachers=$2 ;;
    --spawn-rate) spawn_rate=$2 ;;
    --duration) duration=$2 ;;
    --students) students=$2 ;;
    --classes) classes=$2 ;;
    --assignments) assignments=$2 ;;
    --workers) workers=$2 ;;
    *)
      echo "unknown option $1 (see the top of $0)" >&2
      exit 2
      ;;
  esac
  shift 2 || { echo "$1 needs a value" >&2; exit 2; }
done

say() { printf '[load-test] %s\n' "$*"; }
die() {
  printf '[load-test] FAIL: %s\n' "$*" >&2
  exit 1
}

for number in "$pupils" "$teachers" "$spawn_rate" "$duration" "$students" "$classes" "$assignments" "$workers"; do
  [[ $number =~ ^[0-9]+$ ]] || die "options take whole numbers, not '$number'"
done
[ "$students" -ge "$pupils" ] || die "--students ($students) must be at least --pupils ($pupils): one account each"
[ "$classes" -ge $((3 * teachers)) ] || die "--classes ($classes) must be at least 3 x --teachers: seed_school gives each teacher 3"

work=$(mktemp -d "${TMPDIR:-/tmp}/crisis-load.XXXXXX")
server_pid=""
db_created=""

cleanup() {
  local status=$?
  set +e
  [ -n "$server_pid" ] && stop_process "$server_pid"
  if [ -n "${LOAD_RESULTS:-}" ]; then
    mkdir -p "$LOAD_RESULTS" && cp "$work"/stats_*.csv "$work/gunicorn.log" "$LOAD_RESULTS"/ 2>/dev/null
  fi
  if [ "$status" -ne 0 ] && [ -s "$work/gunicorn.log" ]; then
    echo "--- errors in the gunicorn log ---" >&2
    grep -E 'ERROR|Traceback|" 5[0-9][0-9] ' "$work/gunicorn.log" | tail -n 20 >&2
  fi
  [ -n "$db_created" ] && pg_drop_db "$DB_URL"
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PY" ] || die "$PY not found: run make install first"
[ -x "$LOCUST" ] || die "$LOCUST not found: make load-test installs bench/requirements.txt there"
pg_require_server "$DB_URL" || die "start PostgreSQL or set LOAD_DATABASE_URL"

port=$(free_port)
# Production settings over plain HTTP on 127.0.0.1 (no TLS proxy in front of Locust).
app_env=(
  env -i "PATH=$PATH" "HOME=$HOME" LANG=C.UTF-8
  DEBUG=False "SECRET_KEY=$(new_secret_key)" "DATABASE_URL=$DB_URL"
  ALLOWED_HOSTS=127.0.0.1,localhost
  SECURE_SSL_REDIRECT=False SESSION_COOKIE_SECURE=False CSRF_COOKIE_SECURE=False
  "VAR_DIR=$work/var" "STATIC_ROOT=$work/staticfiles"
  "GUNICORN_BIND=127.0.0.1:$port" "GUNICORN_WORKERS=$workers"
)
# gunicorn settings to compare, if given (deploy/gunicorn.conf.py's defaults otherwise).
for name in GUNICORN_THREADS GUNICORN_MAX_REQUESTS GUNICORN_PRELOAD GUNICORN_KEEPALIVE_REQUESTS; do
  if [ -n "${!name:-}" ]; then app_env+=("$name=${!name}"); fi
done
manage() { "${app_env[@]}" "$PY" manage.py "$@"; }

say "fresh database $(pg_db_name "$DB_URL")"
pg_reset_db "$DB_URL"
db_created=1
say "migrate, collectstatic, load_unit; seed_school --students $students --classes $classes --assignments $assignments"
logged migrate manage migrate --noinput
logged collectstatic manage collectstatic --noinput
logged load_unit manage load_unit
logged seed_school manage seed_school --students "$students" --classes "$classes" --assignments "$assignments" --force
tail -n 1 "$work/seed_school.log"
# Planner statistics for the new rows, as autovacuum would gather soon after on a school's server.
logged analyze manage shell --no-imports -c "from django.db import connection; connection.cursor().execute('ANALYZE')"
manage shell --no-imports --verbosity 0 <bench/load_plan.py >"$work/plan.json" 2>"$work/plan.log" \
  || { cat "$work/plan.log" >&2; die "load_plan"; }
"$PY" - "$work/plan.json" "$pupils" <<'CHECK' || die "the plan (bench/load_plan.py) does not fit the seeded school"
import json, sys
plan = json.load(open(sys.argv[1], encoding="utf-8"))
pupils, teachers = len(plan["pupils"]), len(plan["teachers"])
print(f"[load-test] plan: {pupils} pupils with an open essay, {teachers} teachers with essays to mark")
sys.exit(0 if pupils >= int(sys.argv[2]) and teachers else 1)
CHECK

say "gunicorn ($workers workers) on 127.0.0.1:$port"
"${app_env[@]}" "$GUNICORN" --config deploy/gunicorn.conf.py >"$work/gunicorn.log" 2>&1 &
server_pid=$!
wait_ready "$port" "$server_pid" 30

say "Locust: $pupils pupils and $teachers teachers, $spawn_rate a second, for ${duration}s"
locust_status=0
LOAD_PLAN="$work/plan.json" LOAD_TEACHERS="$teachers" "$LOCUST" -f bench/locustfile.py --headless \
  --host "http://127.0.0.1:$port" --users $((pupils + teachers)) --spawn-rate "$spawn_rate" \
  --run-time "${duration}s" --stop-timeout 15 --csv "$work/stats" --only-summary --loglevel WARNING \
  >"$work/locust.log" 2>&1 || locust_status=$?
if [ ! -s "$work/stats_stats.csv" ]; then
  tail -n 30 "$work/locust.log" >&2
  die "Locust did not run (exit status $locust_status)"
fi
"$PY" bench/load_report.py "$work/stats" --require autosave --require "mark autosave" --require markbook \
  || die "requests failed or were never made (above)"
[ "$locust_status" -eq 0 ] || { tail -n 30 "$work/locust.log" >&2; die "Locust exited with $locust_status"; }
say "passed"
