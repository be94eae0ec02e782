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
# nginx keeps upstream connections open (keepalive in its upstream block). Idle ones are
# closed after this many seconds; nginx's own upstream keepalive_timeout is shorter (4 s in
# deploy/nginx-crisis-classroom.conf), so nginx always closes first: if gunicorn closed an
# idle connection first, a request nginx sent on it at that moment would fail, and a POST
# (an autosave) is not resent. Not much longer: a kept-alive connection stays with its
# worker, and short-lived ones spread the load over the workers.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# The master loads the app once and each worker starts as a copy of it (fork): replacing a
# worker (below) then costs a fork, not a fresh import of Django and the app (most of a
# second of CPU, which the other worker's requests wait through on a small server), and the
# workers share the loaded code's memory. Nothing connects to the database or the cache
# while loading, so no connection is shared. Because the code is loaded once,
# `systemctl reload` starts new workers from the code already loaded: after an upgrade,
# `systemctl restart` (docs/self-hosting.md, "Upgrades"). GUNICORN_PRELOAD=0 turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")

# Replace each worker after 10,000 to 15,000 requests (spread so that workers do not restart
# together): a cheap guard against slow memory growth during a long term. Not much more often:
# a replaced worker stops taking new connections up to `keepalive` seconds before it exits
# (it answers requests on its kept-alive connections until they close: post_fork, below),
# and on a small server with few workers the others take its share meanwhile. At 1,000, a
# school-wide load test replaced a worker every 15 s, and the slowest requests were those
# waiting for one.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10_000)
max_requests_jitter = max(1, max_requests // 2)

# A kept-alive connection stays with the worker that accepted it, and a replaced worker's
# connections all reconnect to the others; left alone, one worker ends up holding most of
# nginx's kept-alive connections (or a load tester's) while another waits idle. Ending each
# connection after this many requests sends the next one back to the listening socket,
# where whichever worker's loop gets to it first accepts it. A new connection on the same machine
# costs a fraction of a millisecond.
keepalive_requests = _int("GUNICORN_KEEPALIVE_REQUESTS", 100)


def pre_request(worker: object, req: object) -> None:
    """Gunicorn's hook before each request: the last request a connection may carry closes it."""
    worker.log.debug("%s %s", req.method, req.path)  # type: ignore[attr-defined] # as gunicorn's own hook
    if getattr(req, "req_number", 1) >= keepalive_requests:
        req.must_close = True  # type: ignore[attr-defined]


def post_fork(server: object, worker: object) -> None:
    """Gunicorn's hook in each new worker: a stopping worker keeps its idle connections as long as
    a running one would.

    A worker stops when it is replaced (max_requests, above) or on `systemctl reload`. Gunicorn
    then closes its idle kept-alive connections after two seconds, whenever they last carried a
    request; a request that nginx (or a load tester) sends on one at that instant is cut off with
    no answer, and an autosave (a POST) is not resent. With the linger as long as the keepalive
    timeout, an idle connection closes when it would have anyway, after `keepalive` seconds idle,
    by which time nginx, whose upstream keepalive_timeout is shorter, has closed it; a request
    that arrives on one meanwhile is answered, with "Connection: close". The stopping worker may
    take up to `keepalive` seconds longer to exit; the others serve new connections meanwhile.
    """
    from gunicorn.workers import gthread

    if hasattr(gthread, "STOP_KEEPALIVE_LINGER"):
        gthread.STOP_KEEPALIVE_LINGER = float(keepalive)
    else:  # a gunicorn without the setting: say so rather than pretend
        worker.log.warning("gunicorn.workers.gthread has no STOP_KEEPALIVE_LINGER to set")  # type: ignore[attr-defined]


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
