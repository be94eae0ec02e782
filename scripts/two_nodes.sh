#!/usr/bin/env bash
# make two-nodes: two app nodes on one database and one Redis, as docs/scaling.md describes,
# and proof over HTTP that neither keeps anything of its own (scripts/two_nodes_checks.py):
# a log-in made on one works on the other, login lock-outs and the cache are shared, an
# autosave conflict is caught across them, and stopping a node in the middle of autosaves
# (SIGTERM, then SIGKILL of all its processes) loses no save it had acknowledged.
#
# Both nodes are gunicorn with deploy/gunicorn.conf.py, DEBUG=False, the same SECRET_KEY,
# DATABASE_URL and CACHE_URL, behind a pretend nginx (X-Forwarded-Proto and X-Forwarded-For
# as deploy/nginx-crisis-classroom.conf sends them). Node B uses the connection pool
# (DB_POOL_MAX_SIZE), node A persistent connections (CONN_MAX_AGE), so both are exercised.
#
#   TWO_NODES_DATABASE_URL  throwaway database, dropped and recreated, dropped again at the end
#                           (default postgres://postgres@127.0.0.1:5432/crisis_two_nodes_<pid>)
#   TWO_NODES_READY_TIMEOUT seconds to wait for a node's /readyz (default 30)
#   REDIS_SERVER            the redis-server program (default: redis-server on the PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_pg.sh
. scripts/_pg.sh
# shellcheck source=scripts/_serve.sh
. scripts/_serve.sh

PY=${VENV:-.venv}/bin/python
GUNICORN=${VENV:-.venv}/bin/gunicorn
DB_URL=${TWO_NODES_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crisis_two_nodes_$$}
READY_TIMEOUT=${TWO_NODES_READY_TIMEOUT:-30}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
FAILURE_LIMIT=6

say() { printf '[two-nodes] %s\n' "$*"; }
die() {
  printf '[two-nodes] FAIL: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/crisis-two-nodes.XXXXXX")
node_a_pid=""
node_b_pid=""
redis_pid=""
db_created=""

cleanup() {
  local status=$?
  set +e
  for pid in "$node_a_pid" "$node_b_pid"; do
    [ -n "$pid" ] && stop_process "$pid"
  done
  # A node stopped with SIGKILL leaves no master to reap its workers; they are in its group.
  for pid in "$node_a_pid" "$node_b_pid"; do
    [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null
  done
  [ -n "$redis_pid" ] && stop_process "$redis_pid"
  if [ "$status" -ne 0 ]; then
    for log in node-a node-b redis; do
      [ -s "$work/$log.log" ] || continue
      echo "--- last lines of $log.log ---" >&2
      tail -n 25 "$work/$log.log" >&2
    done
  fi
  [ -n "$db_created" ] && pg_drop_db "$DB_URL"
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PY" ] || die "$PY not found: run make install first"
[ -x "$GUNICORN" ] || die "$GUNICORN not found: run make install first"
[ -n "$REDIS_SERVER" ] || die "redis-server not found: apt-get install redis-server (or set REDIS_SERVER)"
command -v setsid >/dev/null || die "setsid not found (util-linux)"
pg_require_server "$DB_URL" || die "start PostgreSQL or set TWO_NODES_DATABASE_URL"

redis_port=$(free_port)
port_a=$(free_port)
port_b=$(free_port)
[ "$port_a" != "$port_b" ] || port_b=$(free_port)
secret_key=$(new_secret_key)

say "redis-server on 127.0.0.1:$redis_port (no persistence)"
"$REDIS_SERVER" --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" \
  --protected-mode yes >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 50); do
  "$PY" -c "import redis, sys; sys.exit(0 if redis.Redis(port=$redis_port).ping() else 1)" 2>/dev/null && break
  kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited at start"
  sleep 0.2
done

# What each node's environment file would hold; only GUNICORN_BIND and the connection
# settings differ.
app_env=(
  env -i "PATH=$PATH" "HOME=$HOME" LANG=C.UTF-8
  DEBUG=False "SECRET_KEY=$secret_key" "DATABASE_URL=$DB_URL" "CACHE_URL=redis://127.0.0.1:$redis_port/0"
  ALLOWED_HOSTS=127.0.0.1,localhost
  SECURE_PROXY_SSL_HEADER=True SECURE_SSL_REDIRECT=True PROXY_COUNT=1
  "LOGIN_FAILURE_LIMIT=$FAILURE_LIMIT"
  "VAR_DIR=$work/var" "STATIC_ROOT=$work/staticfiles"
  GUNICORN_WORKERS=2 GUNICORN_THREADS=2 GUNICORN_GRACEFUL_TIMEOUT=10
)
manage() { "${app_env[@]}" "$PY" manage.py "$@"; }

say "fresh database $(pg_db_name "$DB_URL")"
pg_reset_db "$DB_URL"
db_created=1
prepare_demo_site

# Each node leads its own process group (setsid), so SIGKILL can take a whole node at once.
start_node_a() {
  "${app_env[@]}" CONN_MAX_AGE=600 "GUNICORN_BIND=127.0.0.1:$port_a" \
    setsid "$GUNICORN" --config deploy/gunicorn.conf.py >>"$work/node-a.log" 2>&1 &
  node_a_pid=$!
  wait_ready "$port_a" "$node_a_pid" "$READY_TIMEOUT"
}
start_node_b() {
  "${app_env[@]}" DB_POOL_MAX_SIZE=4 "GUNICORN_BIND=127.0.0.1:$port_b" \
    setsid "$GUNICORN" --config deploy/gunicorn.conf.py >>"$work/node-b.log" 2>&1 &
  node_b_pid=$!
  wait_ready "$port_b" "$node_b_pid" "$READY_TIMEOUT"
}

say "node A on 127.0.0.1:$port_a (CONN_MAX_AGE), node B on 127.0.0.1:$port_b (DB_POOL_MAX_SIZE=4)"
start_node_a
start_node_b

checks=("$PY" scripts/two_nodes_checks.py "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b"
  --redis-port "$redis_port" --failure-limit "$FAILURE_LIMIT")

"${checks[@]}" shared || die "the nodes do not share their state"
if command -v redis-cli >/dev/null; then
  say "redis-cli: $(redis-cli -p "$redis_port" dbsize) key(s): $(redis-cli -p "$redis_port" --no-raw keys '*' | tr '\n' ' ')"
fi

"${checks[@]}" stop-node-a --signal TERM --pid "$node_a_pid" || die "saves were lost when node A was stopped (SIGTERM)"
wait "$node_a_pid" 2>/dev/null || true
say "node A stopped; starting it again for the SIGKILL round"
start_node_a

"${checks[@]}" stop-node-a --signal KILL --pid "$node_a_pid" || die "saves were lost when node A was killed (SIGKILL)"
wait "$node_a_pid" 2>/dev/null || true
node_a_pid=""

say "passed"
