#!/usr/bin/env bash
# Run a manage.py command as the service user with the service's environment, e.g.
#   sudo /srv/crisis-classroom/deploy/manage.sh migrate
#   sudo /srv/crisis-classroom/deploy/manage.sh create_head dana.ross --first-name Dana --last-name Ross
# Run it as root (it switches to the service user) or as that user. APP_DIR, ENV_FILE and
# APP_USER override the defaults below.
set -euo pipefail

APP_DIR=${APP_DIR:-/srv/crisis-classroom}
ENV_FILE=${ENV_FILE:-/etc/crisis-classroom/env}
APP_USER=${APP_USER:-crisis}

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]   (a manage.py command, run as $APP_USER)" >&2
  exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
  as_app_user=(runuser -u "$APP_USER" --)
elif [ "$(id -un)" = "$APP_USER" ]; then
  as_app_user=()
else
  echo "Run this as root (sudo) or as $APP_USER." >&2
  exit 1
fi
if [ ! -r "$ENV_FILE" ]; then
  echo "Cannot read $ENV_FILE (see docs/self-hosting.md)." >&2
  exit 1
fi

cd "$APP_DIR"
# A clean environment: only the environment file's variables reach the app, as under systemd.
# shellcheck disable=SC2016  # $ENV_FILE expands in the inner shell, on purpose
exec "${as_app_user[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 ENV_FILE="$ENV_FILE" \
  bash -c 'set -a; . "$ENV_FILE"; set +a; exec .venv/bin/python manage.py "$@"' manage.py "$@"
