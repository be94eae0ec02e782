# Helpers for the scripts that serve the app with gunicorn on a throwaway database
# (prod_smoke.sh, two_nodes.sh, bench/load_test.sh). Sourced, not run; the caller defines
# say, die, $PY, $work (a scratch directory) and manage (manage.py with the app's environment).

# A TCP port nobody is listening on, on 127.0.0.1.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

new_secret_key() {
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(64))'
}

# logged NAME COMMAND...: run COMMAND with its output in $work/NAME.log; on failure show the
# log and die naming the step.
logged() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; die "$name"; }
}

# The demo site on an empty database: tables, static files, the unit, the comment bank and
# seed_demo's school (its published password, so --force: this database is thrown away).
prepare_demo_site() {
  say "migrate, collectstatic, load_unit, load_comment_bank, seed_demo --force"
  logged migrate manage migrate --noinput
  logged collectstatic manage collectstatic --noinput
  logged load_unit manage load_unit
  logged load_comment_bank manage load_comment_bank
  logged seed_demo manage seed_demo --force
}

# wait_ready PORT PID TIMEOUT: until http://127.0.0.1:PORT/readyz answers 200; dies if
# PID exits first or TIMEOUT seconds pass.
wait_ready() {
  local port=$1 pid=$2 timeout=$3
  local started=$SECONDS
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "gunicorn on port $port exited before it was ready"
    [ "$SECONDS" -lt $((started + timeout)) ] || die "/readyz on port $port did not answer 200 within ${timeout}s"
    sleep 0.5
  done
  say "port $port ready after $((SECONDS - started))s"
}

# stop_process PID: SIGTERM, up to 15 s to finish, then SIGKILL; quiet if it has gone.
stop_process() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 75); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
