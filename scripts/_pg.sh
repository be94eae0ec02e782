# Helpers for the scripts that make throwaway PostgreSQL databases. Sourced, not run.
# A database URL here is postgres://user[:password]@host:port/name (no query string).

# The URL without its database name, e.g. postgres://postgres@127.0.0.1:5432
pg_server_url() { printf '%s' "${1%/*}"; }

# The database name at the end of the URL.
pg_db_name() {
  local name=${1##*/}
  name=${name%%\?*}
  if ! [[ $name =~ ^[a-z][a-z0-9_]{0,62}$ ]]; then
    echo "Refusing database name '$name': use lower-case letters, digits and _ only." >&2
    return 1
  fi
  printf '%s' "$name"
}

# Run SQL on the server's maintenance database.
pg_admin_sql() {
  PGOPTIONS='-c client_min_messages=warning' psql "$(pg_server_url "$1")/postgres" -v ON_ERROR_STOP=1 -qAt -c "$2"
}

# Drop (disconnecting anyone still attached) and create an empty database.
pg_reset_db() {
  local name
  name=$(pg_db_name "$1")
  pg_admin_sql "$1" "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
  pg_admin_sql "$1" "CREATE DATABASE \"$name\""
}

pg_drop_db() {
  local name
  name=$(pg_db_name "$1")
  pg_admin_sql "$1" "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
}

# Fail with a clear message when the server does not answer.
pg_require_server() {
  if ! pg_admin_sql "$1" "SELECT 1" >/dev/null; then
    echo "PostgreSQL at $(pg_server_url "$1" | sed -E 's#//([^:@/]*):[^@]*@#//\1:***@#') does not answer." >&2
    return 1
  fi
}
