"""Gunicorn settings for Crisis Classroom behind a reverse proxy on the same machine.

    gunicorn --config deploy/gunicorn.conf.py

(run from the project directory; deploy/crisis-classroom.service does exactly this).
Every value a school may need to change is read from a GUNICORN_* environment variable,
so /etc/crisis-classroom/env is the only file to edit; the defaults suit one small
server behind deploy/nginx-crisis-classroom.conf.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}.")
    return value


wsgi_app = "crisis.wsgi:application"
proc_name = "crisis-classroom"

# Loopback only: nginx is the one door in. A Unix socket works too: unix:/run/crisis-classroom/app.sock
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]

# Threads suit this app: requests mostly wait on PostgreSQL, and a class autosaving essays
# at once is many short requests. Processes scale with cores, capped so that
# workers x threads stays well below PostgreSQL's default 100 connections (CONN_MAX_AGE
# keeps one connection per thread).
_cores = os.cpu_count() or 1
workers = _int("GUNICORN_WORKERS", min(2 * _cores + 1, 9))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request that takes longer than this has gone wrong; the worker is replaced. nginx's
# proxy_read_timeout is longer, so the pupil sees the app's error page, not a proxy one.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On restart or stop, requests in flight (an essay being submitted) get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps upstream connections open (keepalive in its upstream block).
keepalive = 5

# Replace each worker after about a thousand requests (jittered so they do not all restart
# together): a cheap guard against slow memory growth during a long term.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max(1, max_requests // 10)

# The heartbeat file must live in memory, not on disk, or a busy disk stalls workers.
# systemd gives the service /run/crisis-classroom (RuntimeDirectory=) for it.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn makes its heartbeat file there with mkstemp
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (_SHM if os.path.isdir(_SHM) else None)

# Trust X-Forwarded-Proto only from the local proxy. Django reads the same header itself
# (SECURE_PROXY_SSL_HEADER=True); nginx overwrites whatever the browser sent.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Logs go to stdout/stderr, which systemd's journal collects (journalctl -u crisis-classroom).
# The pupil's address is the one nginx put in X-Forwarded-For; %(M)s is milliseconds taken.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Gunicorn's control socket would be created under the service user's home, which the
# hardened unit makes read-only; systemctl reload/restart are the controls we use.
control_socket_disable = True
